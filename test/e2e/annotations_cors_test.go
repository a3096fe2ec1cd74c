package e2e

import (
	"net/http"
	"testing"
)

// TestAnnotationCORS: with enable-cors, a preflight from an allowed origin
// is answered by rukou with 204 and the CORS headers; an actual request
// from it gets its origin back; an origin that does not match gets no CORS
// header, and its preflight reaches the backend. "*." matches one label.
// The Ingresses are translator/testdata/in/e2e_cors.yaml.
func TestAnnotationCORS(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_cors.yaml", backend(t, "api"))
	preflight := func(host, origin string) call {
		return call{method: http.MethodOptions, host: host, path: "/resource",
			header: headers("Origin", origin, "Access-Control-Request-Method", "PUT")}
	}

	t.Run("preflight_from_listed_origin_answers_204", func(t *testing.T) {
		r := s.await(t, preflight("listed.test", "https://app.example.com"), http.StatusNoContent, "")
		expectHeaders(t, r.header, map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Methods":     "GET, PUT",
			"Access-Control-Allow-Headers":     "X-Token, Content-Type",
			"Access-Control-Expose-Headers":    "X-Request-Id",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Allow-Credentials": "",
		})
		if r.backend != "" {
			t.Errorf("the preflight reached backend %q", r.backend)
		}
	})
	t.Run("preflight_is_answered_before_a_redirect", func(t *testing.T) {
		// As in ingress-nginx, whose CORS block returns before its
		// redirects; other requests are redirected.
		s.await(t, preflight("redirected.test", "https://app.example.com"), http.StatusNoContent, "")
		if r := s.must(t, call{host: "redirected.test", path: "/resource"}); r.status != http.StatusPermanentRedirect {
			t.Errorf("GET over plain HTTP with force-ssl-redirect: %d, want 308", r.status)
		}
	})
	t.Run("wildcard_origin_matches_one_label", func(t *testing.T) {
		r := s.await(t, preflight("listed.test", "https://eu.partner.example:8443"), http.StatusNoContent, "")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://eu.partner.example:8443" {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
		r = s.must(t, preflight("listed.test", "https://a.b.partner.example:8443"))
		if r.status == http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("two labels matched the one-label wildcard: %d %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("actual_request_from_listed_origin_gets_cors_headers", func(t *testing.T) {
		r := s.await(t, call{host: "listed.test", path: "/resource", header: headers("Origin", "https://APP.example.com")}, http.StatusOK, "api")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://APP.example.com" {
			t.Errorf("Access-Control-Allow-Origin = %q, want the request's origin", got)
		}
		if got := r.header.Get("Access-Control-Expose-Headers"); got != "X-Request-Id" {
			t.Errorf("Access-Control-Expose-Headers = %q", got)
		}
	})
	t.Run("other_origin_gets_no_cors_headers", func(t *testing.T) {
		r := s.await(t, call{host: "listed.test", path: "/resource", header: headers("Origin", "https://evil.example")}, http.StatusOK, "api")
		for name := range r.header {
			if len(name) > 15 && name[:15] == "Access-Control-" {
				t.Errorf("a request from another origin got %s: %q", name, r.header.Get(name))
			}
		}
		r = s.await(t, preflight("listed.test", "https://evil.example"), http.StatusOK, "api")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("a preflight from another origin got Access-Control-Allow-Origin %q", got)
		}
	})
	t.Run("default_allows_any_origin_with_credentials", func(t *testing.T) {
		r := s.await(t, preflight("any.test", "https://whoever.example"), http.StatusNoContent, "")
		expectHeaders(t, r.header, map[string]string{
			"Access-Control-Allow-Origin":      "*",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, PUT, POST, DELETE, PATCH, OPTIONS",
			"Access-Control-Max-Age":           "1728000",
		})
		r = s.await(t, call{host: "any.test", path: "/"}, http.StatusOK, "api")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("actual request: Access-Control-Allow-Origin = %q, want *", got)
		}
	})
	expectNoRejection(t, s.envoy)
}

// expectHeaders checks response headers; "" means absent.
func expectHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for name, value := range want {
		if got := h.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
}

// TestAnnotationCORSOrigins: origins of any scheme (apps in web views send
// capacitor:// or tauri://) and null are allowed when listed, as
// ingress-nginx accepts them; a cors-allow-origin of only spaces allows
// every origin.
func TestAnnotationCORSOrigins(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "origins", join(backend(t, "api"), objs(
		annotated("apps", map[string]string{"enable-cors": "true", "cors-allow-origin": "capacitor://localhost, tauri://localhost, null"},
			rule("apps.test", path(prefix, "/", "api"))),
		annotated("spaces", map[string]string{"enable-cors": "true", "cors-allow-origin": "   "},
			rule("spaces.test", path(prefix, "/", "api"))),
	))...)
	preflight := func(host, origin string) call {
		return call{method: http.MethodOptions, host: host, path: "/", header: headers("Origin", origin, "Access-Control-Request-Method", "PUT")}
	}
	for _, origin := range []string{"capacitor://localhost", "tauri://localhost", "null"} {
		r := s.await(t, preflight("apps.test", origin), http.StatusNoContent, "")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q", origin, got)
		}
	}
	if r := s.await(t, preflight("apps.test", "https://other.example"), http.StatusOK, "api"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an unlisted origin got Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	r := s.await(t, preflight("spaces.test", "https://whoever.example"), http.StatusNoContent, "")
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("cors-allow-origin of spaces: Access-Control-Allow-Origin = %q, want *", got)
	}
	expectNoRejection(t, s.envoy)
}
