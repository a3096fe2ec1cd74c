package ingress_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/translator"
)

func TestBuildExternalName(t *testing.T) {
	external := func(name, externalName string, ports ...corev1.ServicePort) *corev1.Service {
		return modified(service(name, ports...), func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, externalName
		})
	}
	to := func(service string) []string {
		return []string{"example.com", "  Prefix / -> " + service + " (default/x)"}
	}
	route := func(service string, port any) any {
		return ing("x", rule("example.com", path(prefix, "/", svc(service, port))))
	}
	targeted := servicePort("https", 443)
	targeted.TargetPort = intstr.FromInt(8443)
	named := servicePort("web", 80)
	named.TargetPort = intstr.FromString("http")
	refused := func(name, msg string) buildCase {
		return buildCase{
			name:     name,
			objs:     objects(external("ext", msg), route("ext", 80)),
			model:    to("503"),
			backends: []string{},
			diags:    []string{"ExternalNameRefused default/x"},
			messages: []string{`service default/ext is of type ExternalName`},
		}
	}
	runBuildCases(t, []buildCase{
		{
			name:     "dns_name_on_the_target_port",
			objs:     objects(external("ext", "API.Example.org", targeted), route("ext", 443)),
			model:    to("default/ext/443"),
			backends: []string{"default/ext/443 -> api.example.org:8443"},
		},
		{
			name:     "named_target_port_uses_the_service_port",
			objs:     objects(external("ext", "api.example.org", named), route("ext", "web")),
			model:    to("default/ext/80"),
			backends: []string{"default/ext/80 -> api.example.org:80"},
		},
		{
			name:     "no_service_ports_takes_the_ingress_port",
			objs:     objects(external("ext", "api.example.org."), route("ext", 8080)),
			model:    to("default/ext/8080"),
			backends: []string{"default/ext/8080 -> api.example.org.:8080"},
		},
		{
			name:     "allowed_ip_literal",
			objs:     objects(external("ext", "192.0.2.7"), route("ext", 80)),
			model:    to("default/ext/80"),
			backends: []string{"default/ext/80 -> 192.0.2.7:80"},
		},
		{
			name: "endpoint_slices_are_ignored",
			objs: objects(external("ext", "api.example.org", servicePort("http", 80)),
				endpointSlice("ext-1", "ext", "http", 9999, endpoint(ready, "10.0.0.1")), route("ext", 80)),
			model:    to("default/ext/80"),
			backends: []string{"default/ext/80 -> api.example.org:80"},
		},
		{
			name:     "unknown_port_name_answers_503",
			objs:     objects(external("ext", "api.example.org"), route("ext", "grpc")),
			model:    to("503"),
			backends: []string{},
			diags:    []string{"ServicePortNotFound default/x"},
		},
		{
			name:     "disable_svc_external_name_refuses_every_one",
			objs:     objects(external("ext", "api.example.org"), route("ext", 80)),
			opts:     func(o *translator.Options) { o.DisableExternalName = true },
			model:    to("503"),
			backends: []string{},
			diags:    []string{"ExternalNameRefused default/x"},
			messages: []string{"--disable-svc-external-name"},
		},
		refused("localhost_is_refused", "localhost"),
		refused("localhost_with_a_dot_is_refused", "LocalHost."),
		refused("names_under_localhost_are_refused", "api.localhost"),
		refused("loopback_v4_is_refused", "127.0.0.53"),
		refused("loopback_v6_is_refused", "::1"),
		refused("mapped_loopback_is_refused", "::ffff:127.0.0.1"),
		refused("unspecified_v4_is_refused", "0.0.0.0"),
		refused("unspecified_v6_is_refused", "::"),
		refused("not_a_dns_name_is_refused", "api_example.org"),
		refused("empty_name_is_refused", ""),
	})
}
