package e2e

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // only when htpasswd is missing: oauth2-proxy reads {SHA} entries
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// authServer is a tiny auth service: its answer is the status its path
// names (/200, /401, /403, /302), with X-User on 200; /cookie answers 200
// with a cookie. It counts its hits
// and keeps the last request it saw.
type authServer struct {
	port int
	hits atomic.Int32
	// down makes every answer 500, as an auth service that is gone.
	down atomic.Bool
	mu   sync.Mutex
	last *http.Request
	body []byte
}

func startAuthServer(t *testing.T) *authServer {
	a := &authServer{}
	a.port = serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.last, a.body = r, body
		a.mu.Unlock()
		if a.down.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		code, _ := strconv.Atoi(strings.Trim(r.URL.Path, "/"))
		if r.URL.Path == "/cookie" {
			code = http.StatusOK
			w.Header().Set("Set-Cookie", "alma=armud")
		}
		switch code {
		case http.StatusOK:
			w.Header().Set("X-User", "alice")
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Basic realm="tiny"`)
		case http.StatusFound:
			w.Header().Set("Location", "http://elsewhere.test/")
		}
		w.WriteHeader(code)
	}), nil)
	return a
}

func (a *authServer) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", a.port, path)
}

func (a *authServer) lastRequest() (*http.Request, []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last, a.body
}

// TestExternalAuthStatuses: the auth service's answer decides, as nginx's
// auth_request in ingress-nginx: 2xx lets the request through with
// auth-response-headers replacing the client's; 401 without auth-signin
// is 401 with the service's WWW-Authenticate; 403 stays 403; a redirect
// from the service, or a service that cannot be reached, is 500. The auth
// request carries the original headers without the body, the headers
// ingress-nginx adds, and those of the auth-proxy-set-headers ConfigMap.
func TestExternalAuthStatuses(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	closed := harness.FreePort(t)
	site := func(name, authURL string) *networkingv1.Ingress {
		return annotated(name, map[string]string{"auth-url": authURL, "auth-response-headers": "X-User"},
			rule(name+".test", path(prefix, "/", "web")))
	}
	ok := site("ok", auth.url("/200"))
	ok.Annotations[nginx+"auth-proxy-set-headers"] = "auth-headers"
	s.apply(t, "auth", join(backend(t, "web"), objs(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "auth-headers"}, Data: map[string]string{"X-Tenant": "blue", "X-Host": "$http_host"}},
		ok, site("unauthorized", auth.url("/401")), site("forbidden", auth.url("/403")),
		site("redirected", auth.url("/302")), site("down", fmt.Sprintf("http://127.0.0.1:%d/", closed)),
	))...)

	post := call{method: http.MethodPost, host: "ok.test", path: "/shop?item=1", body: strings.NewReader("secret body"),
		header: headers("X-User", "mallory", "Cookie", "session=1")}
	r := s.await(t, post, http.StatusOK, "web")
	if v, _ := echoHeader(r, "X-User"); v != "alice" {
		t.Errorf("backend saw X-User %q, want the auth service's alice in place of the client's", v)
	}
	req, body := auth.lastRequest()
	for name, want := range map[string]string{
		"X-Original-URL": "http://ok.test/shop?item=1", "X-Original-Method": "POST", "X-Sent-From": "nginx-ingress-controller",
		"X-Auth-Request-Redirect": "/shop?item=1", "X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Cookie": "session=1",
		"X-Tenant": "blue", "X-Host": "ok.test",
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("auth request %s = %q, want %q", name, got, want)
		}
	}
	if req.Method != http.MethodGet || len(body) != 0 || req.Host != "127.0.0.1" {
		t.Errorf("auth request: %s with %d body bytes to Host %q, want GET without the body to 127.0.0.1", req.Method, len(body), req.Host)
	}

	r = s.await(t, call{host: "unauthorized.test", path: "/"}, http.StatusUnauthorized, "")
	if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="tiny"` {
		t.Errorf("401 WWW-Authenticate = %q, want the auth service's", got)
	}
	s.await(t, call{host: "forbidden.test", path: "/"}, http.StatusForbidden, "")
	s.await(t, call{host: "redirected.test", path: "/"}, http.StatusInternalServerError, "")
	s.await(t, call{host: "down.test", path: "/"}, http.StatusInternalServerError, "")
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthOverTLS: the TLS listener's routes are checked too, and
// the auth service is told the https URL; the plain listener redirects to
// HTTPS before any check, as ingress-nginx's ssl-redirect comes first.
func TestExternalAuthOverTLS(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	ca := newTestCA(t)
	ing := tlsIngress("secure", "secure.test", "secure-tls")
	ing.Annotations[nginx+"auth-url"] = auth.url("/200")
	s.apply(t, "secure", join(backend(t, "secure"), objs(ca.secret(t, "secure-tls", 1, "secure.test"), ing))...)
	s.await(t, call{host: "secure.test", path: "/app?x=1", https: true}, http.StatusOK, "secure")
	req, _ := auth.lastRequest()
	if got := req.Header.Get("X-Original-URL"); got != "https://secure.test/app?x=1" {
		t.Errorf("X-Original-URL over TLS = %q", got)
	}
	before := auth.hits.Load()
	s.await(t, call{host: "secure.test", path: "/app"}, http.StatusPermanentRedirect, "")
	if auth.hits.Load() != before {
		t.Error("the plain listener's redirect to HTTPS asked the auth service")
	}
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthCookie: the auth service's cookie reaches the client
// with the backend's success statuses only, as nginx's add_header; with
// auth-always-set-cookie, with its errors too (ingress-nginx's e2e cases
// "cookie set by external authentication server").
func TestExternalAuthCookie(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/error" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	s.apply(t, "cookies", join(echoService(t, "app", failing, nil), objs(
		annotated("default", map[string]string{"auth-url": auth.url("/cookie")}, rule("cookie.test", path(prefix, "/", "app"))),
		annotated("always", map[string]string{"auth-url": auth.url("/cookie"), "auth-always-set-cookie": "true"},
			rule("always.test", path(prefix, "/", "app"))),
	))...)
	for _, c := range []struct {
		host, path string
		status     int
		cookie     bool
	}{
		{"cookie.test", "/", http.StatusOK, true},
		{"cookie.test", "/error", http.StatusServiceUnavailable, false},
		{"always.test", "/", http.StatusOK, true},
		{"always.test", "/error", http.StatusServiceUnavailable, true},
	} {
		s.await(t, call{host: c.host, path: c.path}, c.status, "")
		if err := expectCookie(s, call{host: c.host, path: c.path}, c.status, c.cookie); err != nil {
			t.Error(err)
		}
	}
	expectNoRejection(t, s.envoy)
}

// expectCookie sends c and says how its answer differs from status with
// (or without) the auth service's cookie.
func expectCookie(s *stack, c call, status int, cookie bool) error {
	r, err := s.do(c)
	if err != nil {
		return err
	}
	if got := r.header.Values("Set-Cookie"); r.status != status || (len(got) == 1 && got[0] == "alma=armud") != cookie {
		return fmt.Errorf("%s%s: %d with Set-Cookie %q, want %d with the cookie: %v", c.host, c.path, r.status, got, status, cookie)
	}
	return nil
}

// TestExternalAuthCache: with auth-cache-key and auth-cache-duration, a
// second request with the same key within the window does not reach the
// auth service, and is let through even once the auth service fails;
// another key reaches it (ingress-nginx's "should return status code 200
// when signed in after auth backend is deleted").
func TestExternalAuthCache(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	s.apply(t, "auth", join(backend(t, "web"), objs(
		annotated("cached", map[string]string{"auth-url": auth.url("/200"), "auth-cache-key": "$http_authorization",
			"auth-cache-duration": "200 10m"}, rule("cached.test", path(prefix, "/", "web"))),
	))...)
	expectCachedAuth(t, s, auth, "cached.test")
}

// expectCachedAuth checks that host's answers are cached by the
// Authorization header for 200s: repeated requests do not reach auth,
// and are let through once it fails; another key reaches it.
func expectCachedAuth(t *testing.T, s *stack, auth *authServer, host string) {
	t.Helper()
	alice := call{host: host, path: "/", header: headers("Authorization", "Bearer alice")}
	s.await(t, alice, http.StatusOK, "web")
	before := auth.hits.Load()
	for range 3 {
		if r := s.must(t, alice); r.status != http.StatusOK {
			t.Fatalf("cached request: %d", r.status)
		}
	}
	if n := auth.hits.Load() - before; n != 0 {
		t.Errorf("three requests within the cache window reached the auth service %d times, want 0", n)
	}
	auth.down.Store(true)
	if r := s.must(t, alice); r.status != http.StatusOK {
		t.Errorf("cached key with the auth service failing: %d, want 200", r.status)
	}
	if r := s.must(t, call{host: host, path: "/", header: headers("Authorization", "Bearer bob")}); r.status != http.StatusInternalServerError {
		t.Errorf("another key with the auth service failing: %d, want 500", r.status)
	}
	if n := auth.hits.Load() - before; n != 1 {
		t.Errorf("a request with another key reached the auth service %d times, want 1", n)
	}
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthGlobal: the ConfigMap's global-auth-url protects every
// Ingress, except those with enable-global-auth: "false" and the rule
// paths under no-auth-locations (by default /.well-known/acme-challenge,
// where cert-manager's solver Ingresses put theirs). As in ingress-nginx
// the exemption is by rule path: a request under it that a "/" rule
// serves is still checked.
func TestExternalAuthGlobal(t *testing.T) {
	s := startConfigMapStack(t)
	auth := startAuthServer(t)
	s.applyConfigMap(t, map[string]string{"global-auth-url": auth.url("/403")})
	s.apply(t, "sites", join(backend(t, "web"), objs(
		ingress("guarded", rule("guarded.test", path(prefix, "/", "web"))),
		ingress("solver", rule("solver.test", path(prefix, "/", "web"), path(exact, "/.well-known/acme-challenge/token", "web"))),
		annotated("open", map[string]string{"enable-global-auth": "false"}, rule("open.test", path(prefix, "/", "web"))),
		annotated("own", map[string]string{"auth-url": auth.url("/200")}, rule("own.test", path(prefix, "/", "web"))),
	))...)
	s.await(t, call{host: "guarded.test", path: "/"}, http.StatusForbidden, "")
	s.await(t, call{host: "guarded.test", path: "/.well-known/acme-challenge/token"}, http.StatusForbidden, "")
	s.await(t, call{host: "solver.test", path: "/.well-known/acme-challenge/token"}, http.StatusOK, "web")
	s.await(t, call{host: "solver.test", path: "/"}, http.StatusForbidden, "")
	s.await(t, call{host: "open.test", path: "/"}, http.StatusOK, "web")
	s.await(t, call{host: "own.test", path: "/"}, http.StatusOK, "web")
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthLimiterUnreachable: when the limiter that asks the auth
// service cannot be reached, a protected route answers 500, never its
// backend; an unprotected one is served.
func TestExternalAuthLimiterUnreachable(t *testing.T) {
	s := startStackWith(t, harness.EnvoyOptions{Mode: "delta",
		BootstrapArgs: []string{"--limiter-address", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))}})
	auth := startAuthServer(t)
	s.apply(t, "sites", join(backend(t, "web"), objs(
		annotated("guarded", map[string]string{"auth-url": auth.url("/200")}, rule("guarded.test", path(prefix, "/", "web"))),
		ingress("open", rule("open.test", path(prefix, "/", "web"))),
	))...)
	s.await(t, call{host: "open.test", path: "/"}, http.StatusOK, "web")
	s.await(t, call{host: "guarded.test", path: "/"}, http.StatusInternalServerError, "")
	if auth.hits.Load() != 0 {
		t.Error("the auth service was asked without the limiter")
	}
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthNeverUnprotected: settings that cannot be honoured make
// the routes answer 503 with a diagnostic naming the Ingress or the
// ConfigMap, never serve them without authentication: an nginx variable
// rukou does not know, a missing auth-proxy-set-headers ConfigMap, a bad
// auth-cache-duration (which ingress-nginx would drop with the whole
// authentication), and a bad global-auth-url (which ingress-nginx would
// ignore). The other Ingresses are served.
func TestExternalAuthNeverUnprotected(t *testing.T) {
	s := startConfigMapStack(t)
	auth := startAuthServer(t)
	s.applyConfigMap(t, map[string]string{"global-auth-url": "http://auth.test/$upstream_addr"})
	s.apply(t, "sites", join(backend(t, "web"), objs(
		annotated("variable", map[string]string{"auth-url": "http://auth.test/$upstream_addr"}, rule("variable.test", path(prefix, "/", "web"))),
		annotated("headers", map[string]string{"auth-url": auth.url("/200"), "auth-proxy-set-headers": "missing"},
			rule("headers.test", path(prefix, "/", "web"))),
		annotated("cache", map[string]string{"auth-url": auth.url("/200"), "auth-cache-key": "k", "auth-cache-duration": "200 forever"},
			rule("cache.test", path(prefix, "/", "web"))),
		ingress("global", rule("global.test", path(prefix, "/", "web"))),
		annotated("fine", map[string]string{"auth-url": auth.url("/200")}, rule("fine.test", path(prefix, "/", "web"))),
	))...)
	s.await(t, call{host: "fine.test", path: "/"}, http.StatusOK, "web")
	for _, host := range []string{"variable.test", "headers.test", "cache.test", "global.test"} {
		s.await(t, call{host: host, path: "/"}, http.StatusServiceUnavailable, "")
	}
	for _, d := range []struct{ object, mention string }{
		{"default/variable", "$upstream_addr"}, {"default/headers", "default/missing"}, {"default/cache", "200 forever"},
	} {
		waitDiagnostic(t, s, d.object, "InvalidAnnotation", d.mention)
	}
	waitDiagnostic(t, s, "default/rukou", "InvalidConfigValue", "$upstream_addr")
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthOAuth2Proxy: ingress-nginx's oauth2-proxy recipe,
// unchanged, with a real oauth2-proxy and its htpasswd login: an
// unauthenticated request is redirected to /oauth2/start with rd holding
// the original URI; after signing in (the form posted to oauth2-proxy,
// its cookie kept) the request reaches the backend with
// X-Auth-Request-User; a forged X-Auth-Request-User never does.
func TestExternalAuthOAuth2Proxy(t *testing.T) {
	s := startStack(t, "delta")
	proxyPort := startOAuth2Proxy(t, "alice", "wonderland")
	s.apply(t, "app", join(backend(t, "web"), serviceWith("oauth2-proxy", endpoint(proxyPort, true, nil)), objs(
		annotated("app", map[string]string{
			"auth-url":              fmt.Sprintf("http://127.0.0.1:%d/oauth2/auth", proxyPort),
			"auth-signin":           "http://$host/oauth2/start?rd=$escaped_request_uri",
			"auth-response-headers": "X-Auth-Request-User, X-Auth-Request-Email",
		}, rule("app.test", path(prefix, "/", "web"))),
		ingress("oauth2-proxy", rule("app.test", path(prefix, "/oauth2", "oauth2-proxy"))),
	))...)

	r := s.await(t, call{host: "app.test", path: "/private?a=b"}, http.StatusFound, "")
	if got, want := r.header.Get("Location"), "http://app.test/oauth2/start?rd=%2Fprivate%3Fa%3Db"; got != want {
		t.Errorf("unauthenticated: Location %q, want %q", got, want)
	}
	form := url.Values{"username": {"alice"}, "password": {"wonderland"}, "rd": {"/private?a=b"}}
	r = s.must(t, call{method: http.MethodPost, host: "app.test", path: "/oauth2/sign_in", body: strings.NewReader(form.Encode()),
		header: headers("Content-Type", "application/x-www-form-urlencoded")})
	var cookie string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "_oauth2_proxy" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if r.status != http.StatusFound || cookie == "" {
		t.Fatalf("sign in: %d with cookies %v, want 302 with _oauth2_proxy", r.status, r.header.Values("Set-Cookie"))
	}
	r = s.must(t, call{host: "app.test", path: "/private?a=b", header: headers("Cookie", cookie, "X-Auth-Request-User", "mallory")})
	if r.status != http.StatusOK || r.backend != "web" {
		t.Fatalf("signed in: %d from %q, want 200 from web", r.status, r.backend)
	}
	if v, _ := echoHeader(r, "X-Auth-Request-User"); v != "alice" {
		t.Errorf("backend saw X-Auth-Request-User %q, want alice", v)
	}
	r = s.must(t, call{host: "app.test", path: "/private", header: headers("Cookie", "_oauth2_proxy=forged", "X-Auth-Request-User", "alice")})
	if r.status != http.StatusFound {
		t.Errorf("a forged cookie: %d, want 302 to sign in", r.status)
	}
	expectNoRejection(t, s.envoy)
}

// startOAuth2Proxy runs bin/oauth2-proxy on loopback with an htpasswd file
// holding user, as ingress-nginx's docs deploy it for auth-url (upstream
// static://202, X-Auth-Request-* headers), and returns its port.
func startOAuth2Proxy(t *testing.T, user, password string) int {
	t.Helper()
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, htpasswdLine(t, user, password), 0o600); err != nil {
		t.Fatal(err)
	}
	port := harness.FreePort(t)
	cmd := exec.Command(harness.Tool(t, "oauth2-proxy"),
		"--http-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--provider", "google", "--client-id", "rukou-e2e", "--client-secret", "unused",
		"--cookie-secret", "0123456789abcdef0123456789abcdef", "--cookie-secure=false",
		"--htpasswd-file", htpasswd, "--display-htpasswd-form=true", "--email-domain", "*",
		"--upstream", "static://202", "--set-xauthrequest=true", "--reverse-proxy=true",
	)
	harness.Start(t, "oauth2-proxy", cmd, 5*time.Second)
	harness.Eventually(t, 20*time.Second, "oauth2-proxy answers /ping", func() error {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ping", port))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/ping: %d", resp.StatusCode)
		}
		return nil
	})
	return port
}

// htpasswdLine is user's line of an htpasswd file, made by Debian's
// htpasswd (bcrypt) when installed (make tools installs it), else with
// the {SHA} scheme, which oauth2-proxy also reads.
func htpasswdLine(t *testing.T, user, password string) []byte {
	t.Helper()
	if bin, err := exec.LookPath("htpasswd"); err == nil {
		out, err := exec.Command(bin, "-nbB", user, password).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		return bytes.TrimSpace(out)
	}
	sum := sha1.Sum([]byte(password)) //nolint:gosec // the {SHA} htpasswd scheme
	return []byte(user + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:]))
}
