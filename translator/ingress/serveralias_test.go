package ingress_test

import "testing"

func TestBuildServerAlias(t *testing.T) {
	alias := func(v string) ingressOpt { return annotate("nginx.ingress.kubernetes.io/server-alias", v) }
	runBuildCases(t, []buildCase{
		{
			name: "aliases_serve_the_hosts_routes",
			objs: objects(services("api"), ing("x", alias(" Alias.test , b.test,alias.test"), rule("example.com", path(prefix, "/api", svc("api", 80))))),
			model: []string{"alias.test", "  Prefix /api -> default/api/80 (default/x)", "b.test", "  Prefix /api -> default/api/80 (default/x)",
				"example.com", "  Prefix /api -> default/api/80 (default/x)"},
		},
		{
			name: "alias_named_by_a_rule_is_left_out",
			objs: objects(services("api", "web"),
				ing("x", alias("web.test,example.com"), rule("example.com", path(prefix, "/", svc("api", 80)))),
				ing("y", createdAt(1), rule("web.test", path(prefix, "/", svc("web", 80))))),
			model:    []string{"example.com", "  Prefix / -> default/api/80 (default/x)", "web.test", "  Prefix / -> default/web/80 (default/y)"},
			diags:    []string{"AnnotationIgnored default/x"},
			messages: []string{`alias "web.test" of host "example.com" left out: a rule names it`},
		},
		{
			name: "the_oldest_ingress_sets_a_hosts_aliases",
			objs: objects(services("api", "web"),
				ing("x", alias("a.test"), rule("example.com", path(prefix, "/api", svc("api", 80)))),
				ing("y", createdAt(1), alias("b.test"), rule("example.com", path(prefix, "/web", svc("web", 80))))),
			model: []string{"a.test", "  Prefix /api -> default/api/80 (default/x)", "  Prefix /web -> default/web/80 (default/y)",
				"example.com", "  Prefix /api -> default/api/80 (default/x)", "  Prefix /web -> default/web/80 (default/y)"},
			diags:    []string{"PathConflict default/y"},
			messages: []string{"Ingress default/x is older and sets the host's aliases"},
		},
		{
			name: "an_alias_of_two_hosts_goes_to_the_first_by_name",
			objs: objects(services("api", "web"),
				ing("x", alias("a.test"), rule("two.test", path(prefix, "/", svc("api", 80)))),
				ing("y", createdAt(1), alias("a.test"), rule("one.test", path(prefix, "/", svc("web", 80))))),
			model: []string{"a.test", "  Prefix / -> default/web/80 (default/y)", "one.test", "  Prefix / -> default/web/80 (default/y)",
				"two.test", "  Prefix / -> default/api/80 (default/x)"},
			diags:    []string{"PathConflict default/x"},
			messages: []string{`host "one.test" has it too and comes first`},
		},
		{
			name:  "a_name_that_is_not_a_host_is_reported",
			objs:  objects(services("api"), ing("x", alias("bad_name,ok.test"), rule("example.com", path(prefix, "/", svc("api", 80))))),
			model: []string{"example.com", "  Prefix / -> default/api/80 (default/x)", "ok.test", "  Prefix / -> default/api/80 (default/x)"},
			diags: []string{"InvalidAnnotation default/x"},
		},
	})
}
