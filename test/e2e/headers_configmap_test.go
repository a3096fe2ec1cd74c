package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// TestConfigMapHeaders: the ConfigMap that proxy-set-headers names sets
// headers on every request to a backend (an nginx variable in a value
// becomes the client's address), a change to it applies without a
// restart, and a bad entry is reported on it; add-headers's ConfigMap sets
// response headers; with generate-request-id: "false" a request without
// X-Request-ID reaches the backend without one (a client's own is kept);
// proxy-add-original-uri-header sends the URI as X-Original-URI. Entries
// Envoy must not see (a bad name, Host, CR LF in a value, a variable not
// known when the request is forwarded) are reported, and a "%" is sent as
// written.
func TestConfigMapHeaders(t *testing.T) {
	s := startConfigMapStack(t)
	setHeaders := func(team string) {
		s.apply(t, "custom-headers", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "custom-headers"},
			Data: map[string]string{
				"X-Team": team, "X-Client": "ip=$remote_addr", "X-Args": "$args", "X-Percent": "100% %REQ(:path)%",
				// Reported and never sent: Envoy must not see them.
				"Bad Name": "x", "Host": "evil.test", "X-Split": "a\r\nInjected: yes", "X-Status": "$status",
			}})
	}
	setHeaders("blue")
	s.apply(t, "response-headers", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "response-headers"},
		Data: map[string]string{"X-Frame-Options": "DENY"}})
	s.applyConfigMap(t, map[string]string{
		"proxy-set-headers": ns + "/custom-headers", "add-headers": ns + "/response-headers",
		"generate-request-id": "false", "proxy-add-original-uri-header": "true",
	})
	s.apply(t, "site", join(backend(t, "echo"), objs(ingress("site", rule("headers.test", path(prefix, "/", "echo")))))...)
	r := s.await(t, call{host: "headers.test", path: "/orig/path?q=1", from: "127.0.0.7"}, http.StatusOK, "echo")
	for name, want := range map[string]string{
		"X-Team": "blue", "X-Client": "ip=127.0.0.7", "X-Args": "q=1", "X-Original-URI": "/orig/path?q=1",
		"X-Percent": "100% %REQ(:path)%",
	} {
		if got, _ := echoHeader(r, name); got != want {
			t.Errorf("backend saw %s %q, want %q", name, got, want)
		}
	}
	if r.echo.Host != "headers.test" {
		t.Errorf("backend saw Host %q, want headers.test (proxy-set-headers cannot change it)", r.echo.Host)
	}
	for _, name := range []string{"X-Split", "Injected", "X-Status"} {
		if got, ok := echoHeader(r, name); ok {
			t.Errorf("backend saw %s %q, want none (a bad entry is not set)", name, got)
		}
	}
	if got, ok := echoHeader(r, "X-Request-ID"); ok {
		t.Errorf("generate-request-id: \"false\": backend saw X-Request-ID %q, want none", got)
	}
	if got := r.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("response X-Frame-Options %q, want DENY (add-headers)", got)
	}
	r = s.must(t, call{host: "headers.test", path: "/", header: headers("X-Request-ID", "client-id-1")})
	if got, _ := echoHeader(r, "X-Request-ID"); got != "client-id-1" {
		t.Errorf("the client's X-Request-ID reached the backend as %q, want client-id-1", got)
	}
	for _, name := range []string{"Bad Name", "Host", "X-Split", "X-Status"} {
		expectDiagnosticOn(t, s, "custom-headers", "data["+name+"]", "InvalidConfigValue")
	}

	pid := s.rukou.PID()
	setHeaders("green")
	harness.Eventually(t, 15*time.Second, "the changed X-Team reaches the backend", func() error {
		r, err := s.do(call{host: "headers.test", path: "/"})
		if err != nil {
			return err
		}
		if got, _ := echoHeader(r, "X-Team"); got != "green" {
			return fmt.Errorf("%d, X-Team %q", r.status, got)
		}
		return nil
	})
	if s.rukou.Exited() || s.rukou.PID() != pid {
		t.Error("rukou restarted to apply the change of proxy-set-headers's ConfigMap")
	}
	expectNoRejection(t, s.envoy)
}
