package ingress_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestBuildServiceUpstream(t *testing.T) {
	withIP := func(ip string) *corev1.Service {
		return modified(service("api", servicePort("http", 80)), func(s *corev1.Service) { s.Spec.ClusterIP = ip })
	}
	slice := endpointSlice("api-1", "api", "http", 8080, endpoint(ready, "10.0.0.1", "10.0.0.2"))
	route := func(port any, opts ...ingressOpt) any {
		return ing("x", append(opts, rule("example.com", path(prefix, "/", svc("api", port))))...)
	}
	upstream := annotate("nginx.ingress.kubernetes.io/service-upstream", "true")
	runBuildCases(t, []buildCase{
		{
			name:     "cluster_ip_and_service_port_replace_the_endpoints",
			objs:     objects(withIP("10.96.0.10"), slice, route(80, upstream)),
			model:    []string{"example.com", "  Prefix / -> default/api/80/service-upstream (default/x)"},
			backends: []string{"default/api/80/service-upstream -> 10.96.0.10:80"},
		},
		{
			name:     "port_by_name_is_the_service_port",
			objs:     objects(withIP("10.96.0.10"), slice, route("http", upstream)),
			model:    []string{"example.com", "  Prefix / -> default/api/80/service-upstream (default/x)"},
			backends: []string{"default/api/80/service-upstream -> 10.96.0.10:80"},
		},
		{
			name:     "false_keeps_the_endpoints",
			objs:     objects(withIP("10.96.0.10"), slice, route(80, annotate("nginx.ingress.kubernetes.io/service-upstream", "false"))),
			model:    []string{"example.com", "  Prefix / -> default/api/80 (default/x)"},
			backends: []string{"default/api/80 -> 10.0.0.1:8080 10.0.0.2:8080"},
		},
		{
			name:     "headless_service_keeps_its_endpoints_and_is_reported",
			objs:     objects(withIP("None"), slice, route(80, upstream)),
			model:    []string{"example.com", "  Prefix / -> default/api/80/service-upstream (default/x)"},
			backends: []string{"default/api/80/service-upstream -> 10.0.0.1:8080 10.0.0.2:8080"},
			diags:    []string{"AnnotationIgnored default/x"},
			messages: []string{`service-upstream: service "api" has no ClusterIP`},
		},
	})
}

// TestBuildAutoHTTP: backend-protocol AUTO_HTTP speaks the client's
// scheme, as ingress-nginx's proxy_pass $scheme://: the route has a
// backend in clear text and one over TLS, two clusters.
func TestBuildAutoHTTP(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "a_backend_for_each_scheme",
		objs: objects(services("api"), ing("x", annotate("nginx.ingress.kubernetes.io/backend-protocol", "auto_http"),
			rule("example.com", path(prefix, "/", svc("api", 80))))),
		model:    []string{"example.com", "  Prefix / -> default/api/80 (default/x)"},
		backends: []string{"default/api/80 -> none", "default/api/80/https -> none"},
	}})
}
