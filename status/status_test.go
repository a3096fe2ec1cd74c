package status

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
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

func node(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func pod(name, nodeName string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: name, Labels: labels}, Spec: corev1.PodSpec{NodeName: nodeName}}
}

var envoyLabels = map[string]string{"app": "envoy"}

// publishCluster is a Service rukou-envoy whose pods run on nodes a and b,
// and a pod of another app on c.
func publishCluster() *fake.Clientset {
	return fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: "rukou-envoy"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: envoyLabels}},
		node("a", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.1"}),
		node("b", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}),
		node("c", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.3"}),
		pod("e1", "a", envoyLabels), pod("e2", "b", envoyLabels), pod("e3", "b", envoyLabels), pod("other", "c", map[string]string{"app": "web"}),
	)
}

// startPublishService starts p's informers and waits until they have synced.
func startPublishService(t *testing.T, p *PublishService) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p.Start(ctx)
	sync, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(sync.Done(), p.HasSynced) {
		t.Fatal("the publish service informers did not sync within 10 s")
	}
}

func TestPublishServiceUsesNodesOfSelectedPods(t *testing.T) {
	client := publishCluster()
	p := NewPublishService(client, "rukou-system", "rukou-envoy")
	startPublishService(t, p)
	got, err := p.Addresses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := describe(got); len(d) != 2 || d[0] != "10.0.0.2" || d[1] != "203.0.113.1" {
		t.Errorf("addresses %v, want [10.0.0.2 203.0.113.1]: ExternalIP before InternalIP, each node once, only nodes of selected pods", d)
	}

	lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: "lb"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: envoyLabels}}
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
	if _, err := client.CoreV1().Services("rukou-system").Create(context.Background(), lb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lbp := NewPublishService(client, "rukou-system", "lb")
	startPublishService(t, lbp)
	got, err = lbp.Addresses(context.Background())
	if err != nil || len(got) != 1 || got[0].Hostname != "lb.example.com" {
		t.Errorf("a load balancer's own address comes first: got %v, %v", got, err)
	}
}

// TestPublishServiceFollowsChanges: a pod on a new node, and a load balancer
// address, change the addresses and call Changed.
func TestPublishServiceFollowsChanges(t *testing.T) {
	client := publishCluster()
	p := NewPublishService(client, "rukou-system", "rukou-envoy")
	changed := make(chan struct{}, 1)
	p.Changed = func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	startPublishService(t, p)
	ctx := context.Background()
	expect := func(what string, want ...string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			got, err := p.Addresses(ctx)
			if err == nil && slices.Equal(describe(got), want) {
				return
			}
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("%s: addresses %v (%v), want %v", what, describe(got), err, want)
			}
		}
	}
	expect("at start", "10.0.0.2", "203.0.113.1")

	if _, err := client.CoreV1().Pods("rukou-system").Create(ctx, pod("e4", "c", envoyLabels), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("after an Envoy pod started on node c", "10.0.0.2", "203.0.113.1", "203.0.113.3")

	svc, err := client.CoreV1().Services("rukou-system").Get(ctx, "rukou-envoy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.7"}}
	if _, err := client.CoreV1().Services("rukou-system").UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("after the Service got a load balancer address", "198.51.100.7")
}

// TestSyncReadsNothingPerRebuild: after the informers' first list and
// watch, a status sync per rebuild sends no GET or LIST to the API server;
// only the writes that change something.
func TestSyncReadsNothingPerRebuild(t *testing.T) {
	client := publishCluster()
	ing := ingress("web")
	if _, err := client.NetworkingV1().Ingresses("default").Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := NewPublishService(client, "rukou-system", "rukou-envoy")
	startPublishService(t, p)
	client.ClearActions()

	w := &Writer{Client: client, Addresses: p, Log: discard()}
	statuses := []frontend.Status{statusOf("web", true)}
	ingresses := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	for range 10 {
		// What the informer would hold: the Ingress as written so far (the
		// tracker is read directly, without recording an action).
		obj, err := client.Tracker().Get(ingresses, "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(context.Background(), []*networkingv1.Ingress{obj.(*networkingv1.Ingress)}, statuses); err != nil {
			t.Fatal(err)
		}
	}
	var calls []string
	for _, a := range client.Actions() {
		calls = append(calls, a.GetVerb()+" "+a.GetResource().Resource+"/"+a.GetSubresource())
	}
	if !slices.Equal(calls, []string{"update ingresses/status"}) {
		t.Errorf("10 syncs made API calls %q; want one status update and no reads", calls)
	}
}

// TestWriterRetriesOnConflict: a status write that meets a newer Ingress
// reads it again and retries.
func TestWriterRetriesOnConflict(t *testing.T) {
	ing := ingress("web")
	client := fake.NewClientset(ing)
	conflicts := 1
	client.PrependReactor("update", "ingresses", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, "web", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	written := 0
	w := &Writer{Client: client, Addresses: Static{"192.0.2.1"}, Log: discard(), Written: func() { written++ }}
	if err := w.Sync(context.Background(), []*networkingv1.Ingress{ing}, []frontend.Status{statusOf("web", true)}); err != nil {
		t.Fatalf("Sync after one conflict: %v", err)
	}
	got, err := client.NetworkingV1().Ingresses("default").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := describe(got.Status.LoadBalancer.Ingress); !slices.Equal(d, []string{"192.0.2.1"}) || written != 1 {
		t.Errorf("after a conflict: status %v, %d writes; want [192.0.2.1] written once", d, written)
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
		e.Record(ingresses, statuses, nil, nil)
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
	e.Record(ingresses, statuses, nil, nil)
	if got := drain(rec); len(got) != 1 {
		t.Errorf("after a spec change: %d Events, want 1: %v", len(got), got)
	}
	t.Log("Ingresses that are not rukou's get no Events")
	e.Record([]*networkingv1.Ingress{ingress("theirs")}, []frontend.Status{statusOf("theirs", false)}, nil, nil)
	if got := drain(rec); len(got) != 0 {
		t.Errorf("an Ingress of another class got Events: %v", got)
	}
}

// TestEventsOnTheConfigMap: a ConfigMap key that is not applied as written
// gets a Warning on the ConfigMap, once per change of the ConfigMap; other
// ConfigMaps get none.
func TestEventsOnTheConfigMap(t *testing.T) {
	rec := record.NewFakeRecorder(100)
	e := &Events{Recorder: rec}
	settings := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: "rukou", ResourceVersion: "1"}}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "rukou-system", Name: "other", ResourceVersion: "1"}}
	diags := []ir.Diagnostic{
		{Kind: "ConfigMap", Namespace: "rukou-system", Name: "rukou", Field: "data[hsts]", Reason: ir.ReasonInvalidConfigValue, Message: `"maybe" is not true or false; using true`},
		{Kind: "Ingress", Namespace: "rukou-system", Name: "rukou", Reason: ir.ReasonServiceNotFound, Message: "not about the ConfigMap"},
	}
	for range 3 {
		e.Record(nil, nil, []*corev1.ConfigMap{settings, other}, diags)
	}
	if got := drain(rec); !slices.Equal(got, []string{`Warning InvalidConfigValue data[hsts]: "maybe" is not true or false; using true`}) {
		t.Fatalf("three rebuilds gave Events %q, want the one Warning", got)
	}
	t.Log("a changed ConfigMap that still holds the value is warned about again")
	settings.ResourceVersion = "2"
	e.Record(nil, nil, []*corev1.ConfigMap{settings, other}, diags)
	if got := drain(rec); len(got) != 1 {
		t.Errorf("after a change: %d Events, want 1: %v", len(got), got)
	}
	t.Log("a fixed ConfigMap gets no Event; broken again, it is warned about again")
	e.Record(nil, nil, []*corev1.ConfigMap{settings, other}, nil)
	e.Record(nil, nil, []*corev1.ConfigMap{settings, other}, diags)
	if got := drain(rec); len(got) != 1 {
		t.Errorf("after a fix and a relapse: %d Events, want 1: %v", len(got), got)
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
