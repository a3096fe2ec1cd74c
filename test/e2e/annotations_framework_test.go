package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestAnnotationFramework: snippet annotations are refused and reported
// while the rest of the Ingress is served; annotations rukou does not
// support are reported once each; an invalid value falls back to the
// default; an authentication rukou cannot enforce makes the paths answer
// 503 rather than serve them unprotected.
func TestAnnotationFramework(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "framework", join(backend(t, "web"), objs(
		annotated("snippets", map[string]string{
			"configuration-snippet": `more_set_headers "X-Injected: yes";`,
			"server-snippet":        "location /admin { return 200; }",
			"auth-tls-match-cn":     "CN=x",
			"ssl-redirect":          "maybe",
		}, rule("snippets.test", path(prefix, "/", "web"))),
		annotated("private", map[string]string{"auth-type": "basic", "auth-secret": "users"},
			rule("private.test", path(prefix, "/", "web"))),
	))...)

	r := s.await(t, call{host: "snippets.test", path: "/admin"}, http.StatusOK, "web")
	if r.header.Get("X-Injected") != "" {
		t.Error("a configuration snippet took effect")
	}
	for _, d := range []struct{ ingress, reason, mention string }{
		{"default/snippets", "SnippetRefused", "configuration text"},
		{"default/snippets", "AnnotationIgnored", "ignored without auth-tls-secret"},
		{"default/snippets", "InvalidAnnotation", `"maybe"`},
		{"default/private", "SecretNotFound", "default/users not found"},
	} {
		waitDiagnostic(t, s, d.ingress, d.reason, d.mention)
	}
	s.await(t, call{host: "private.test", path: "/"}, http.StatusServiceUnavailable, "")

	t.Run("each_annotation_is_reported_once", func(t *testing.T) {
		body, err := s.rukou.Debug("/debug/config")
		if err != nil {
			t.Fatal(err)
		}
		var dump struct {
			Diagnostics []struct{ Name, Field, Reason string }
		}
		if err := json.Unmarshal([]byte(body), &dump); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, d := range dump.Diagnostics {
			seen[d.Name+" "+d.Field]++
		}
		for key, n := range seen {
			if n != 1 {
				t.Errorf("%s reported %d times", key, n)
			}
		}
		if seen["snippets metadata.annotations["+nginx+"server-snippet]"] != 1 || seen["snippets metadata.annotations["+nginx+"auth-tls-match-cn]"] != 1 {
			t.Errorf("diagnostics by Ingress and field: %v", seen)
		}
	})
	expectNoRejection(t, s.envoy)
}
