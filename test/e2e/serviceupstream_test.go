package e2e

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/examples/backend/echo"
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

// TestBackendProtocolAutoHTTP: backend-protocol AUTO_HTTP speaks the
// client's scheme, as ingress-nginx's proxy_pass $scheme://: a request
// over HTTPS reaches the backend over TLS; one in clear text is sent in
// clear text, which the backend's TLS port refuses.
func TestBackendProtocolAutoHTTP(t *testing.T) {
	cert := keyPair(t, "backend.internal")
	tlsEcho := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("X-Backend-TLS", "yes")
		}
		echo.Handler("tls-backend").ServeHTTP(w, r)
	})
	s := startStack(t, "delta")
	s.apply(t, "auto", join(
		echoService(t, "tls-backend", tlsEcho, &cert),
		objs(annotated("auto", map[string]string{"backend-protocol": "AUTO_HTTP"}, rule("auto.test", path(prefix, "/", "tls-backend")))),
	)...)

	r := s.await(t, call{host: "auto.test", path: "/", https: true}, http.StatusOK, "tls-backend")
	if r.header.Get("X-Backend-TLS") != "yes" {
		t.Error("a request over HTTPS did not reach the backend over TLS")
	}
	if r := s.must(t, call{host: "auto.test", path: "/"}); r.status == http.StatusOK {
		t.Errorf("a request in clear text reached the TLS port with %d, want it sent in clear text and refused", r.status)
	}
	expectNoRejection(t, s.envoy)
}
