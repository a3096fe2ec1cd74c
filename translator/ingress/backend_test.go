package ingress_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestBuildBackends(t *testing.T) {
	// web has two named ports; its EndpointSlice maps them to 8080 and 9090.
	web := objects(
		service("web", servicePort("http", 80), servicePort("admin", 9000)),
		modified(endpointSlice("web-1", "web", "http", 8080, endpoint(ready, "10.0.0.1")), func(es *discoveryv1.EndpointSlice) {
			name, port := "admin", int32(9090)
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port})
		}),
	)
	route := func(target string) []string {
		return []string{"example.com", "  Prefix / -> " + target + " (default/x)"}
	}
	to := func(service string, port any) *networkingv1.Ingress {
		return ing("x", rule("example.com", path(prefix, "/", svc(service, port))))
	}

	runBuildCases(t, []buildCase{
		{
			name:     "port_by_number",
			objs:     objects(web, to("web", 80)),
			model:    route("default/web/80"),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name:     "port_by_name",
			objs:     objects(web, to("web", "admin")),
			model:    route("default/web/9000"),
			backends: []string{"default/web/9000 -> 10.0.0.1:9090"},
		},
		{
			name: "port_by_name_and_by_number_is_one_backend",
			objs: objects(web, ing("x", rule("example.com",
				path(prefix, "/a", svc("web", "http")),
				path(prefix, "/b", svc("web", 80))))),
			model: []string{
				"example.com",
				"  Prefix /a -> default/web/80 (default/x)",
				"  Prefix /b -> default/web/80 (default/x)",
			},
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "unnamed_port_of_a_single_port_service",
			objs: objects(
				service("web", servicePort("", 80)),
				endpointSlice("web-1", "web", "", 8080, endpoint(ready, "10.0.0.1")),
				to("web", 80)),
			model:    route("default/web/80"),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "backends_of_another_namespace_are_its_own",
			objs: objects(
				modified(service("web", servicePort("http", 80)), func(s *corev1.Service) { s.Namespace = "shop" }),
				modified(endpointSlice("web-1", "web", "http", 8080, endpoint(ready, "10.0.1.1")), func(es *discoveryv1.EndpointSlice) { es.Namespace = "shop" }),
				web,
				ing("x", namespace("shop"), rule("example.com", path(prefix, "/", svc("web", 80))))),
			model:    []string{"example.com", "  Prefix / -> shop/web/80 (shop/x)"},
			backends: []string{"shop/web/80 -> 10.0.1.1:8080"},
		},
		{
			name:     "missing_service_answers_503",
			objs:     objects(to("missing", 80)),
			model:    route("503"),
			backends: []string{},
			diags:    []string{"ServiceNotFound default/x"},
			messages: []string{`service "missing" not found`},
		},
		{
			name:     "service_of_another_namespace_is_not_found",
			objs:     objects(web, ing("x", namespace("shop"), rule("example.com", path(prefix, "/", svc("web", 80))))),
			model:    []string{"example.com", "  Prefix / -> 503 (shop/x)"},
			diags:    []string{"ServiceNotFound shop/x"},
			messages: []string{`service "web" not found`},
		},
		{
			name:     "missing_port_number_answers_503",
			objs:     objects(web, to("web", 81)),
			model:    route("503"),
			diags:    []string{"ServicePortNotFound default/x"},
			messages: []string{`service "web" has no port "81"`},
		},
		{
			name:     "missing_port_name_answers_503",
			objs:     objects(web, to("web", "grpc")),
			model:    route("503"),
			diags:    []string{"ServicePortNotFound default/x"},
			messages: []string{`service "web" has no port "grpc"`},
		},
		{
			name:  "target_port_number_is_not_a_service_port",
			objs:  objects(web, to("web", 8080)),
			model: route("503"),
			diags: []string{"ServicePortNotFound default/x"},
		},
		{
			name:     "resource_backend_answers_503",
			objs:     objects(ing("x", rule("example.com", path(prefix, "/", resource("StorageBucket", "assets"))))),
			model:    route("503"),
			diags:    []string{"ResourceBackendUnsupported default/x"},
			messages: []string{`StorageBucket "assets"`},
		},
		{
			name:  "backend_without_service_or_resource_answers_503",
			objs:  objects(ing("x", rule("example.com", path(prefix, "/", networkingv1.IngressBackend{})))),
			model: route("503"),
			diags: []string{"NoBackend default/x"},
		},
		{
			name: "a_bad_backend_spoils_only_its_own_route",
			objs: objects(web, ing("x", rule("example.com",
				path(prefix, "/broken", svc("missing", 80)),
				path(prefix, "/", svc("web", 80))))),
			model: []string{
				"example.com",
				"  Prefix /broken -> 503 (default/x)",
				"  Prefix / -> default/web/80 (default/x)",
			},
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
			diags:    []string{"ServiceNotFound default/x"},
		},
	})
}

func TestBuildEndpoints(t *testing.T) {
	// Each case routes example.com to Service web, port http 80.
	withWeb := func(objs ...any) []runtime.Object {
		return objects(append([]any{
			service("web", servicePort("http", 80)),
			ing("x", rule("example.com", path(prefix, "/", svc("web", 80)))),
		}, objs...)...)
	}
	model := []string{"example.com", "  Prefix / -> default/web/80 (default/x)"}
	slice := func(name string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
		return endpointSlice(name, "web", "http", 8080, eps...)
	}

	cases := []buildCase{
		{
			name: "only_ready_endpoints_are_used",
			objs: withWeb(slice("web-1",
				endpoint(ready, "10.0.0.1"),
				endpoint(terminating, "10.0.0.2"),
				endpoint(notReady, "10.0.0.3"),
				endpoint(gone, "10.0.0.4"))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "endpoints_without_conditions_count_as_ready",
			objs: withWeb(slice("web-1",
				endpoint(unknown, "10.0.0.1"),
				endpoint(terminating, "10.0.0.2"))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "serving_terminating_endpoints_are_used_when_none_is_ready",
			objs: withWeb(slice("web-1",
				endpoint(terminating, "10.0.0.2"),
				endpoint(notReady, "10.0.0.3"),
				endpoint(gone, "10.0.0.4"))),
			backends: []string{"default/web/80 -> 10.0.0.2:8080"},
		},
		{
			name: "ready_endpoints_of_another_slice_take_precedence_over_terminating_ones",
			objs: withWeb(
				slice("web-1", endpoint(terminating, "10.0.0.2")),
				slice("web-2", endpoint(ready, "10.0.0.9"))),
			backends: []string{"default/web/80 -> 10.0.0.9:8080"},
		},
		{
			name:     "endpoints_neither_ready_nor_serving_are_never_used",
			objs:     withWeb(slice("web-1", endpoint(notReady, "10.0.0.3"), endpoint(gone, "10.0.0.4"))),
			backends: []string{"default/web/80 -> none"},
		},
		{
			name:     "service_without_slices_has_no_endpoints",
			objs:     withWeb(),
			backends: []string{"default/web/80 -> none"},
		},
		{
			name: "duplicate_endpoints_are_removed",
			objs: withWeb(
				slice("web-1", endpoint(ready, "10.0.0.1", "10.0.0.1"), endpoint(ready, "10.0.0.2")),
				slice("web-2", endpoint(ready, "10.0.0.1"))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080 10.0.0.2:8080"},
		},
		{
			name: "endpoints_are_sorted",
			objs: withWeb(
				slice("web-b", endpoint(ready, "10.0.0.30", "10.0.0.4")),
				slice("web-a", endpoint(ready, "10.0.0.200"))),
			backends: []string{"default/web/80 -> 10.0.0.200:8080 10.0.0.30:8080 10.0.0.4:8080"},
		},
		{
			name: "same_address_on_two_target_ports_is_two_endpoints",
			objs: withWeb(
				slice("web-1", endpoint(ready, "10.0.0.1")),
				endpointSlice("web-2", "web", "http", 8081, endpoint(ready, "10.0.0.1"))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080 10.0.0.1:8081"},
		},
		{
			name: "ipv6_slices_are_used",
			objs: withWeb(modified(slice("web-1", endpoint(ready, "fd00::1")), func(es *discoveryv1.EndpointSlice) {
				es.AddressType = discoveryv1.AddressTypeIPv6
			})),
			backends: []string{"default/web/80 -> fd00::1:8080"},
		},
		{
			name: "fqdn_slices_are_ignored",
			objs: withWeb(
				slice("web-1", endpoint(ready, "10.0.0.1")),
				modified(slice("web-2", endpoint(ready, "backend.example.com")), func(es *discoveryv1.EndpointSlice) {
					es.AddressType = discoveryv1.AddressTypeFQDN
				})),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "slices_of_other_services_are_ignored",
			objs: withWeb(
				slice("web-1", endpoint(ready, "10.0.0.1")),
				endpointSlice("api-1", "api", "http", 8080, endpoint(ready, "10.0.0.2")),
				modified(slice("unlabelled", endpoint(ready, "10.0.0.3")), func(es *discoveryv1.EndpointSlice) { es.Labels = nil }),
				modified(slice("elsewhere", endpoint(ready, "10.0.0.4")), func(es *discoveryv1.EndpointSlice) { es.Namespace = "other" })),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "slices_without_the_service_ports_name_are_ignored",
			objs: withWeb(
				slice("web-1", endpoint(ready, "10.0.0.1")),
				endpointSlice("web-2", "web", "metrics", 9100, endpoint(ready, "10.0.0.2"))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			// Slices read from files are not checked by an API server; Envoy
			// refuses an endpoint whose address is not an IP.
			name: "addresses_that_are_not_ips_are_ignored",
			objs: withWeb(slice("web-1",
				endpoint(ready, "10.0.0.1"),
				endpoint(ready, "localhost"),
				endpoint(ready, ""))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
		{
			name: "target_ports_out_of_range_are_ignored",
			objs: withWeb(
				slice("web-1", endpoint(ready, "10.0.0.1")),
				endpointSlice("web-2", "web", "http", 0, endpoint(ready, "10.0.0.2")),
				endpointSlice("web-3", "web", "http", 70000, endpoint(ready, "10.0.0.3"))),
			backends: []string{"default/web/80 -> 10.0.0.1:8080"},
		},
	}
	for i := range cases {
		cases[i].model = model
	}
	runBuildCases(t, cases)
}
