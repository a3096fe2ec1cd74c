package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// TestClusterRebuildsForWhatMatters: in a real API server, Services,
// EndpointSlices and Secrets that no Ingress names, another controller's
// Ingresses, and the status of an Ingress, can change at will without
// rukou translating again (at 10,000 Ingresses each translation is a few
// hundred milliseconds of CPU, and a cluster's Secrets and Services change
// all the time); the Service an Ingress names is served as soon as it is
// created, and an Ingress moved to rukou's class as soon as it moves.
func TestClusterRebuildsForWhatMatters(t *testing.T) {
	cluster := harness.StartCluster(t)
	netns := harness.StartNetns(t)
	netns.StartBackend(t, "web", 8080)
	ctx := harness.Context(t)
	kc := cluster.Client
	k := newKube(t, cluster)
	const ns = "shop"
	k.namespace(ns)
	k.ingressClass("rukou")
	k.service(ns, "web", netns.IP)
	k.ingress(ns, "web", "rukou", "web.example", "web")
	k.ingress(ns, "late", "rukou", "late.example", "late") // its Service comes later
	k.ingress(ns, "foreign", "nginx", "foreign.example", "web")

	rukou := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--publish-status-address", "192.0.2.10")
	envoy := harness.StartEnvoy(t, rukou.XDSAddress, "delta")
	port := rukou.HTTPPort
	harness.ExpectRoute(t, port, "web.example", "/", http.StatusOK, "web")
	harness.ExpectRoute(t, port, "late.example", "/", http.StatusServiceUnavailable, "")
	harness.Eventually(t, 15*time.Second, "rukou writes the status of its two Ingresses", func() error {
		if n := metric(t, rukou, "rukou_status_writes_total"); n < 2 {
			return fmt.Errorf("%v status writes", n)
		}
		return nil
	})
	rebuilds := func() float64 { return rukouMetrics(t, rukou).Sum("rukou_rebuild_duration_seconds_count") }
	// rukou's own status writes come back as Ingress updates; after them,
	// at most one second of hold and the rebuild would follow.
	time.Sleep(1500 * time.Millisecond)
	before := rebuilds()
	m := rukouMetrics(t, rukou)
	services, secrets := m.Sum("rukou_objects", "kind", "Service"), m.Sum("rukou_objects", "kind", "Secret")

	for i := range 5 {
		name := "unnamed-" + strconv.Itoa(i)
		k.service(ns, name, netns.IP)
		must(t, func() error {
			_, err := kc.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + name},
				StringData: map[string]string{"release": "payload"}}, metav1.CreateOptions{})
			return err
		})
	}
	must(t, func() error {
		foreign, err := kc.NetworkingV1().Ingresses(ns).Get(ctx, "foreign", metav1.GetOptions{})
		if err != nil {
			return err
		}
		foreign.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "198.51.100.7"}}
		foreign, err = kc.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, foreign, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		foreign.Annotations = map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}
		_, err = kc.NetworkingV1().Ingresses(ns).Update(ctx, foreign, metav1.UpdateOptions{})
		return err
	})
	k.ingress(ns, "stranger", "nginx", "stranger.example", "web")
	harness.Eventually(t, 15*time.Second, "rukou sees the new Services and Secrets", func() error {
		m := rukouMetrics(t, rukou)
		if s, sec := m.Sum("rukou_objects", "kind", "Service"), m.Sum("rukou_objects", "kind", "Secret"); s != services+5 || sec != secrets+5 {
			return fmt.Errorf("rukou_objects: %v Services, %v Secrets; want %v and %v", s, sec, services+5, secrets+5)
		}
		return nil
	})
	time.Sleep(1500 * time.Millisecond) // the longest hold, and a rebuild
	if after := rebuilds(); after != before {
		t.Errorf("rebuilds went from %v to %v for changes to objects no Ingress names, another controller's Ingress and a status update", before, after)
	}
	harness.ExpectRoute(t, port, "foreign.example", "/", http.StatusNotFound, "")
	// /debug/ingresses lists what rukou sees now, rebuilt or not.
	body, err := rukou.Debug("/debug/ingresses")
	if err != nil {
		t.Fatal(err)
	}
	type listedIngress struct {
		Name  string
		Owned bool
		Hosts []string
	}
	var listed []listedIngress
	if err := json.Unmarshal([]byte(body), &listed); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(listed, func(l listedIngress) bool { return l.Name == "stranger" }); i < 0 || listed[i].Owned || !slices.Equal(listed[i].Hosts, []string{"stranger.example"}) {
		t.Errorf("/debug/ingresses does not list the new nginx-class Ingress as not rukou's:\n%s", body)
	}

	start := time.Now()
	k.service(ns, "late", netns.IP)
	harness.ExpectRoute(t, port, "late.example", "/", http.StatusOK, "web")
	t.Logf("the Service an Ingress named served %v after it was created", time.Since(start).Round(time.Millisecond))
	if after := rebuilds(); after <= before {
		t.Errorf("late.example served with no rebuild counted (%v before, %v after)", before, after)
	}
	must(t, func() error {
		foreign, err := kc.NetworkingV1().Ingresses(ns).Get(ctx, "foreign", metav1.GetOptions{})
		if err != nil {
			return err
		}
		foreign.Spec.IngressClassName = ptr("rukou")
		_, err = kc.NetworkingV1().Ingresses(ns).Update(ctx, foreign, metav1.UpdateOptions{})
		return err
	})
	harness.ExpectRoute(t, port, "foreign.example", "/", http.StatusOK, "web")
	expectNoRejection(t, envoy)
}
