package e2e

import (
	"net/http"
	"testing"
)

// TestPathSpellingsMeetTheSamePolicy: a policy on /admin holds however the
// client spells the path (merged slashes, dot segments, escaped slashes),
// as nginx matches its locations on the normalised path. A path with an
// escaped slash is redirected to its decoded form, which then meets the
// policy of the path it names.
func TestPathSpellingsMeetTheSamePolicy(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "spellings", join(backend(t, "open"), backend(t, "admin"), objs(
		ingress("site", rule("edge.test", path(prefix, "/", "open"), path(prefix, "/api", "open"))),
		annotated("admin", map[string]string{"allowlist-source-range": "127.0.0.2/32"},
			rule("edge.test", path(prefix, "/admin", "admin"))),
	))...)
	s.await(t, call{host: "edge.test", path: "/admin", from: "127.0.0.2"}, http.StatusOK, "admin")

	for _, c := range []struct {
		name, path string
		// redirect, when set, is where the path is sent first.
		redirect string
	}{
		{"plain_path", "/admin", ""},
		{"merged_slashes", "//admin", ""},
		{"merged_slashes_inside", "/admin//users", ""},
		{"dot_segment", "/./admin", ""},
		{"dot_dot_segment", "/api/../admin", ""},
		{"escaped_slash_at_the_end", "/admin%2f", "/admin/"},
		{"escaped_slash_upper_case", "/admin%2Fusers", "/admin/users"},
		{"escaped_backslash", "/admin%5cusers", "/admin/users"},
		{"escaped_slash_and_dot_dot", "/api/..%2fadmin", "/admin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if c.redirect != "" {
				r := s.must(t, call{host: "edge.test", path: c.path, from: "127.0.0.3"})
				if r.status < 300 || r.status > 399 || r.header.Get("Location") != c.redirect {
					t.Fatalf("GET %s: %d Location %q, want a redirect to %q", c.path, r.status, r.header.Get("Location"), c.redirect)
				}
				path = c.redirect
			}
			if r := s.must(t, call{host: "edge.test", path: path, from: "127.0.0.3"}); r.status != http.StatusForbidden {
				t.Errorf("GET %s from a denied address: %d (backend %q), want 403", path, r.status, r.backend)
			}
			r := s.must(t, call{host: "edge.test", path: path, from: "127.0.0.2"})
			if r.status != http.StatusOK || r.backend != "admin" {
				t.Errorf("GET %s from the allowed address: %d from %q, want 200 from admin", path, r.status, r.backend)
			}
		})
	}
	t.Run("backend_receives_the_normalised_path", func(t *testing.T) {
		r := s.must(t, call{host: "edge.test", path: "//api/./v1//items", from: "127.0.0.3"})
		if r.echo == nil || r.echo.Path != "/api/v1/items" {
			t.Fatalf("GET //api/./v1//items: %d, echo %+v, want /api/v1/items at the backend", r.status, r.echo)
		}
	})
	expectNoRejection(t, s.envoy)
}
