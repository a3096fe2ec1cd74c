package e2e

import (
	"net/http"
	"strconv"
	"testing"
)

// TestCustomHTTPErrors: with custom-http-errors in the ConfigMap, a
// backend's 503 reaches the client as 503 with the default backend's
// answer, which was told the original status and where the request went,
// as ingress-nginx tells it; a 200 passes untouched; an Ingress's
// custom-http-errors annotation replaces the ConfigMap's list for it; its
// default-backend annotation names another Service to answer, and
// disable-proxy-intercept-errors lets the backend's own 503 through.
func TestCustomHTTPErrors(t *testing.T) {
	s := startStackArgs(t, "--configmap", "default/rukou", "--default-backend-service", "default/fallback")
	s.applyConfigMap(t, map[string]string{"custom-http-errors": "404,503,abc"})
	s.apply(t, "fallback", backend(t, "fallback")...)
	s.apply(t, "other", backend(t, "other")...)
	s.apply(t, "site", join(backend(t, "site"), objs(
		ingress("site", rule("site.test", path(prefix, "/", "site"))),
		annotated("own", map[string]string{"default-backend": "other"}, rule("own.test", path(prefix, "/", "site"))),
		annotated("off", map[string]string{"disable-proxy-intercept-errors": "true"}, rule("off.test", path(prefix, "/", "site"))),
		annotated("listed", map[string]string{"custom-http-errors": "418"}, rule("listed.test", path(prefix, "/", "site"))),
	))...)

	t.Run("a_503_gets_the_default_backends_answer_with_503", func(t *testing.T) {
		r := s.await(t, call{host: "site.test", path: "/fail?status=503", header: http.Header{"Accept": {"text/html"}}}, http.StatusServiceUnavailable, "fallback")
		want := map[string]string{
			"X-Code": "503", "X-Format": "text/html", "X-Original-URI": "/fail?status=503", "X-Namespace": ns,
			"X-Ingress-Name": "site", "X-Service-Name": "site", "X-Service-Port": "80",
		}
		for name, v := range want {
			if got, _ := echoHeader(r, name); got != v {
				t.Errorf("default backend saw %s %q, want %q", name, got, v)
			}
		}
		if id, _ := echoHeader(r, "X-Request-ID"); id == "" {
			t.Errorf("default backend saw no X-Request-ID")
		}
		if got, ok := echoHeader(r, "X-Rukou-Internal"); ok {
			t.Errorf("default backend saw the internal secret %q", got)
		}
		if r.echo.Path != "/" {
			t.Errorf("default backend got path %q, want /", r.echo.Path)
		}
		id, _ := echoHeader(r, "X-Request-ID")
		l := awaitLogLine(t, s.envoy, id)
		if l["status"] != "503" || l["request"] != "GET /fail?status=503 HTTP/1.1" || l["proxy_upstream_name"] != "upstream-default-backend" {
			t.Errorf("access log line %q: want status 503, the client's path and upstream-default-backend", l["line"])
		}
		// One line, as nginx writes, with the size of the page the client
		// got; Envoy also ends a stream of its own for the redirect to the
		// page, whose line would come first.
		var lines []string
		for _, x := range accessLines(s.envoy) {
			if x["req_id"] == id {
				lines = append(lines, x["line"])
			}
		}
		if len(lines) != 1 || l["body_bytes_sent"] != strconv.Itoa(len(r.body)) {
			t.Errorf("access log lines of the request: %q, want one, with body_bytes_sent %d", lines, len(r.body))
		}
	})
	t.Run("the_clients_request_id_is_kept", func(t *testing.T) {
		// As nginx's $req_id: the default backend and the log line get
		// the ID the client sent. A UUID of version 7 (time-ordered, as
		// many clients make them) keeps its version digit, which Envoy
		// would otherwise use for its tracing decision.
		const rid = "0190b6f4-5d3e-7c2a-9b1e-3f4a5b6c7d8e"
		r := s.await(t, call{host: "site.test", path: "/fail?status=503", header: headers("X-Request-ID", rid)}, http.StatusServiceUnavailable, "fallback")
		if got, _ := echoHeader(r, "X-Request-ID"); got != rid {
			t.Errorf("default backend saw X-Request-ID %q, want %q", got, rid)
		}
		awaitLogLine(t, s.envoy, rid)
	})
	t.Run("over_https_too", func(t *testing.T) {
		s.await(t, call{host: "site.test", path: "/?status=404", https: true}, http.StatusNotFound, "fallback")
	})
	t.Run("a_200_passes_untouched", func(t *testing.T) {
		s.await(t, call{host: "site.test", path: "/ok"}, http.StatusOK, "site")
		s.await(t, call{host: "site.test", path: "/ok?status=500"}, http.StatusInternalServerError, "site")
	})
	t.Run("default_backend_annotation_names_the_service_that_answers", func(t *testing.T) {
		s.await(t, call{host: "own.test", path: "/?status=404"}, http.StatusNotFound, "other")
	})
	t.Run("annotation_list_replaces_the_configmaps_for_its_ingress", func(t *testing.T) {
		r := s.await(t, call{host: "listed.test", path: "/?status=418"}, http.StatusTeapot, "fallback")
		if got, _ := echoHeader(r, "X-Ingress-Name"); got != "listed" {
			t.Errorf("default backend saw X-Ingress-Name %q, want listed", got)
		}
		s.await(t, call{host: "listed.test", path: "/?status=503"}, http.StatusServiceUnavailable, "site")
		s.await(t, call{host: "site.test", path: "/?status=418"}, http.StatusTeapot, "site")
	})
	t.Run("disable_proxy_intercept_errors_passes_the_503", func(t *testing.T) {
		s.await(t, call{host: "off.test", path: "/?status=503"}, http.StatusServiceUnavailable, "site")
	})
	t.Run("clients_cannot_reach_the_internal_host", func(t *testing.T) {
		for _, h := range []http.Header{nil, {"X-Rukou-Internal": {"guess default/fallback/80"}}} {
			r := s.must(t, call{host: "rukou-internal.invalid", path: "/", header: h})
			if r.status != http.StatusNotFound || r.backend != "" {
				t.Errorf("Host rukou-internal.invalid with %v: %d from %q, want 404 from Envoy", h, r.status, r.backend)
			}
		}
	})
	expectConfigMapDiagnostic(t, s, "data[custom-http-errors]", "InvalidConfigValue")
	expectNoRejection(t, s.envoy)
}
