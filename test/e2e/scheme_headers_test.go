package e2e

import (
	"net/http"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSchemeHeadersOfTheConnection: X-Forwarded-Scheme and X-Scheme are the
// scheme of the client's connection even when something between Envoy's
// connection manager and the route table took X-Forwarded-Proto away (an
// auth service's answer without it, named in auth-response-headers; the
// ConfigMap's proxy-set-headers setting it empty): a client that sent its
// own X-Forwarded-Scheme and X-Scheme never gets them through, over plain
// HTTP or TLS. nginx's $scheme in proxy-set-headers is the connection's
// scheme as well, whatever an HTTP/2 request's :scheme says.
func TestSchemeHeadersOfTheConnection(t *testing.T) {
	// Allows every request and answers no X-Forwarded-Proto.
	auth := serve(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
	s := startConfigMapStack(t)
	s.apply(t, "custom-headers", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "custom-headers"},
		Data: map[string]string{"X-Forwarded-Proto": "", "X-Seen-Scheme": "$scheme"}})
	s.apply(t, "site", join(backend(t, "echo"), objs(
		ingress("plain", rule("plain.scheme.test", path(prefix, "/", "echo"))),
		annotated("authed", map[string]string{
			"auth-url": "http://127.0.0.1:" + strconv.Itoa(auth) + "/", "auth-response-headers": "X-Forwarded-Proto",
		}, rule("authed.scheme.test", path(prefix, "/", "echo"))),
	))...)
	s.await(t, call{host: "plain.scheme.test", path: "/"}, http.StatusOK, "echo")

	expect := func(t *testing.T, host string) {
		t.Helper()
		for _, c := range []struct {
			https         bool
			want, claimed string
		}{{false, "http", "https"}, {true, "https", "http"}} {
			forged := headers("X-Forwarded-Proto", c.claimed, "X-Forwarded-Scheme", c.claimed, "X-Scheme", c.claimed)
			r := s.await(t, call{host: host, path: "/", https: c.https, header: forged}, http.StatusOK, "echo")
			for _, name := range []string{"X-Forwarded-Scheme", "X-Scheme"} {
				if got, _ := echoHeader(r, name); got != c.want {
					t.Errorf("%s over %s, the client claiming %s: backend saw %s %q, want %q", host, c.want, c.claimed, name, got, c.want)
				}
			}
			if got, ok := echoHeader(r, "X-Forwarded-Proto"); ok && got != c.want {
				t.Errorf("%s over %s: backend saw the client's X-Forwarded-Proto %q", host, c.want, got)
			}
		}
	}
	t.Run("auth_response_headers_without_it", func(t *testing.T) { expect(t, "authed.scheme.test") })
	s.applyConfigMap(t, map[string]string{"proxy-set-headers": ns + "/custom-headers"})
	s.fence(t, "fence.scheme.test")
	t.Run("proxy_set_headers_empty", func(t *testing.T) { expect(t, "plain.scheme.test") })
	// nginx's $scheme too: an HTTP/2 request without TLS whose :scheme
	// says https is still http.
	t.Run("h2c_claiming_https", func(t *testing.T) {
		r := h2cClaimingHTTPS(t, s.rukou.HTTPPort, "plain.scheme.test")
		for _, name := range []string{"X-Seen-Scheme", "X-Forwarded-Scheme", "X-Scheme"} {
			if got, _ := echoHeader(r, name); got != "http" {
				t.Errorf("h2c claiming https: backend saw %s %q, want http", name, got)
			}
		}
	})
	expectNoRejection(t, s.envoy)
}
