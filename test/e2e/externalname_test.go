package e2e

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/test/harness"
)

// externalName is an ExternalName Service for name whose port 80 leads to
// targetPort (no ports at all when targetPort is 0).
func externalName(service, name string, targetPort int) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: service, Namespace: ns},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: name},
	}
	if targetPort != 0 {
		svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt(targetPort)}}
	}
	return svc
}

// TestExternalNameService: as ingress-nginx, an Ingress backend on an
// ExternalName Service proxies to the DNS name, on the Service port's
// targetPort, with the client's Host header (or upstream-vhost's); Envoy
// resolves the name with the name servers of `rukou bootstrap
// --dns-resolvers` (here a DNS server of the test) and resolves it again
// as the records' TTL runs out, so a name that appears later is served.
// A new external name is followed; the Service's EndpointSlices are
// ignored; "localhost" and 127.0.0.1 are refused with a diagnostic naming
// the Service, and their paths answer 503. In both ADS modes.
func TestExternalNameService(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { testExternalNameService(t, mode) })
	}
}

func testExternalNameService(t *testing.T, mode string) {
	dns := harness.StartDNS(t)
	dns.Set("echo.partner.test", netip.MustParseAddr("127.0.0.1"))
	s := startStackWith(t, harness.EnvoyOptions{Mode: mode, BootstrapArgs: []string{"--dns-resolvers", dns.Address}})
	right := harnessBackend(t, "partner")
	slice := serviceWith("partner", endpoint(harnessBackend(t, "slice"), true, nil))[1:]
	others := func(partner *corev1.Service) []runtime.Object {
		return objs(
			partner,
			externalName("late", "late.partner.test", right),
			externalName("local", "localhost", right),
			externalName("loop", "127.0.0.1", right),
			ingress("plain", rule("ext.test", path(prefix, "/", "partner"), path(prefix, "/late", "late"),
				path(prefix, "/local", "local"), path(prefix, "/loop", "loop"))),
			annotated("vhost", map[string]string{"upstream-vhost": "echo.partner.test"}, rule("vhost.test", path(prefix, "/", "partner"))),
		)
	}
	// The slice names another backend, which must not be used.
	s.apply(t, "external", join(slice, others(externalName("partner", "echo.partner.test", right)))...)

	t.Run("served_by_the_name_with_the_clients_host", func(t *testing.T) {
		r := s.await(t, call{host: "ext.test", path: "/x"}, http.StatusOK, "partner")
		if r.echo.Host != "ext.test" {
			t.Errorf("backend saw Host %q, want the client's ext.test", r.echo.Host)
		}
		if dns.Queries("echo.partner.test") == 0 {
			t.Error("Envoy never asked the test's name server")
		}
	})
	t.Run("upstream_vhost_sets_the_host", func(t *testing.T) {
		r := s.await(t, call{host: "vhost.test", path: "/"}, http.StatusOK, "partner")
		if r.echo.Host != "echo.partner.test" {
			t.Errorf("backend saw Host %q, want upstream-vhost's echo.partner.test", r.echo.Host)
		}
	})
	t.Run("localhost_and_loopback_are_refused", func(t *testing.T) {
		waitDiagnostic(t, s, "default/plain", "ExternalNameRefused", `service default/local is of type ExternalName "localhost"`)
		waitDiagnostic(t, s, "default/plain", "ExternalNameRefused", `service default/loop is of type ExternalName "127.0.0.1"`)
		for _, p := range []string{"/local", "/loop"} {
			if r := s.must(t, call{host: "ext.test", path: p}); r.status != http.StatusServiceUnavailable {
				t.Errorf("%s: %d from %q, want 503", p, r.status, r.backend)
			}
		}
	})
	t.Run("a_name_that_appears_later_is_served", func(t *testing.T) {
		if r := s.must(t, call{host: "ext.test", path: "/late"}); r.status != http.StatusServiceUnavailable {
			t.Fatalf("before the name exists: %d, want 503", r.status)
		}
		added := time.Now()
		dns.Set("late.partner.test", netip.MustParseAddr("127.0.0.1"))
		s.await(t, call{host: "ext.test", path: "/late"}, http.StatusOK, "partner")
		t.Logf("served %v after the record appeared", time.Since(added).Round(100*time.Millisecond))
	})
	t.Run("a_new_external_name_is_followed", func(t *testing.T) {
		dns.Set("moved.partner.test", netip.MustParseAddr("127.0.0.1"))
		s.apply(t, "external", join(slice, others(externalName("partner", "moved.partner.test", harnessBackend(t, "moved"))))...)
		s.await(t, call{host: "ext.test", path: "/"}, http.StatusOK, "moved")
		if dns.Queries("moved.partner.test") == 0 {
			t.Error("Envoy never asked for the new name")
		}
	})
	expectNoRejection(t, s.envoy)
}
