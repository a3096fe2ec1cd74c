package e2e

import (
	"net/http"
	"testing"
)

// TestServerAlias: server-alias serves more host names with the routes
// of the Ingress's host, as ingress-nginx; an alias that another rule
// names as its host stays that rule's, and is reported on the Ingress.
func TestServerAlias(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "alias", join(
		serviceWith("api", endpoint(harnessBackend(t, "api"), true, nil)),
		serviceWith("web", endpoint(harnessBackend(t, "web"), true, nil)),
		objs(
			annotated("main", map[string]string{"server-alias": "alias.test, other.test,web.test"}, rule("main.test", path(prefix, "/", "api"))),
			ingress("web", rule("web.test", path(prefix, "/", "web"))),
		),
	)...)

	for _, host := range []string{"main.test", "alias.test", "other.test"} {
		s.await(t, call{host: host, path: "/x"}, http.StatusOK, "api")
	}
	s.await(t, call{host: "web.test", path: "/"}, http.StatusOK, "web")
	waitDiagnostic(t, s, "default/main", "AnnotationIgnored", `alias "web.test" of host "main.test" left out`)
	if r := s.must(t, call{host: "unknown.test", path: "/"}); r.status != http.StatusNotFound {
		t.Errorf("a name no rule and no alias names: %d from %q, want 404", r.status, r.backend)
	}
	expectNoRejection(t, s.envoy)
}
