package e2e

import (
	"net/http"
	"testing"
)

// TestAnnotationRewriteTarget is ingress-nginx's rewrite example: with
// use-regex, path /something(/|$)(.*) and rewrite-target /$2, /something
// reaches the backend as /, /something/new as /new, the query is kept, and
// every path of the host (on every Ingress) matches as a case-insensitive
// regular expression. An invalid regular expression is reported and only
// its rule is skipped. The Ingresses are
// translator/testdata/in/e2e_rewrite.yaml.
func TestAnnotationRewriteTarget(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_rewrite.yaml", backend(t, "rewritten"), backend(t, "static"), backend(t, "other"))

	for _, c := range []struct {
		name, path, wantPath, wantQuery string
	}{
		{"bare_prefix_becomes_root", "/something", "/", ""},
		{"trailing_slash_becomes_root", "/something/", "/", ""},
		{"second_group_is_kept", "/something/new", "/new", ""},
		{"deeper_path_is_kept", "/something/new/deeper/page.html", "/new/deeper/page.html", ""},
		{"query_is_kept", "/something/search?q=envoy&page=2", "/search", "q=envoy&page=2"},
		{"match_is_case_insensitive", "/SomeThing/Mixed", "/Mixed", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.await(t, call{host: "rewrite.test", path: c.path}, http.StatusOK, "rewritten")
			if r.echo.Path != c.wantPath || r.echo.RawQuery != c.wantQuery {
				t.Errorf("backend got path %q query %q, want %q and %q", r.echo.Path, r.echo.RawQuery, c.wantPath, c.wantQuery)
			}
		})
	}
	t.Run("other_ingress_of_the_host_matches_case_insensitively", func(t *testing.T) {
		r := s.await(t, call{host: "rewrite.test", path: "/STATIC/logo.png"}, http.StatusOK, "static")
		if r.echo.Path != "/STATIC/logo.png" {
			t.Errorf("a path without rewrite reached the backend as %q", r.echo.Path)
		}
	})
	t.Run("regex_path_matches_from_the_start_only", func(t *testing.T) {
		s.await(t, call{host: "rewrite.test", path: "/x/something/new"}, http.StatusNotFound, "")
	})
	t.Run("target_equal_to_path_is_no_rewrite", func(t *testing.T) {
		r := s.await(t, call{host: "other.test", path: "/other/page"}, http.StatusOK, "other")
		if r.echo.Path != "/other/page" {
			t.Errorf("backend got %q, want the path unchanged", r.echo.Path)
		}
		// Nor regex mode: Prefix stays case-sensitive.
		s.await(t, call{host: "other.test", path: "/OTHER/page"}, http.StatusNotFound, "")
	})
	t.Run("invalid_regex_is_reported_and_its_rule_skipped", func(t *testing.T) {
		waitDiagnostic(t, s, "default/broken", "InvalidPath", "(?<=x)lookbehind")
		s.await(t, call{host: "broken.test", path: "/fine42"}, http.StatusOK, "other")
		s.await(t, call{host: "broken.test", path: "/xlookbehind"}, http.StatusNotFound, "")
	})
	expectNoRejection(t, s.envoy)
}
