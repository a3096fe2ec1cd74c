package status

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	frontend "github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/ir"
)

func ingress(name string, addrs ...string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Generation: 1}}
	for _, a := range addrs {
		ing.Status.LoadBalancer.Ingress = append(ing.Status.LoadBalancer.Ingress, lbIngress(a))
	}
	return ing
}

func statusOf(name string, owned bool, diags ...ir.Diagnostic) frontend.Status {
	return frontend.Status{Namespace: "default", Name: name, Owned: owned, Accepted: owned && len(diags) == 0, Diagnostics: diags, Hosts: []string{name + ".example"}}
}

func TestWriterSync(t *testing.T) {
	ours, theirs := ingress("ours"), ingress("theirs", "198.51.100.9")
	stale := ingress("stale", "192.0.2.1", "lb.example.com") // ours before its class changed
	current := ingress("current", "192.0.2.1", "lb.example.com")
	client := fake.NewClientset(ours, theirs, stale, current)
	written := 0
	w := &Writer{Client: client, Addresses: Static{"lb.example.com", "192.0.2.1"}, Log: discard(), Written: func() { written++ }}
	ingresses := []*networkingv1.Ingress{ours, theirs, stale, current}
	statuses := []frontend.Status{statusOf("ours", true), statusOf("theirs", false), statusOf("stale", false), statusOf("current", true)}
	if err := w.Sync(context.Background(), ingresses, statuses); err != nil {
		t.Fatal(err)
	}
	get := func(name string) []string {
		ing, err := client.NetworkingV1().Ingresses("default").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return describe(ing.Status.LoadBalancer.Ingress)
	}
	for name, want := range map[string][]string{
		"ours":    {"192.0.2.1", "lb.example.com"},
		"theirs":  {"198.51.100.9"}, // another controller's address stays
		"stale":   {},               // rukou's address goes when the Ingress is no longer rukou's
		"current": {"192.0.2.1", "lb.example.com"},
	} {
		if got := get(name); !slices.Equal(got, want) {
			t.Errorf("%s: status %v, want %v", name, got, want)
		}
	}
	if written != 2 {
		t.Errorf("%d writes, want 2 (ours and stale; current was already right)", written)
	}
}

func TestPublishServiceUsesNodesOfSelectedPods(t *testing.T) {
	node := func(name string, addrs ...corev1.NodeAddress) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
	}
	pod := func(name, nodeName string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: name, Labels: labels}, Spec: corev1.PodSpec{NodeName: nodeName}}
	}
	envoy := map[string]string{"app": "envoy"}
	client := fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: "rukou-envoy"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: envoy}},
		node("a", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.1"}),
		node("b", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}),
		node("c", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.3"}),
		pod("e1", "a", envoy), pod("e2", "b", envoy), pod("e3", "b", envoy), pod("other", "c", map[string]string{"app": "web"}),
	)
	got, err := (&PublishService{Client: client, Namespace: "rukou-system", Name: "rukou-envoy"}).Addresses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := describe(got); len(d) != 2 || d[0] != "10.0.0.2" || d[1] != "203.0.113.1" {
		t.Errorf("addresses %v, want [10.0.0.2 203.0.113.1]: ExternalIP before InternalIP, each node once, only nodes of selected pods", d)
	}

	lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: "lb"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: envoy}}
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
	if _, err := client.CoreV1().Services("rukou-system").Create(context.Background(), lb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err = (&PublishService{Client: client, Namespace: "rukou-system", Name: "lb"}).Addresses(context.Background())
	if err != nil || len(got) != 1 || got[0].Hostname != "lb.example.com" {
		t.Errorf("a load balancer's own address comes first: got %v, %v", got, err)
	}
}

func TestEventsOncePerChange(t *testing.T) {
	rec := record.NewFakeRecorder(100)
	e := &Events{Recorder: rec}
	broken := ingress("broken")
	good := ingress("good")
	diag := ir.Diagnostic{Kind: "Ingress", Namespace: "default", Name: "broken", Field: "spec.rules[0]", Reason: ir.ReasonServiceNotFound, Message: `service "api" not found`}
	ingresses := []*networkingv1.Ingress{broken, good}
	statuses := []frontend.Status{statusOf("broken", true, diag), statusOf("good", true)}
	for range 3 {
		e.Record(ingresses, statuses)
	}
	events := drain(rec)
	if len(events) != 2 {
		t.Fatalf("three rebuilds gave %d Events, want 2 (one Warning, one Normal): %v", len(events), events)
	}
	if events[0] != `Warning ServiceNotFound spec.rules[0]: service "api" not found` || events[1] != "Normal Accepted served by rukou for hosts good.example" {
		t.Errorf("events: %q", events)
	}

	t.Log("a new generation of the broken Ingress is warned about again")
	broken.Generation = 2
	e.Record(ingresses, statuses)
	if got := drain(rec); len(got) != 1 {
		t.Errorf("after a spec change: %d Events, want 1: %v", len(got), got)
	}
	t.Log("Ingresses that are not rukou's get no Events")
	e.Record([]*networkingv1.Ingress{ingress("theirs")}, []frontend.Status{statusOf("theirs", false)})
	if got := drain(rec); len(got) != 0 {
		t.Errorf("an Ingress of another class got Events: %v", got)
	}
}

func drain(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
