package ingress_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rukou/rukou/translator"
)

// nginx is the prefix of ingress-nginx's annotations.
const nginx = "nginx.ingress.kubernetes.io/"

// an sets one nginx.ingress.kubernetes.io annotation.
func an(name, value string) ingressOpt { return annotate(nginx+name, value) }

func TestBuildRegexMode(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name: "use_regex_makes_every_path_of_the_host_a_regex",
			objs: objects(services("a", "b"),
				ing("regex", createdAt(0), an("use-regex", "true"), rule("example.com", path(implSpec, "/api/v[0-9]+", svc("a", 80)))),
				ing("plain", createdAt(1), rule("example.com", path(exact, "/Health", svc("b", 80)), path(prefix, "/docs/", svc("b", 80)))),
				ing("other", createdAt(2), rule("other.com", path(prefix, "/docs/", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Regex /api/v[0-9]+ -> default/a/80 (default/regex)",
				"  Regex /Health -> default/b/80 (default/plain)",
				"  Regex /docs/ -> default/b/80 (default/plain)",
				"other.com",
				"  Prefix /docs -> default/b/80 (default/other)",
			},
		},
		{
			name: "rewrite_target_makes_the_host_regex_and_rewrites",
			objs: objects(services("a"),
				ing("rw", an("rewrite-target", "/$2"), rule("example.com", path(implSpec, "/something(/|$)(.*)", svc("a", 80))))),
			model: []string{"example.com", "  Regex /something(/|$)(.*) -> default/a/80 (default/rw) rewrite /$2"},
		},
		{
			name: "rewrite_target_equal_to_the_path_changes_nothing",
			objs: objects(services("a"),
				ing("rw", an("rewrite-target", "/same"), rule("example.com", path(prefix, "/same", svc("a", 80))))),
			model: []string{"example.com", "  Prefix /same -> default/a/80 (default/rw)"},
		},
		{
			name: "regex_mode_of_rules_without_host_is_their_own",
			objs: objects(services("a", "b"),
				ing("hostless", an("use-regex", "true"), rule("", path(implSpec, "/x.*", svc("a", 80)))),
				ing("named", rule("example.com", path(prefix, "/y", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix /y -> default/b/80 (default/named)",
				"*",
				"  Regex /x.* -> default/a/80 (default/hostless) hostless",
			},
		},
		{
			name: "invalid_regex_skips_only_its_rule",
			objs: objects(services("a"),
				ing("x", an("use-regex", "true"), rule("example.com",
					path(implSpec, "/(a", svc("a", 80)), path(implSpec, "no-slash", svc("a", 80)), path(implSpec, "/ok/?", svc("a", 80))))),
			model:    []string{"example.com", "  Regex /ok/? -> default/a/80 (default/x)"},
			diags:    []string{"InvalidPath default/x", "InvalidPath default/x"},
			messages: []string{`path "/(a" is not a regular expression RE2 accepts`, `path "no-slash" must start with /`},
		},
		{
			name:     "invalid_rewrite_target_skips_the_ingress_rules",
			objs:     objects(services("a"), ing("x", an("rewrite-target", "/$host"), rule("example.com", path(prefix, "/a", svc("a", 80))))),
			model:    []string{"example.com"},
			diags:    []string{"InvalidAnnotation default/x"},
			messages: []string{"the Ingress's rules are not served"},
		},
		{
			name: "same_regex_path_conflicts",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), an("use-regex", "true"), rule("example.com", path(implSpec, "/a+", svc("a", 80)))),
				ing("newer", createdAt(1), an("use-regex", "true"), rule("example.com", path(prefix, "/a+", svc("b", 80))))),
			model: []string{"example.com", "  Regex /a+ -> default/a/80 (default/older)"},
			diags: []string{"PathConflict default/newer"},
		},
	})
}

func TestBuildRedirectAnnotations(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name: "redirect_route_has_no_backend",
			objs: objects(
				ing("r", an("permanent-redirect", "https://example.org/new"), rule("example.com", path(prefix, "/old", svc("missing", 80))))),
			model:    []string{"example.com", "  Prefix /old ->  (default/r) redirect 301 https://example.org/new"},
			backends: []string{},
		},
		{
			name: "ssl_redirect_and_force_ssl_redirect_mark_routes",
			objs: objects(services("a"),
				ing("x", an("ssl-redirect", "false"), an("force-ssl-redirect", "true"), rule("example.com", path(prefix, "/", svc("a", 80))))),
			model: []string{"example.com", "  Prefix / -> default/a/80 (default/x) force-https no-https-redirect"},
		},
		{
			name: "app_root_is_set_on_the_ingress_hosts",
			objs: objects(services("a", "b"),
				ing("old", createdAt(0), an("app-root", "/app"), rule("a.com", path(prefix, "/", svc("a", 80))), rule("b.com", path(prefix, "/", svc("a", 80)))),
				ing("new", createdAt(1), an("app-root", "/other"), rule("b.com", path(prefix, "/b", svc("b", 80))))),
			model: []string{
				"a.com app-root /app (default/old)",
				"  Prefix / -> default/a/80 (default/old)",
				"b.com app-root /app (default/old)",
				"  Prefix /b -> default/b/80 (default/new)",
				"  Prefix / -> default/a/80 (default/old)",
			},
			diags:    []string{"PathConflict default/new"},
			messages: []string{`app-root for host "b.com" ignored: Ingress default/old is older and sets "/app"`},
		},
		{
			name: "from_to_www_adds_the_other_name_unless_a_rule_serves_it",
			objs: objects(services("a"),
				ing("www", an("from-to-www-redirect", "true"), rule("www.a.com", path(prefix, "/", svc("a", 80)))),
				ing("bare", an("from-to-www-redirect", "true"), rule("b.com", path(prefix, "/", svc("a", 80))), rule("c.com", path(prefix, "/", svc("a", 80)))),
				ing("taken", rule("www.c.com", path(prefix, "/", svc("a", 80))))),
			model: []string{
				"a.com -> 308 www.a.com (default/www)",
				"b.com",
				"  Prefix / -> default/a/80 (default/bare)",
				"c.com",
				"  Prefix / -> default/a/80 (default/bare)",
				"www.a.com",
				"  Prefix / -> default/a/80 (default/www)",
				"www.b.com -> 308 b.com (default/bare)",
				"www.c.com",
				"  Prefix / -> default/a/80 (default/taken)",
			},
		},
	})
}

func TestBuildUpstreamAnnotations(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name: "each_upstream_setting_is_its_own_cluster",
			objs: objects(services("a"),
				ing("plain", rule("example.com", path(prefix, "/plain", svc("a", 80)))),
				ing("grpc", an("backend-protocol", "GRPC"), an("proxy-connect-timeout", "10"), rule("example.com", path(prefix, "/grpc", svc("a", 80)))),
				ing("sticky", an("affinity", "cookie"), an("backend-protocol", "HTTPS"), rule("example.com", path(prefix, "/sticky", svc("a", 80))))),
			model: []string{
				"example.com",
				"  Prefix /sticky -> default/a/80/https+affinity (default/sticky) policy",
				"  Prefix /plain -> default/a/80 (default/plain)",
				"  Prefix /grpc -> default/a/80/grpc+connect-10s (default/grpc) policy",
			},
			backends: []string{"default/a/80 -> none", "default/a/80/grpc+connect-10s -> none", "default/a/80/https+affinity -> none"},
		},
		{
			name:     "fcgi_paths_answer_503",
			objs:     objects(services("a"), ing("x", an("backend-protocol", "FCGI"), rule("example.com", path(prefix, "/", svc("a", 80))))),
			model:    []string{"example.com", "  Prefix / -> 503 (default/x)"},
			backends: []string{},
			diags:    []string{"BackendProtocolUnsupported default/x"},
		},
	})
}

func TestBuildCanary(t *testing.T) {
	canary := func(name string, opts ...ingressOpt) *networkingv1.Ingress {
		return ing(name, append([]ingressOpt{createdAt(5), an("canary", "true")}, opts...)...)
	}
	runBuildCases(t, []buildCase{
		{
			name: "canary_joins_the_primary_route_without_conflict",
			objs: objects(services("stable", "next"),
				ing("main", createdAt(9), rule("example.com", path(prefix, "/", svc("stable", 80)), path(prefix, "/api", svc("stable", 80)))),
				canary("main-canary", an("canary-by-header", "X-Canary"), an("canary-by-cookie", "beta"), an("canary-weight", "10"),
					rule("example.com", path(prefix, "/", svc("next", 80))))),
			model: []string{
				"example.com",
				"  Prefix /api -> default/stable/80 (default/main)",
				"  Prefix / -> default/stable/80 (default/main) canary default/next/80/canary header=x-canary cookie=beta weight=10/100 (default/main-canary)",
			},
		},
		{
			name: "canary_uses_the_primary_protocol_and_its_own_affinity",
			objs: objects(services("stable", "next"),
				ing("main", an("backend-protocol", "GRPC"), rule("example.com", path(prefix, "/", svc("stable", 80)))),
				canary("c", an("affinity", "cookie"), an("canary-weight", "50"), rule("example.com", path(prefix, "/", svc("next", 80))))),
			model: []string{
				"example.com",
				"  Prefix / -> default/stable/80/grpc (default/main) canary default/next/80/grpc+affinity+canary weight=50/100 (default/c) policy",
			},
		},
		{
			name: "canary_matches_the_path_in_the_host_regex_mode",
			objs: objects(services("stable", "next"),
				ing("main", an("use-regex", "true"), rule("example.com", path(implSpec, "/v[12]", svc("stable", 80)))),
				canary("c", an("canary-weight", "100"), rule("example.com", path(prefix, "/v[12]", svc("next", 80))))),
			model: []string{"example.com", "  Regex /v[12] -> default/stable/80 (default/main) canary default/next/80/canary weight=100/100 (default/c)"},
		},
		{
			name: "canary_without_primary_is_reported",
			objs: objects(services("stable", "next"),
				ing("main", rule("example.com", path(prefix, "/", svc("stable", 80)))),
				canary("c", an("canary-weight", "10"), rule("example.com", path(exact, "/", svc("next", 80))), rule("other.com", path(prefix, "/", svc("next", 80))))),
			model: []string{"example.com", "  Prefix / -> default/stable/80 (default/main)"},
			diags: []string{"CanaryUnused default/c", "CanaryUnused default/c"},
		},
		{
			name: "second_canary_of_a_route_is_a_conflict",
			objs: objects(services("stable", "next", "later"),
				ing("main", rule("example.com", path(prefix, "/", svc("stable", 80)))),
				canary("first", an("canary-weight", "10"), rule("example.com", path(prefix, "/", svc("next", 80)))),
				canary("second", createdAt(6), an("canary-weight", "10"), rule("example.com", path(prefix, "/", svc("later", 80))))),
			model: []string{"example.com", "  Prefix / -> default/stable/80 (default/main) canary default/next/80/canary weight=10/100 (default/first)"},
			diags: []string{"PathConflict default/second"},
		},
		{
			name: "canary_with_a_missing_service_is_reported_and_primary_kept",
			objs: objects(services("stable"),
				ing("main", rule("example.com", path(prefix, "/", svc("stable", 80)))),
				canary("c", an("canary-weight", "10"), rule("example.com", path(prefix, "/", svc("missing", 80))))),
			model: []string{"example.com", "  Prefix / -> default/stable/80 (default/main)"},
			diags: []string{"ServiceNotFound default/c"},
		},
	})
}

// TestAnnotationsNeverChangeListeners: whatever annotations ask, the
// listeners stay the same, so a route's policy never drains a connection.
func TestAnnotationsNeverChangeListeners(t *testing.T) {
	plain := mixedObjects()
	annotatedObjs := objects(mixedObjects(), services("stable", "next"),
		ing("policy", createdAt(10),
			an("limit-rps", "5"), an("limit-allowlist", "10.0.0.0/8"), an("allowlist-source-range", "10.0.0.0/8"),
			an("enable-cors", "true"), an("cors-allow-origin", "https://*.example.com"), an("proxy-body-size", "1m"),
			an("proxy-read-timeout", "5"), an("upstream-vhost", "internal"), an("x-forwarded-prefix", "/p"),
			an("backend-protocol", "GRPCS"), an("affinity", "cookie"), an("rewrite-target", "/$1"), an("use-regex", "true"),
			an("app-root", "/app"), an("from-to-www-redirect", "true"), an("force-ssl-redirect", "true"),
			rule("annotated.example.com", path(implSpec, "/(.*)", svc("stable", 80)))),
		ing("policy-canary", createdAt(11), an("canary", "true"), an("canary-weight", "10"),
			rule("annotated.example.com", path(implSpec, "/(.*)", svc("next", 80)))),
		ing("redirect", createdAt(12), an("permanent-redirect", "https://example.org/"),
			rule("redirect.example.com", path(prefix, "/", svc("stable", 80)))),
	)
	before, err := translator.Translate(input(plain...), translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	after, err := translator.Translate(input(annotatedObjs...), translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Diagnostics) != len(before.Diagnostics) {
		t.Errorf("the annotated Ingresses added diagnostics: %v", after.Diagnostics[len(before.Diagnostics):])
	}
	if len(before.Resources.Listeners) != len(after.Resources.Listeners) {
		t.Fatalf("%d listeners, then %d", len(before.Resources.Listeners), len(after.Resources.Listeners))
	}
	for i := range before.Resources.Listeners {
		if !proto.Equal(before.Resources.Listeners[i], after.Resources.Listeners[i]) {
			t.Errorf("listener %q changed with annotations", before.Resources.Listeners[i].Name)
		}
	}
}

// TestAnnotationValuesNeverBreakTranslation gives every annotation rukou
// reads values of every awkward kind: each must be reported or honoured,
// and the Envoy configuration must always pass Envoy's validation.
func TestAnnotationValuesNeverBreakTranslation(t *testing.T) {
	names := []string{
		"affinity", "affinity-mode", "allowlist-source-range", "app-root", "auth-url", "backend-protocol",
		"canary-by-cookie", "canary-by-header", "canary-by-header-pattern", "canary-by-header-value",
		"canary-weight", "canary-weight-total", "cors-allow-credentials", "cors-allow-headers",
		"cors-allow-methods", "cors-allow-origin", "cors-expose-headers", "cors-max-age", "denylist-source-range",
		"enable-cors", "force-ssl-redirect", "from-to-www-redirect", "limit-allowlist", "limit-burst-multiplier",
		"limit-rpm", "limit-rps", "limit-whitelist", "permanent-redirect", "permanent-redirect-code",
		"preserve-trailing-slash", "proxy-body-size", "proxy-connect-timeout", "proxy-read-timeout",
		"proxy-send-timeout", "rewrite-target", "session-cookie-expires", "session-cookie-max-age",
		"session-cookie-name", "session-cookie-path", "ssl-redirect", "temporal-redirect",
		"temporal-redirect-code", "upstream-vhost", "use-regex", "whitelist-source-range", "x-forwarded-prefix",
	}
	values := []string{
		"", " ", "true", "false", "0", "-1", "1", "99999999999999999999", "4g", "5g", "1.5", "*", "%", "%%d",
		"%REQ(host)%", "$host", "/$1$9$0", "/a b", "\x00", "\n", "é", "http://", "https://[::1]:0/",
		"https://example.org:99999/", "//example.org", "/(", "(?i)", "10.0.0.0/33", "::1/128, 10.0.0.1",
		"cookie", "GRPCS", "FCGI", strings.Repeat("a", 5000),
	}
	for _, name := range names {
		for _, v := range values {
			for _, canary := range []string{"false", "true"} {
				objs := objects(ingressClass("rukou", ourController, false), services("a", "b"),
					ing("primary", createdAt(0), an("use-regex", "true"), rule("example.com", path(implSpec, "/(x)?", svc("a", 80)))),
					ing("subject", createdAt(1), an("canary", canary), an(name, v), an("use-regex", "true"),
						rule("example.com", path(implSpec, "/(x)?", svc("b", 80))), rule("", path(prefix, "/other", svc("b", 80))),
						defaultBackend(svc("b", 80))))
				res, err := translator.Translate(input(objs...), translator.DefaultOptions())
				if err != nil {
					t.Errorf("%s: %q (canary %s): %v", name, v, canary, err)
					continue
				}
				if len(res.Model.VirtualHosts) == 0 {
					t.Fatalf("%s: %q (canary %s): nothing was translated", name, v, canary)
				}
			}
		}
	}
}
