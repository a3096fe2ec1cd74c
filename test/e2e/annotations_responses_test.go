package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// internalRedirect is a backend that answers every request as one that
// knows only its internal name would: a 302 to http://internal:8080/app/x,
// a Refresh to the same host, cookies for its internal domain and path,
// and an X-Frame-Options of its own.
func internalRedirect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "http://internal:8080/app/x")
		w.Header().Set("Refresh", "5; URL=http://internal:8080/app/y")
		w.Header().Add("Set-Cookie", "session=1; Domain=.INTERNAL.local; Path=/app/cart; HttpOnly")
		w.Header().Add("Set-Cookie", "theme=dark; path=/app/; domain=other.org")
		w.Header().Add("Set-Cookie", "plain=1")
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.WriteHeader(http.StatusFound)
	})
}

// The headers internalRedirect sends, as a client sees them unchanged.
var (
	internalLocation = "http://internal:8080/app/x"
	internalRefresh  = "5; URL=http://internal:8080/app/y"
	internalCookies  = []string{"session=1; Domain=.INTERNAL.local; Path=/app/cart; HttpOnly", "theme=dark; path=/app/; domain=other.org", "plain=1"}
)

// TestAnnotationResponseRewrite: proxy-redirect-from/-to rewrite the
// backend's Location and the URL of its Refresh that start with the
// internal URL; proxy-cookie-domain rewrites a Set-Cookie Domain equal to
// the internal domain whatever its letter case (its leading dot stays), and
// proxy-cookie-path the Path prefix, other cookies untouched. An Ingress
// on the same backend without the annotations gets the backend's headers
// unchanged, and Envoy rejects nothing.
func TestAnnotationResponseRewrite(t *testing.T) {
	s := startStack(t, "delta")
	app := echoService(t, "app", internalRedirect(), nil)
	s.apply(t, "site", join(app, objs(
		annotated("rewrite", map[string]string{
			"proxy-redirect-from": "http://internal:8080/", "proxy-redirect-to": "https://rewrite.test/",
			"proxy-cookie-domain": "internal.local rewrite.test", "proxy-cookie-path": "/app/ /",
		}, rule("rewrite.test", path(prefix, "/", "app"))),
		annotated("plain", nil, rule("plain.test", path(prefix, "/", "app"))),
		annotated("sticky", map[string]string{
			"proxy-cookie-path": "/app/ /",
			"affinity":          "cookie", "session-cookie-name": "aff", "session-cookie-expires": "60",
		}, rule("sticky.test", path(prefix, "/", "app"))),
	))...)
	r := s.await(t, call{host: "rewrite.test", path: "/"}, http.StatusFound, "")
	if got, want := r.header.Get("Location"), "https://rewrite.test/app/x"; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if got, want := r.header.Get("Refresh"), "5; URL=https://rewrite.test/app/y"; got != want {
		t.Errorf("Refresh %q, want %q", got, want)
	}
	wantCookies := []string{"session=1; Domain=.rewrite.test; Path=/cart; HttpOnly", "theme=dark; path=/; domain=other.org", "plain=1"}
	if got := r.header.Values("Set-Cookie"); !slices.Equal(got, wantCookies) {
		t.Errorf("Set-Cookie %q, want %q", got, wantCookies)
	}

	r = s.await(t, call{host: "plain.test", path: "/"}, http.StatusFound, "")
	if got := r.header.Get("Location"); got != internalLocation {
		t.Errorf("without the annotations: Location %q, want the backend's %q", got, internalLocation)
	}
	if got := r.header.Get("Refresh"); got != internalRefresh {
		t.Errorf("without the annotations: Refresh %q, want the backend's %q", got, internalRefresh)
	}
	if got := r.header.Values("Set-Cookie"); !slices.Equal(got, internalCookies) {
		t.Errorf("without the annotations: Set-Cookie %q, want the backend's %q", got, internalCookies)
	}

	// One route both rewrites cookies and dates its session cookie: the
	// backend's cookies get their Path rewritten and no Expires.
	s.await(t, call{host: "sticky.test", path: "/"}, http.StatusFound, "")
	sent := time.Now()
	r = s.must(t, call{host: "sticky.test", path: "/"})
	checkExpires(t, r, "aff", sent, 60)
	wantCookies = []string{"session=1; Domain=.INTERNAL.local; Path=/cart; HttpOnly", "theme=dark; path=/; domain=other.org", "plain=1"}
	if got := slices.DeleteFunc(r.header.Values("Set-Cookie"), func(c string) bool { return strings.HasPrefix(c, "aff=") }); !slices.Equal(got, wantCookies) {
		t.Errorf("with affinity: the backend's Set-Cookie %q, want %q", got, wantCookies)
	}
	expectNoRejection(t, s.envoy)
}

// TestAnnotationCustomHeaders: custom-headers sets the entries of its
// ConfigMap on every response, replacing the backend's own header of the
// same name, with a value as written ("$remote_addr" and "%" are text), when
// the controller's global-allowed-response-headers lists every name; a
// ConfigMap with a header it does not list, or one that does not exist,
// makes the Ingress's paths answer 503, reported on the Ingress; the other
// Ingresses are served as before.
func TestAnnotationCustomHeaders(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"global-allowed-response-headers": "X-Frame-Options, My-Custom-Header"})
	s.apply(t, "headers",
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "custom-headers"},
			Data: map[string]string{"My-Custom-Header": "42 $remote_addr 100%", "X-Frame-Options": "DENY"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "not-allowed"},
			Data: map[string]string{"X-Frame-Options": "DENY", "X-Powered-By": "rukou"}})
	app := echoService(t, "app", internalRedirect(), nil)
	s.apply(t, "site", join(app, objs(
		annotated("custom", map[string]string{"custom-headers": ns + "/custom-headers"}, rule("custom.test", path(prefix, "/", "app"))),
		annotated("denied", map[string]string{"custom-headers": ns + "/not-allowed"}, rule("denied.test", path(prefix, "/", "app"))),
		annotated("missing", map[string]string{"custom-headers": ns + "/no-such-configmap"}, rule("missing.test", path(prefix, "/", "app"))),
		annotated("plain", nil, rule("plain.test", path(prefix, "/", "app"))),
	))...)
	r := s.await(t, call{host: "custom.test", path: "/"}, http.StatusFound, "")
	for name, want := range map[string]string{"My-Custom-Header": "42 $remote_addr 100%", "X-Frame-Options": "DENY"} {
		if got := r.header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("custom-headers: response %s %q, want only %q", name, got, want)
		}
	}
	s.await(t, call{host: "denied.test", path: "/"}, http.StatusServiceUnavailable, "")
	waitDiagnostic(t, s, ns+"/denied", "InvalidAnnotation", "header X-Powered-By is not allowed")
	s.await(t, call{host: "missing.test", path: "/"}, http.StatusServiceUnavailable, "")
	waitDiagnostic(t, s, ns+"/missing", "InvalidAnnotation", "ConfigMap default/no-such-configmap not found")

	r = s.await(t, call{host: "plain.test", path: "/"}, http.StatusFound, "")
	if got := r.header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("without custom-headers: X-Frame-Options %q, want the backend's SAMEORIGIN", got)
	}
	if got, ok := r.header["My-Custom-Header"]; ok {
		t.Errorf("without custom-headers: My-Custom-Header %q, want none", got)
	}
	expectNoRejection(t, s.envoy)
}
