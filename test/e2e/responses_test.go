package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestLocalReplyBodies: the answers Envoy makes itself carry a short HTML
// page in the shape of ingress-nginx's (title and heading "404 Not Found",
// footer "rukou"), with Content-Type text/html: no route, no ready
// endpoint, a body too large, a denied address, and the 503 of an Ingress
// rukou cannot serve (a direct response). A gRPC request keeps Envoy's
// gRPC answer, and a backend's own error body passes unchanged.
func TestLocalReplyBodies(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "replies", join(backend(t, "api"), serviceWith("idle", endpoint(harnessBackend(t, "idle"), false, nil)), objs(
		ingress("api", rule("api.test", path(prefix, "/", "api"))),
		ingress("idle", rule("idle.test", path(prefix, "/", "idle"))),
		annotated("small", map[string]string{"proxy-body-size": "1k", "denylist-source-range": "127.0.0.7/32"}, rule("small.test", path(prefix, "/", "api"))),
		annotated("fcgi", map[string]string{"backend-protocol": "FCGI"}, rule("fcgi.test", path(prefix, "/", "api"))),
	))...)
	s.await(t, call{host: "api.test", path: "/"}, http.StatusOK, "api")

	for _, c := range []struct {
		name  string
		call  call
		title string
	}{
		{"no_route_answers_404_page", call{host: "nobody.test", path: "/"}, "404 Not Found"},
		{"no_ready_endpoint_answers_503_page", call{host: "idle.test", path: "/"}, "503 Service Temporarily Unavailable"},
		{"body_too_large_answers_413_page", call{method: http.MethodPost, host: "small.test", path: "/", body: strings.NewReader(strings.Repeat("x", 4096))}, "413 Request Entity Too Large"},
		{"denied_address_answers_403_page", call{host: "small.test", path: "/", from: "127.0.0.7"}, "403 Forbidden"},
		{"unservable_ingress_answers_503_page", call{host: "fcgi.test", path: "/"}, "503 Service Temporarily Unavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, err := strconv.Atoi(c.title[:3])
			if err != nil {
				t.Fatal(err)
			}
			r := s.await(t, c.call, status, "")
			want := "<html>\r\n<head><title>" + c.title + "</title></head>\r\n<body>\r\n<center><h1>" + c.title +
				"</h1></center>\r\n<hr><center>rukou</center>\r\n</body>\r\n</html>\r\n"
			if r.body != want {
				t.Errorf("body %q, want %q", r.body, want)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q, want text/html", ct)
			}
		})
	}
	t.Run("head_request_gets_no_body", func(t *testing.T) {
		r := s.must(t, call{method: http.MethodHead, host: "nobody.test", path: "/"})
		if r.status != http.StatusNotFound || r.body != "" {
			t.Errorf("HEAD: %d with %q, want 404 without a body", r.status, r.body)
		}
	})
	t.Run("grpc_request_keeps_grpc_answer", func(t *testing.T) {
		r := s.must(t, call{method: http.MethodPost, host: "nobody.test", path: "/pkg.Svc/Call", header: headers("Content-Type", "application/grpc")})
		if r.header.Get("Grpc-Status") == "" || strings.Contains(r.body, "<html>") || strings.Contains(r.header.Get("Grpc-Message"), "html") {
			t.Errorf("gRPC request to no route: %d, grpc-status %q, grpc-message %q, body %q; want a gRPC answer without a page",
				r.status, r.header.Get("Grpc-Status"), r.header.Get("Grpc-Message"), r.body)
		}
	})
	t.Run("backend_error_body_passes_unchanged", func(t *testing.T) {
		// The echo backend answers ?status=404 itself: not a local reply.
		r := s.await(t, call{host: "api.test", path: "/missing?status=404"}, http.StatusNotFound, "api")
		if strings.Contains(r.body, "<center>rukou</center>") {
			t.Errorf("a backend's 404 got rukou's page: %q", r.body)
		}
	})
	expectNoRejection(t, s.envoy)
}
