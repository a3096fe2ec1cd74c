package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkCluster1k creates 1,000 Ingresses with their Services and
// EndpointSlices in a real kube-apiserver (backed by etcd), with rukou
// watching it and a real Envoy, and measures the time from the first create
// until every one of the 1,000 hosts answers 200 through Envoy, and rukou's
// peak RSS. The backend runs in a network namespace (the API server refuses
// loopback endpoints).
func BenchmarkCluster1k(b *testing.B) {
	const n = 1000
	binaries(b)
	for range b.N {
		cluster := harness.StartCluster(b)
		cluster.Config.QPS, cluster.Config.Burst = 500, 1000
		client := kubernetes.NewForConfigOrDie(cluster.Config)
		netns := harness.StartNetns(b)
		netns.StartBackend(b, "app", 8080)
		ctx := harness.Context(b)
		if err := createIngressClass(ctx, client); err != nil {
			b.Fatal(err)
		}
		rukou := harness.StartRukou(b, "--kubeconfig", cluster.Kubeconfig, "--log-level", "info")
		harness.StartEnvoy(b, rukou.XDSAddress, "delta")

		start := time.Now()
		createFleet(b, n, func(i int) error { return createApp(ctx, client, i, netns.IP) })
		created := time.Since(start)

		awaitAllServed(b, rukou.HTTPPort, n, 5*time.Minute)
		served := time.Since(start)
		rss, err := rukou.PeakRSS()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(created.Seconds(), "s-to-create")
		b.ReportMetric(served.Seconds(), "s-until-all-served")
		b.ReportMetric(float64(rss)/(1<<20), "MB-peak-RSS")
		b.Logf("1,000 Ingresses: created in %v, all served through Envoy %v after the first create; rukou peak RSS %.1f MB",
			created.Round(time.Millisecond), served.Round(time.Millisecond), float64(rss)/(1<<20))
	}
}

// createIngressClass creates the IngressClass rukou, of rukou's controller.
func createIngressClass(ctx context.Context, client kubernetes.Interface) error {
	_, err := client.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "rukou"},
		Spec:       networkingv1.IngressClassSpec{Controller: "rukou.io/ingress-controller"},
	}, metav1.CreateOptions{})
	return err
}

// host is the host name of the i-th application's Ingress.
func host(i int) string { return fmt.Sprintf("app-%d.cluster.bench", i) }

// createFleet runs create for 0 to n-1 with 8 workers: the objects of n
// applications.
func createFleet(b *testing.B, n int, create func(i int) error) {
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if err := create(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case work <- i:
		case err := <-errs:
			b.Fatal(err)
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// servedCheckers is how many goroutines awaitAllServed asks Envoy with.
// One asking every host in turn took about 1 s per pass over 1,000 hosts,
// so a host served just after its turn was seen up to a pass later, and
// "every host served" measured the pass more than the controller; eight
// take an eighth of that.
const servedCheckers = 8

// awaitAllServed waits, at most timeout, until each of the hosts of
// applications 0 to n-1 has answered 200 through Envoy's HTTP port once.
// Each checker asks its share of the hosts (every servedCheckers-th) in
// turn, over and over, dropping those that answered, until none is left.
func awaitAllServed(b *testing.B, port, n int, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	var left atomic.Int64
	var wg sync.WaitGroup
	for c := range servedCheckers {
		wg.Go(func() {
			var pending []int
			for i := c; i < n; i += servedCheckers {
				pending = append(pending, i)
			}
			for len(pending) > 0 && time.Now().Before(deadline) {
				pending = slices.DeleteFunc(pending, func(i int) bool {
					r, err := harness.Get(port, host(i), "/")
					return err == nil && r.Status == http.StatusOK
				})
			}
			left.Add(int64(len(pending)))
		})
	}
	wg.Wait()
	if l := left.Load(); l > 0 {
		b.Fatalf("%d of %d hosts not served after %v", l, n, timeout)
	}
}

// createApp creates the i-th Service, its EndpointSlice (pointing at
// ip:8080) and its Ingress, of class rukou.
func createApp(ctx context.Context, client kubernetes.Interface, i int, ip string) error {
	if err := createBackend(ctx, client, i, ip); err != nil {
		return err
	}
	return createIngress(ctx, client, i)
}

// createBackend creates the i-th Service and its EndpointSlice, pointing at
// ip:8080.
func createBackend(ctx context.Context, client kubernetes.Interface, i int, ip string) error {
	name := fmt.Sprintf("app-%d", i)
	portName, port, ready := "http", int32(8080), true
	if _, err := client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: portName, Port: 80, TargetPort: intstr.FromInt32(port)}}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	_, err := client.DiscoveryV1().EndpointSlices("default").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}, metav1.CreateOptions{})
	return err
}

// createIngress creates the i-th Ingress, of class rukou: host(i) to the
// i-th Service.
func createIngress(ctx context.Context, client kubernetes.Interface, i int) error {
	name := fmt.Sprintf("app-%d", i)
	prefix := networkingv1.PathTypePrefix
	className := "rukou"
	_, err := client.NetworkingV1().Ingresses("default").Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &className,
			Rules: []networkingv1.IngressRule{{Host: host(i), IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Name: "http"}},
				}}},
			}}}},
		},
	}, metav1.CreateOptions{})
	return err
}
