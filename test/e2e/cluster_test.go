package e2e

import (
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/test/harness"
)

// TestClusterMode runs rukou against a real kube-apiserver: objects created
// through the API reach a backend through Envoy, and deleting the Ingress
// takes its route away.
func TestClusterMode(t *testing.T) {
	cluster := harness.StartCluster(t)
	netns := harness.StartNetns(t)
	netns.StartBackend(t, "shop", 8080)
	ctx := harness.Context(t)
	kc := cluster.Client

	ns := "shop"
	must(t, func() error {
		_, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	must(t, func() error {
		_, err := kc.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: "rukou"},
			Spec:       networkingv1.IngressClassSpec{Controller: "rukou.io/ingress-controller"},
		}, metav1.CreateOptions{})
		return err
	})
	must(t, func() error {
		_, err := kc.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
				Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080),
			}}},
		}, metav1.CreateOptions{})
		return err
	})
	must(t, func() error {
		// No controller-manager runs, so the test writes the EndpointSlice
		// that would point at the Service's pods: the backend in the netns.
		_, err := kc.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{netns.IP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
		}, metav1.CreateOptions{})
		return err
	})

	rukou := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig)
	envoy := harness.StartEnvoy(t, rukou.XDSAddress, "delta")
	port := rukou.HTTPPort

	// Nothing routes before the Ingress exists.
	harness.ExpectRoute(t, port, "shop.example", "/", http.StatusNotFound, "")

	must(t, func() error {
		_, err := kc.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr("rukou"),
				Rules: []networkingv1.IngressRule{{
					Host: "shop.example",
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{{
							Path:     "/cart",
							PathType: ptr(networkingv1.PathTypePrefix),
							Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
								Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"},
							}},
						}},
					}},
				}},
			},
		}, metav1.CreateOptions{})
		return err
	})
	start := time.Now()
	r := harness.ExpectRoute(t, port, "shop.example", "/cart/items", http.StatusOK, "shop")
	t.Logf("Ingress served %v after it was created", time.Since(start).Round(time.Millisecond))
	if r.Echo.Path != "/cart/items" {
		t.Errorf("backend saw path %q, want /cart/items", r.Echo.Path)
	}
	harness.ExpectRoute(t, port, "shop.example", "/cartography", http.StatusNotFound, "")

	must(t, func() error { return kc.NetworkingV1().Ingresses(ns).Delete(ctx, "web", metav1.DeleteOptions{}) })
	harness.ExpectRoute(t, port, "shop.example", "/cart/items", http.StatusNotFound, "")

	expectNoRejection(t, envoy)
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
