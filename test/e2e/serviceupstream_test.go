package e2e

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestServiceUpstream: with service-upstream: "true", as ingress-nginx,
// requests go to the Service's ClusterIP on the Service port, never to
// the EndpointSlices' addresses; without it, to the slices. A headless
// Service keeps its endpoints, with a diagnostic naming the Ingress.
func TestServiceUpstream(t *testing.T) {
	s := startStack(t, "delta")
	// The "cluster IP" is where a backend of the test listens: loopback,
	// which file mode admits, on the Service port.
	clusterPort := harnessBackend(t, "cluster-ip")
	withIP := func(name, ip string) []runtime.Object {
		objs := serviceWith(name, endpoint(harnessBackend(t, "slice-"+name), true, nil))
		svc := objs[0].(*corev1.Service)
		svc.Spec.ClusterIP = ip
		svc.Spec.Ports[0].Port = int32(clusterPort)
		return objs
	}
	// The Ingresses name the port "http", whose number is the backend's.
	byName := func(service string) networkingv1.HTTPIngressPath {
		p := path(prefix, "/", service)
		p.Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
		return p
	}
	upstream := map[string]string{"service-upstream": "true"}
	s.apply(t, "upstream", join(withIP("api", "127.0.0.1"), withIP("headless", "None"), objs(
		annotated("via-ip", upstream, rule("ip.test", byName("api"))),
		ingress("via-slices", rule("slices.test", byName("api"))),
		annotated("headless", upstream, rule("headless.test", byName("headless"))),
	))...)

	s.await(t, call{host: "ip.test", path: "/"}, http.StatusOK, "cluster-ip")
	s.await(t, call{host: "slices.test", path: "/"}, http.StatusOK, "slice-api")
	s.await(t, call{host: "headless.test", path: "/"}, http.StatusOK, "slice-headless")
	waitDiagnostic(t, s, "default/headless", "AnnotationIgnored", `service-upstream: service "headless" has no ClusterIP`)
	expectNoRejection(t, s.envoy)
}
