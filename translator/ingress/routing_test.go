package ingress_test

import (
	"testing"
)

func TestBuildPaths(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name:  "exact_path_is_kept_as_written",
			objs:  objects(services("a"), ing("x", rule("example.com", path(exact, "/Foo/", svc("a", 80))))),
			model: []string{"example.com", "  Exact /Foo/ -> default/a/80 (default/x)"},
		},
		{
			name:  "prefix_trailing_slash_is_trimmed",
			objs:  objects(services("a"), ing("x", rule("example.com", path(prefix, "/foo/", svc("a", 80))))),
			model: []string{"example.com", "  Prefix /foo -> default/a/80 (default/x)"},
		},
		{
			name:  "prefix_root_stays_root",
			objs:  objects(services("a"), ing("x", rule("example.com", path(prefix, "/", svc("a", 80))))),
			model: []string{"example.com", "  Prefix / -> default/a/80 (default/x)"},
		},
		{
			name:  "prefix_of_only_slashes_is_root",
			objs:  objects(services("a"), ing("x", rule("example.com", path(prefix, "//", svc("a", 80))))),
			model: []string{"example.com", "  Prefix / -> default/a/80 (default/x)"},
		},
		{
			name:  "empty_path_is_root",
			objs:  objects(services("a"), ing("x", rule("example.com", path(prefix, "", svc("a", 80))))),
			model: []string{"example.com", "  Prefix / -> default/a/80 (default/x)"},
		},
		{
			name:  "implementation_specific_behaves_as_prefix",
			objs:  objects(services("a"), ing("x", rule("example.com", path(implSpec, "/foo/", svc("a", 80))))),
			model: []string{"example.com", "  Prefix /foo -> default/a/80 (default/x)"},
		},
		{
			name:  "missing_path_type_behaves_as_prefix",
			objs:  objects(services("a"), ing("x", rule("example.com", path(noType, "/foo/", svc("a", 80))))),
			model: []string{"example.com", "  Prefix /foo -> default/a/80 (default/x)"},
		},
		{
			name: "path_not_starting_with_slash_is_invalid_and_the_rest_is_served",
			objs: objects(services("a"), ing("x", rule("example.com",
				path(prefix, "foo", svc("a", 80)),
				path(exact, "bar", svc("a", 80)),
				path(prefix, "/ok", svc("a", 80))))),
			model:    []string{"example.com", "  Prefix /ok -> default/a/80 (default/x)"},
			diags:    []string{"InvalidPath default/x", "InvalidPath default/x"},
			messages: []string{`path "foo" must start with /`, `path "bar" must start with /`},
		},
		{
			// Envoy matches paths without the query string, and refuses a
			// path_separated_prefix with "?" or "#": such a path could only
			// fail the whole translation.
			name: "path_with_query_or_fragment_is_invalid_and_the_rest_is_served",
			objs: objects(services("a"), ing("x", rule("example.com",
				path(prefix, "/search?q=1", svc("a", 80)),
				path(exact, "/page#top", svc("a", 80)),
				path(prefix, "/ok", svc("a", 80))))),
			model: []string{"example.com", "  Prefix /ok -> default/a/80 (default/x)"},
			diags: []string{"InvalidPath default/x", "InvalidPath default/x"},
		},
	})
}

func TestBuildRouteOrder(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name: "longest_path_first",
			objs: objects(services("a"), ing("x", rule("example.com",
				path(prefix, "/", svc("a", 80)),
				path(prefix, "/api", svc("a", 80)),
				path(exact, "/api/v1/health", svc("a", 80)),
				path(prefix, "/api/v1", svc("a", 80))))),
			model: []string{
				"example.com",
				"  Exact /api/v1/health -> default/a/80 (default/x)",
				"  Prefix /api/v1 -> default/a/80 (default/x)",
				"  Prefix /api -> default/a/80 (default/x)",
				"  Prefix / -> default/a/80 (default/x)",
			},
		},
		{
			name: "longest_path_first_across_ingresses",
			objs: objects(services("a", "b"),
				ing("old", createdAt(0), rule("example.com", path(prefix, "/", svc("a", 80)))),
				ing("new", createdAt(1), rule("example.com", path(prefix, "/shop", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix /shop -> default/b/80 (default/new)",
				"  Prefix / -> default/a/80 (default/old)",
			},
		},
		{
			name: "exact_before_prefix_on_the_same_path",
			objs: objects(services("a", "b"), ing("x", rule("example.com",
				path(prefix, "/foo", svc("a", 80)),
				path(exact, "/foo", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Exact /foo -> default/b/80 (default/x)",
				"  Prefix /foo -> default/a/80 (default/x)",
			},
		},
		{
			// ingress-nginx puts rules without a host in its default
			// server, which serves only the hosts no rule names.
			name: "hostless_rule_serves_only_hosts_no_rule_names",
			objs: objects(services("a", "b"),
				ing("hostless", createdAt(0), rule("", path(prefix, "/api", svc("a", 80)), path(exact, "/health", svc("a", 80)))),
				ing("hosted", createdAt(1), rule("example.com", path(prefix, "/", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix / -> default/b/80 (default/hosted)",
				"*",
				"  Exact /health -> default/a/80 (default/hostless) hostless",
				"  Prefix /api -> default/a/80 (default/hostless) hostless",
			},
		},
	})
}

func TestBuildHosts(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name:  "host_is_lowercased",
			objs:  objects(services("a"), ing("x", rule("Shop.Example.COM", path(prefix, "/", svc("a", 80))))),
			model: []string{"shop.example.com", "  Prefix / -> default/a/80 (default/x)"},
		},
		{
			name: "hosts_differing_only_in_case_share_a_virtual_host",
			objs: objects(services("a", "b"),
				ing("x", createdAt(0), rule("Example.com", path(prefix, "/a", svc("a", 80)))),
				ing("y", createdAt(1), rule("example.COM", path(prefix, "/b", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix /a -> default/a/80 (default/x)",
				"  Prefix /b -> default/b/80 (default/y)",
			},
		},
		{
			name: "hosts_are_sorted_with_the_wildcard_host_last",
			objs: objects(services("a"),
				ing("x", rule("b.example.com", path(prefix, "/", svc("a", 80)))),
				ing("y", rule("", path(prefix, "/", svc("a", 80)))),
				ing("z", rule("*.example.com", path(prefix, "/", svc("a", 80))), rule("a.example.com", path(prefix, "/", svc("a", 80))))),
			model: []string{
				"*.example.com",
				"  Prefix / -> default/a/80 (default/z)",
				"  Prefix / -> default/a/80 (default/y) hostless",
				"a.example.com",
				"  Prefix / -> default/a/80 (default/z)",
				"b.example.com",
				"  Prefix / -> default/a/80 (default/x)",
				"*",
				"  Prefix / -> default/a/80 (default/y) hostless",
			},
		},
		{
			name:  "no_hostless_rule_and_no_default_backend_means_no_wildcard_host",
			objs:  objects(services("a"), ing("x", rule("example.com", path(prefix, "/", svc("a", 80))))),
			model: []string{"example.com", "  Prefix / -> default/a/80 (default/x)"},
		},
		{
			name: "invalid_hosts_are_reported_and_the_rest_is_served",
			objs: objects(services("a"), ing("x",
				rule("bad_host.example.com", path(prefix, "/", svc("a", 80))),
				rule("*", path(prefix, "/", svc("a", 80))),
				rule("a.*.example.com", path(prefix, "/", svc("a", 80))),
				rule("ok.example.com", path(prefix, "/", svc("a", 80))))),
			model:    []string{"ok.example.com", "  Prefix / -> default/a/80 (default/x)"},
			diags:    []string{"InvalidHost default/x", "InvalidHost default/x", "InvalidHost default/x"},
			messages: []string{`host "bad_host.example.com"`, `host "*"`, `host "a.*.example.com"`},
		},
		{
			// Its virtual host answers 404; the hostless rules and the
			// catch-all serve only hosts no rule names.
			name:  "host_rule_without_paths_serves_nothing",
			objs:  objects(services("a"), ing("x", rule("example.com"))),
			model: []string{"example.com"},
		},
	})
}

func TestBuildDefaultBackends(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name:  "rule_less_default_backend_is_the_catch_all",
			objs:  objects(services("fallback"), ing("catch-all", defaultBackend(svc("fallback", 80)))),
			model: []string{"*", "  Prefix / -> default/fallback/80 (default/catch-all) default"},
		},
		{
			name: "catch_all_serves_only_hosts_no_rule_names_after_hostless_rules",
			objs: objects(services("a", "b", "fallback"),
				ing("catch-all", defaultBackend(svc("fallback", 80))),
				ing("hosted", rule("example.com", path(prefix, "/", svc("a", 80)))),
				ing("hostless", rule("", path(prefix, "/api", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix / -> default/a/80 (default/hosted)",
				"*",
				"  Prefix /api -> default/b/80 (default/hostless) hostless",
				"  Prefix / -> default/fallback/80 (default/catch-all) default",
			},
		},
		{
			name: "oldest_rule_less_default_backend_wins_and_the_other_is_reported",
			objs: objects(services("first", "second"),
				ing("newer", createdAt(5), defaultBackend(svc("second", 80))),
				ing("older", createdAt(1), defaultBackend(svc("first", 80)))),
			model:    []string{"*", "  Prefix / -> default/first/80 (default/older) default"},
			diags:    []string{"PathConflict default/newer"},
			messages: []string{"default/older"},
		},
		{
			name: "losing_default_backend_is_not_resolved",
			objs: objects(services("first"),
				ing("newer", createdAt(5), defaultBackend(svc("missing", 80))),
				ing("older", createdAt(1), defaultBackend(svc("first", 80)))),
			model: []string{"*", "  Prefix / -> default/first/80 (default/older) default"},
			diags: []string{"PathConflict default/newer"},
		},
		{
			name: "default_backend_with_rules_serves_its_own_hosts_after_their_rules",
			objs: objects(services("a", "b", "fallback"),
				ing("shop", rule("shop.example.com", path(prefix, "/cart", svc("a", 80))), defaultBackend(svc("fallback", 80))),
				ing("blog", rule("blog.example.com", path(prefix, "/posts", svc("b", 80))))),
			model: []string{
				"blog.example.com",
				"  Prefix /posts -> default/b/80 (default/blog)",
				"shop.example.com",
				"  Prefix /cart -> default/a/80 (default/shop)",
				"  Prefix / -> default/fallback/80 (default/shop) default",
			},
		},
		{
			name: "own_default_backend_comes_before_the_catch_all",
			objs: objects(services("a", "fallback", "global"),
				ing("catch-all", createdAt(0), defaultBackend(svc("global", 80))),
				ing("shop", createdAt(1), rule("shop.example.com", path(prefix, "/cart", svc("a", 80))), defaultBackend(svc("fallback", 80)))),
			model: []string{
				"shop.example.com",
				"  Prefix /cart -> default/a/80 (default/shop)",
				"  Prefix / -> default/fallback/80 (default/shop) default",
				"*",
				"  Prefix / -> default/global/80 (default/catch-all) default",
			},
		},
		{
			name: "wildcard_host_own_default_then_catch_all_for_deeper_names",
			objs: objects(services("a", "fallback", "global"),
				ing("catch-all", createdAt(0), defaultBackend(svc("global", 80))),
				ing("wild", createdAt(1), rule("*.example.com", path(prefix, "/a", svc("a", 80))), defaultBackend(svc("fallback", 80)))),
			model: []string{
				"*.example.com",
				"  Prefix /a -> default/a/80 (default/wild)",
				"  Prefix / -> default/fallback/80 (default/wild) default",
				"  Prefix / -> default/global/80 (default/catch-all) default",
				"*",
				"  Prefix / -> default/global/80 (default/catch-all) default",
			},
		},
		{
			// As in ingress-nginx, whose default server already exists
			// when the Ingress's hostless rules join it.
			name: "default_backend_of_hostless_rules_is_not_used_and_reported",
			objs: objects(services("a", "fallback"),
				ing("x", rule("", path(prefix, "/a", svc("a", 80))), defaultBackend(svc("fallback", 80)))),
			model: []string{
				"*",
				"  Prefix /a -> default/a/80 (default/x) hostless",
			},
			diags: []string{"DefaultBackendUnused default/x"},
		},
		{
			name: "default_backend_serves_a_host_rule_without_paths",
			objs: objects(services("fallback"),
				ing("x", rule("example.com"), defaultBackend(svc("fallback", 80)))),
			model: []string{"example.com", "  Prefix / -> default/fallback/80 (default/x) default"},
		},
		{
			name: "oldest_default_backend_of_a_host_wins_and_the_other_is_reported",
			objs: objects(services("a", "b", "first", "second"),
				ing("newer", createdAt(5), rule("example.com", path(prefix, "/b", svc("b", 80))), defaultBackend(svc("second", 80))),
				ing("older", createdAt(1), rule("example.com", path(prefix, "/a", svc("a", 80))), defaultBackend(svc("first", 80)))),
			model: []string{
				"example.com",
				"  Prefix /a -> default/a/80 (default/older)",
				"  Prefix /b -> default/b/80 (default/newer)",
				"  Prefix / -> default/first/80 (default/older) default",
			},
			diags:    []string{"PathConflict default/newer"},
			messages: []string{`host "example.com": Ingress default/older is older`},
		},
		{
			name: "default_backend_is_kept_for_the_hosts_it_does_not_lose",
			objs: objects(services("first", "second"),
				ing("newer", createdAt(5), rule("a.example.com"), rule("b.example.com"), defaultBackend(svc("second", 80))),
				ing("older", createdAt(1), rule("a.example.com"), defaultBackend(svc("first", 80)))),
			model: []string{
				"a.example.com",
				"  Prefix / -> default/first/80 (default/older) default",
				"b.example.com",
				"  Prefix / -> default/second/80 (default/newer) default",
			},
			diags: []string{"PathConflict default/newer"},
		},
		{
			name:  "default_backend_with_a_missing_service_answers_503",
			objs:  objects(ing("catch-all", defaultBackend(svc("missing", 80)))),
			model: []string{"*", "  Prefix / -> 503 (default/catch-all) default"},
			diags: []string{"ServiceNotFound default/catch-all"},
		},
	})
}

func TestBuildConflicts(t *testing.T) {
	runBuildCases(t, []buildCase{
		{
			name: "same_host_path_and_type_older_ingress_wins",
			objs: objects(services("a", "b"),
				ing("newer", createdAt(10), rule("example.com", path(prefix, "/api", svc("b", 80)))),
				ing("older", createdAt(0), rule("example.com", path(prefix, "/api", svc("a", 80))))),
			model:    []string{"example.com", "  Prefix /api -> default/a/80 (default/older)"},
			diags:    []string{"PathConflict default/newer"},
			messages: []string{`host "example.com" path "/api" (Prefix) is already served by the older Ingress default/older`},
		},
		{
			name: "same_age_lower_namespace_wins",
			objs: objects(services("a"),
				ing("web", namespace("zeta"), rule("example.com", path(prefix, "/", svc("a", 80)))),
				ing("web", rule("example.com", path(prefix, "/", svc("a", 80))))),
			model:    []string{"example.com", "  Prefix / -> default/a/80 (default/web)"},
			diags:    []string{"PathConflict zeta/web"},
			messages: []string{"default/web"},
		},
		{
			name: "same_age_and_namespace_lower_name_wins",
			objs: objects(services("a", "b"),
				ing("b", rule("example.com", path(exact, "/x", svc("b", 80)))),
				ing("a", rule("example.com", path(exact, "/x", svc("a", 80))))),
			model:    []string{"example.com", "  Exact /x -> default/a/80 (default/a)"},
			diags:    []string{"PathConflict default/b"},
			messages: []string{"default/a"},
		},
		{
			name: "prefix_with_and_without_trailing_slash_conflict",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("example.com", path(prefix, "/api", svc("a", 80)))),
				ing("newer", createdAt(1), rule("example.com", path(implSpec, "/api/", svc("b", 80))))),
			model:    []string{"example.com", "  Prefix /api -> default/a/80 (default/older)"},
			diags:    []string{"PathConflict default/newer"},
			messages: []string{`path "/api/"`},
		},
		{
			name: "hosts_differing_only_in_case_conflict",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("example.com", path(prefix, "/", svc("a", 80)))),
				ing("newer", createdAt(1), rule("EXAMPLE.com", path(prefix, "/", svc("b", 80))))),
			model: []string{"example.com", "  Prefix / -> default/a/80 (default/older)"},
			diags: []string{"PathConflict default/newer"},
		},
		{
			name: "hostless_rules_conflict_with_each_other",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("", path(prefix, "/", svc("a", 80)))),
				ing("newer", createdAt(1), rule("", path(prefix, "/", svc("b", 80))))),
			model: []string{"*", "  Prefix / -> default/a/80 (default/older) hostless"},
			diags: []string{"PathConflict default/newer"},
		},
		{
			name: "same_path_with_another_type_is_no_conflict",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("example.com", path(prefix, "/api", svc("a", 80)))),
				ing("newer", createdAt(1), rule("example.com", path(exact, "/api", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Exact /api -> default/b/80 (default/newer)",
				"  Prefix /api -> default/a/80 (default/older)",
			},
		},
		{
			name: "same_path_on_another_host_is_no_conflict",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("a.example.com", path(prefix, "/", svc("a", 80)))),
				ing("newer", createdAt(1), rule("b.example.com", path(prefix, "/", svc("b", 80))))),
			model: []string{
				"a.example.com",
				"  Prefix / -> default/a/80 (default/older)",
				"b.example.com",
				"  Prefix / -> default/b/80 (default/newer)",
			},
		},
		{
			name: "same_path_of_a_host_and_a_hostless_rule_is_no_conflict",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("", path(prefix, "/", svc("a", 80)))),
				ing("newer", createdAt(1), rule("example.com", path(prefix, "/", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix / -> default/b/80 (default/newer)",
				"*",
				"  Prefix / -> default/a/80 (default/older) hostless",
			},
		},
		{
			name: "losing_rule_is_dropped_but_the_rest_of_its_ingress_is_served",
			objs: objects(services("a", "b"),
				ing("older", createdAt(0), rule("example.com", path(prefix, "/api", svc("a", 80)))),
				ing("newer", createdAt(1), rule("example.com", path(prefix, "/api", svc("b", 80)), path(prefix, "/docs", svc("b", 80))))),
			model: []string{
				"example.com",
				"  Prefix /docs -> default/b/80 (default/newer)",
				"  Prefix /api -> default/a/80 (default/older)",
			},
			diags: []string{"PathConflict default/newer"},
		},
		{
			name: "a_rule_repeated_in_one_ingress_is_reported",
			objs: objects(services("a"),
				ing("x", rule("example.com", path(prefix, "/", svc("a", 80))), rule("example.com", path(prefix, "/", svc("a", 80))))),
			model:    []string{"example.com", "  Prefix / -> default/a/80 (default/x)"},
			diags:    []string{"PathConflict default/x"},
			messages: []string{"default/x"},
		},
	})
}
