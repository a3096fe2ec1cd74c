package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/rukou/rukou/test/harness"
)

// kube wraps the API calls the cluster-mode tests make, failing the test on
// any error.
type kube struct {
	t  *testing.T
	c  kubernetes.Interface
	cx context.Context
}

func newKube(t *testing.T, c *harness.Cluster) *kube {
	return &kube{t: t, c: c.Client, cx: harness.Context(t)}
}

func (k *kube) create(what string, f func() error) {
	k.t.Helper()
	if err := f(); err != nil {
		k.t.Fatalf("creating %s: %v", what, err)
	}
}

func (k *kube) namespace(name string) {
	k.t.Helper()
	k.create("namespace "+name, func() error {
		_, err := k.c.CoreV1().Namespaces().Create(k.cx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		return err
	})
}

func (k *kube) ingressClass(name string) {
	k.t.Helper()
	k.create("IngressClass "+name, func() error {
		_, err := k.c.NetworkingV1().IngressClasses().Create(k.cx, ingressClass(name, "rukou.io/ingress-controller", false), metav1.CreateOptions{})
		return err
	})
}

// service creates a Service "name" on port 80 → 8080 and its EndpointSlice
// pointing at ip:8080.
func (k *kube) service(namespace, name, ip string) {
	k.t.Helper()
	k.create("Service "+name, func() error {
		_, err := k.c.CoreV1().Services(namespace).Create(k.cx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}, metav1.CreateOptions{})
		return err
	})
	k.create("EndpointSlice "+name, func() error {
		_, err := k.c.DiscoveryV1().EndpointSlices(namespace).Create(k.cx, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
		}, metav1.CreateOptions{})
		return err
	})
}

// ingress creates an Ingress of class className for host / → service.
func (k *kube) ingress(namespace, name, className, host, service string) {
	k.t.Helper()
	ing := ingress(name, rule(host, path(prefix, "/", service)))
	ing.Namespace = namespace
	delete(ing.Annotations, "kubernetes.io/ingress.class")
	ing.Spec.IngressClassName = ptr(className)
	k.create("Ingress "+name, func() error {
		_, err := k.c.NetworkingV1().Ingresses(namespace).Create(k.cx, ing, metav1.CreateOptions{})
		return err
	})
}

func (k *kube) getIngress(namespace, name string) *networkingv1.Ingress {
	k.t.Helper()
	ing, err := k.c.NetworkingV1().Ingresses(namespace).Get(k.cx, name, metav1.GetOptions{})
	if err != nil {
		k.t.Fatal(err)
	}
	return ing
}

// statusOf returns an Ingress's published addresses.
func (k *kube) statusOf(namespace, name string) []string {
	var out []string
	for _, a := range k.getIngress(namespace, name).Status.LoadBalancer.Ingress {
		out = append(out, a.IP+a.Hostname)
	}
	return out
}

func (k *kube) expectStatus(namespace, name string, want ...string) {
	k.t.Helper()
	harness.Eventually(k.t, 20*time.Second, fmt.Sprintf("status of %s/%s is %v", namespace, name, want), func() error {
		if got := k.statusOf(namespace, name); !slices.Equal(got, want) {
			return fmt.Errorf("status is %v", got)
		}
		return nil
	})
}

// metric reads one unlabelled sample from a rukou's /metrics.
func metric(t *testing.T, r *harness.Rukou, name string) float64 {
	t.Helper()
	body, err := r.Ops("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// TestIngressStatus: owned Ingresses get the addresses of the nodes that run
// the publish Service's pods; Ingresses of other classes never get any; an
// Ingress whose class changes away loses rukou's address.
func TestIngressStatus(t *testing.T) {
	cluster := harness.StartCluster(t)
	k := newKube(t, cluster)
	k.namespace("rukou-system")
	k.ingressClass("rukou")
	k.create("ServiceAccount default", func() error {
		// No controller-manager: the pods below need their namespace's
		// default ServiceAccount to pass admission.
		_, err := k.c.CoreV1().ServiceAccounts("rukou-system").Create(k.cx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		return err
	})
	for name, addrs := range map[string][]corev1.NodeAddress{
		"node-a": {{Type: corev1.NodeInternalIP, Address: "10.1.0.1"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.1"}},
		"node-b": {{Type: corev1.NodeInternalIP, Address: "10.1.0.2"}},
		"node-c": {{Type: corev1.NodeExternalIP, Address: "203.0.113.3"}}, // runs no Envoy
	} {
		k.create("Node "+name, func() error {
			n, err := k.c.CoreV1().Nodes().Create(k.cx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			n.Status.Addresses = addrs
			_, err = k.c.CoreV1().Nodes().UpdateStatus(k.cx, n, metav1.UpdateOptions{})
			return err
		})
	}
	for i, node := range []string{"node-a", "node-b", "node-b"} {
		k.create("Envoy pod", func() error {
			_, err := k.c.CoreV1().Pods("rukou-system").Create(k.cx, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("envoy-%d", i), Labels: map[string]string{"app": "rukou-envoy"}},
				Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
					Name: "envoy", Image: "envoyproxy/envoy:v1.40.0",
				}}},
			}, metav1.CreateOptions{})
			return err
		})
	}
	k.create("Service rukou-envoy", func() error {
		_, err := k.c.CoreV1().Services("rukou-system").Create(k.cx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "rukou-envoy"},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeNodePort,
				Selector: map[string]string{"app": "rukou-envoy"},
				Ports: []corev1.ServicePort{
					{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: 30080},
					{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443), NodePort: 30443},
				},
			},
		}, metav1.CreateOptions{})
		return err
	})
	k.service("default", "web", "10.213.0.2")
	k.ingress("default", "ours", "rukou", "ours.example", "web")
	k.ingress("default", "theirs", "nginx", "theirs.example", "web")

	r := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--publish-service", "rukou-system/rukou-envoy")
	k.expectStatus("default", "ours", "10.1.0.2", "203.0.113.1")
	k.ingress("default", "later", "rukou", "later.example", "web")
	k.expectStatus("default", "later", "10.1.0.2", "203.0.113.1")

	t.Run("other_classes_never_get_status", func(t *testing.T) {
		// "later" got its status from a sync that saw "theirs" too.
		if got := k.statusOf("default", "theirs"); len(got) != 0 {
			t.Errorf("an Ingress of another class got status %v", got)
		}
	})
	t.Run("class_change_removes_status", func(t *testing.T) {
		ing := k.getIngress("default", "ours")
		ing.Spec.IngressClassName = ptr("nginx")
		if _, err := k.c.NetworkingV1().Ingresses("default").Update(k.cx, ing, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		k.expectStatus("default", "ours")
	})
	t.Run("nothing_is_written_when_nothing_changed", func(t *testing.T) {
		before := metric(t, r, "rukou_status_writes_total")
		// An unrelated change makes a rebuild and a status sync; a new
		// Ingress then makes one more, which writes its status alone.
		k.service("default", "unrelated", "10.213.0.2")
		k.ingress("default", "fence", "rukou", "fence.example", "web")
		k.expectStatus("default", "fence", "10.1.0.2", "203.0.113.1")
		if after := metric(t, r, "rukou_status_writes_total"); after != before+1 {
			t.Errorf("status writes went from %v to %v with one new Ingress and no address change, want one more", before, after)
		}
	})
	t.Run("publish_status_address_overrides", func(t *testing.T) {
		r.Stop(5 * time.Second)
		harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--publish-service", "rukou-system/rukou-envoy",
			"--publish-status-address", "192.0.2.7,lb.example.com")
		k.expectStatus("default", "later", "192.0.2.7", "lb.example.com")
	})
}

// events lists the Events about one object.
func (k *kube) events(namespace, name string) []corev1.Event {
	k.t.Helper()
	list, err := k.c.CoreV1().Events(namespace).List(k.cx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return list.Items
}

// TestEvents: a broken Ingress gets a Warning Event naming the field and
// reason, once, however many rebuilds follow; a served one gets a Normal
// Event; the controller's ConfigMap gets a Warning Event for a value that
// cannot be used.
func TestEvents(t *testing.T) {
	cluster := harness.StartCluster(t)
	k := newKube(t, cluster)
	k.ingressClass("rukou")
	k.service("default", "web", "10.213.0.2")
	k.ingress("default", "good", "rukou", "good.example", "web")
	k.ingress("default", "broken", "rukou", "broken.example", "no-such-service")
	k.create("ConfigMap default/settings", func() error {
		_, err := k.c.CoreV1().ConfigMaps("default").Create(k.cx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "settings"},
			Data:       map[string]string{"proxy-body-size": "lots"},
		}, metav1.CreateOptions{})
		return err
	})
	r := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--configmap", "default/settings")

	find := func(name, typ, reason string) (corev1.Event, error) {
		for _, e := range k.events("default", name) {
			if e.Type == typ && e.Reason == reason {
				return e, nil
			}
		}
		return corev1.Event{}, fmt.Errorf("no %s %s Event on %s among %d", typ, reason, name, len(k.events("default", name)))
	}
	var warning corev1.Event
	harness.Eventually(t, 20*time.Second, "Warning Event on the broken Ingress", func() error {
		var err error
		warning, err = find("broken", corev1.EventTypeWarning, "ServiceNotFound")
		return err
	})
	if !strings.Contains(warning.Message, "spec.rules[0].http.paths[0].backend.service") || !strings.Contains(warning.Message, "no-such-service") {
		t.Errorf("Warning Event message %q does not name the field and the Service", warning.Message)
	}
	harness.Eventually(t, 20*time.Second, "Normal Event on the good Ingress", func() error {
		_, err := find("good", corev1.EventTypeNormal, "Accepted")
		return err
	})
	if _, err := find("good", corev1.EventTypeWarning, "ServiceNotFound"); err == nil {
		t.Error("the good Ingress got a Warning Event")
	}
	harness.Eventually(t, 20*time.Second, "Warning Event on the ConfigMap", func() error {
		var err error
		warning, err = find("settings", corev1.EventTypeWarning, "InvalidConfigValue")
		return err
	})
	if !strings.Contains(warning.Message, "data[proxy-body-size]") || warning.InvolvedObject.Kind != "ConfigMap" {
		t.Errorf("Warning Event on %s: %q, want one on the ConfigMap naming data[proxy-body-size]", warning.InvolvedObject.Kind, warning.Message)
	}

	t.Log("more rebuilds make no more Events")
	for i := range 3 {
		rebuilds := rukouMetrics(t, r).Sum("rukou_rebuild_duration_seconds_count")
		// A change to a Service an Ingress names (one to another Service
		// rebuilds nothing).
		must(t, func() error {
			web, err := k.c.CoreV1().Services("default").Get(k.cx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			web.Labels = map[string]string{"churn": strconv.Itoa(i)}
			_, err = k.c.CoreV1().Services("default").Update(k.cx, web, metav1.UpdateOptions{})
			return err
		})
		harness.Eventually(t, 10*time.Second, fmt.Sprintf("a rebuild for churn %d", i), func() error {
			if n := rukouMetrics(t, r).Sum("rukou_rebuild_duration_seconds_count"); n <= rebuilds {
				return fmt.Errorf("%v rebuilds", n)
			}
			return nil
		})
	}
	// Events go out in order: once a new broken Ingress has its Event, any
	// the churn made for "broken" would be there.
	k.ingress("default", "fence", "rukou", "fence.example", "no-such-service")
	harness.Eventually(t, 20*time.Second, "Warning Event on the fence Ingress", func() error {
		_, err := find("fence", corev1.EventTypeWarning, "ServiceNotFound")
		return err
	})
	warning, _ = find("broken", corev1.EventTypeWarning, "ServiceNotFound")
	if n := len(k.events("default", "broken")); n != 1 || warning.Count > 1 {
		t.Errorf("the broken Ingress has %d Events (count %d), want exactly one", n, warning.Count)
	}
}

// TestLeaderElection: two replicas; only the leader writes status; when it
// is killed, the other takes over.
func TestLeaderElection(t *testing.T) {
	cluster := harness.StartCluster(t)
	k := newKube(t, cluster)
	k.namespace("rukou-system")
	k.ingressClass("rukou")
	k.service("default", "web", "10.213.0.2")
	k.ingress("default", "first", "rukou", "first.example", "web")
	start := func(id string) *harness.Rukou {
		return harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--publish-status-address", "192.0.2.10",
			"--leader-elect", "--leader-elect-namespace", "rukou-system", "--leader-elect-identity", id,
			"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "500ms")
	}
	replicas := map[string]*harness.Rukou{"replica-a": start("replica-a"), "replica-b": start("replica-b")}
	k.expectStatus("default", "first", "192.0.2.10")

	var leader, follower string
	harness.Eventually(t, 20*time.Second, "one leader", func() error {
		a, b := metric(t, replicas["replica-a"], "rukou_leader"), metric(t, replicas["replica-b"], "rukou_leader")
		switch {
		case a == 1 && b == 0:
			leader, follower = "replica-a", "replica-b"
		case a == 0 && b == 1:
			leader, follower = "replica-b", "replica-a"
		default:
			return fmt.Errorf("rukou_leader: replica-a %v, replica-b %v", a, b)
		}
		return nil
	})
	lease, err := k.c.CoordinationV1().Leases("rukou-system").Get(k.cx, "rukou-leader", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *lease.Spec.HolderIdentity; got != leader {
		t.Errorf("Lease holder is %q, but %q reports leading", got, leader)
	}
	if w := metric(t, replicas[follower], "rukou_status_writes_total"); w != 0 {
		t.Errorf("the follower %s wrote status %v times", follower, w)
	}
	if w := metric(t, replicas[leader], "rukou_status_writes_total"); w == 0 {
		t.Errorf("the leader %s wrote no status", leader)
	}

	t.Logf("killing the leader %s", leader)
	replicas[leader].Kill()
	killed := time.Now()
	awaitLeader(t, replicas[follower], follower, 30*time.Second)
	t.Logf("%s leads %v after the kill", follower, time.Since(killed).Round(100*time.Millisecond))
	k.ingress("default", "second", "rukou", "second.example", "web")
	k.expectStatus("default", "second", "192.0.2.10")
}

// awaitLeader waits until the replica named name reports that it leads.
func awaitLeader(t *testing.T, r *harness.Rukou, name string, within time.Duration) {
	t.Helper()
	harness.Eventually(t, within, name+" leads", func() error {
		if metric(t, r, "rukou_leader") != 1 {
			return fmt.Errorf("%s does not lead yet", name)
		}
		return nil
	})
}

// TestAPIServerOutage: with the API server gone for 30 s, Envoy keeps
// serving every request, and changes made after it returns are served
// without restarting rukou.
func TestAPIServerOutage(t *testing.T) {
	cluster := harness.StartCluster(t)
	netns := harness.StartNetns(t)
	netns.StartBackend(t, "web", 8080)
	k := newKube(t, cluster)
	k.ingressClass("rukou")
	k.service("default", "web", netns.IP)
	k.ingress("default", "before", "rukou", "before.example", "web")
	r := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig)
	harness.StartEnvoy(t, r.XDSAddress, "delta")
	harness.ExpectRoute(t, r.HTTPPort, "before.example", "/", http.StatusOK, "web")

	var sent, failed atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.After(2 * time.Minute) // bounded, whatever happens
		for {
			select {
			case <-stop:
				return
			case <-deadline:
				return
			case <-time.After(50 * time.Millisecond):
			}
			sent.Add(1)
			if resp, err := harness.Get(r.HTTPPort, "before.example", "/"); err != nil || resp.Status != http.StatusOK || resp.Backend != "web" {
				failed.Add(1)
			}
		}
	}()

	cluster.StopAPIServer()
	t.Log("API server stopped for 30 s")
	time.Sleep(30 * time.Second)
	if r.Exited() {
		t.Fatalf("rukou exited while the API server was away:\n%s", r.Log())
	}
	cluster.StartAPIServer()
	cluster.WaitReady()
	t.Log("API server back")
	k.ingress("default", "after", "rukou", "after.example", "web")
	harness.ExpectRoute(t, r.HTTPPort, "after.example", "/", http.StatusOK, "web")
	close(stop)
	<-done
	t.Logf("%d requests during the outage, %d failed", sent.Load(), failed.Load())
	if failed.Load() != 0 || sent.Load() < 100 {
		t.Errorf("%d of %d requests failed during the outage (want 0 of at least 100)", failed.Load(), sent.Load())
	}
}
