package e2e

// ingress-nginx's e2e cases of external authentication that the tests of
// auth_external_test.go do not cover: the signin redirect as it builds it,
// satisfy any between basic and external authentication, the auth
// request's settings, and the cache's scope.

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// TestExternalAuthSignin: a 401 of the auth service is a 302 to
// auth-signin with the original URL in rd (or auth-signin-redirect-param)
// appended, as ingress-nginx's "should redirect to signin url when not
// signed in"; with satisfy any, basic credentials alone admit, and a
// request without them is sent to sign in ("should allow multiple auth
// with satisfy any"); with enable-cors a refused request still carries
// the CORS headers ("401 and cors headers").
func TestExternalAuthSignin(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	line := "uname:" + hashLine(t, "openssl", "passwd", "-apr1", "pwd") + "\n"
	signin := "http://$host/auth/start"
	s.apply(t, "signin", join(backend(t, "web"), objs(
		opaque("users", map[string]string{"auth": line}),
		webSite("signin", map[string]string{"auth-url": auth.url("/401"), "auth-signin": signin}),
		webSite("orig", map[string]string{"auth-url": auth.url("/401"), "auth-signin": signin, "auth-signin-redirect-param": "orig"}),
		webSite("any", map[string]string{"auth-url": auth.url("/401"), "auth-signin": signin,
			"auth-type": "basic", "auth-secret": "users", "auth-realm": "test basic auth", "satisfy": "any"}),
		webSite("cors", map[string]string{"auth-type": "basic", "auth-secret": "users", "enable-cors": "true"}),
	))...)

	query := "/?a=b&c=d"
	for _, c := range []struct{ host, param string }{{"signin.test", "rd"}, {"orig.test", "orig"}, {"any.test", "rd"}} {
		r := s.await(t, call{host: c.host, path: query}, http.StatusFound, "")
		want := fmt.Sprintf("http://%s/auth/start?%s=http://%s%s", c.host, c.param, c.host, url.QueryEscape(query))
		if got := r.header.Get("Location"); got != want {
			t.Errorf("%s: Location %q, want %q", c.host, got, want)
		}
	}
	if r := s.must(t, basicCall("any.test", "uname", "pwd")); r.status != http.StatusOK || r.backend != "web" {
		t.Errorf("satisfy any with basic credentials the auth service refuses: %d from %q, want 200 from web", r.status, r.backend)
	}
	if r := s.must(t, basicCall("any.test", "uname", "wrong")); r.status != http.StatusFound {
		t.Errorf("satisfy any with a wrong password: %d, want 302 to sign in", r.status)
	}

	c := call{host: "cors.test", path: "/", header: headers("Origin", "https://app.example.com")}
	r := s.await(t, c, http.StatusUnauthorized, "")
	if got := r.header.Get("Access-Control-Allow-Origin"); got == "" {
		t.Errorf("401 with enable-cors: no Access-Control-Allow-Origin (headers %v)", r.header)
	}
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthRequestSettings: what the auth request carries and how
// it travels: auth-method with the headers nginx adds for it,
// auth-request-redirect, the nginx variables of auth-url, the client's
// copy of an auth-response-headers header removed when the auth service
// sends none ("should overwrite Foo header with auth response"), a new
// connection per check without auth-keepalive and one kept with it, and
// an auth-url with an invalid host refusing its Ingress's paths with 503
// ("with invalid auth-url should deny whole location"), and auth-snippet
// refused without weakening the authentication.
func TestExternalAuthRequestSettings(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	s.apply(t, "settings", join(backend(t, "web"), objs(
		webSite("method", map[string]string{"auth-url": auth.url("/200"), "auth-method": "POST",
			"auth-request-redirect": "http://login.test/back", "auth-response-headers": "Foo"}),
		webSite("vars", map[string]string{"auth-url": auth.url("/200") + "?scheme=$scheme&uri=$escaped_request_uri&tenant=$http_x_tenant"}),
		webSite("fresh", map[string]string{"auth-url": auth.url("/200")}),
		webSite("kept", map[string]string{"auth-url": auth.url("/200"), "auth-keepalive": "4"}),
		webSite("badurl", map[string]string{"auth-url": "https://invalid..auth.url"}),
		webSite("snippet", map[string]string{"auth-url": auth.url("/403"), "auth-snippet": "return 200;"}),
		ingress("open", rule("open.test", path(prefix, "/", "web"))),
	))...)

	r := s.await(t, call{host: "method.test", path: "/p?x=1", header: headers("Foo", "bar")}, http.StatusOK, "web")
	if v, ok := echoHeader(r, "Foo"); ok {
		t.Errorf("backend saw the client's Foo %q although the auth service sent none", v)
	}
	req, _ := auth.lastRequest()
	if req.Method != http.MethodPost {
		t.Errorf("auth-method POST: the auth service got %s", req.Method)
	}
	for name, want := range map[string]string{"X-Original-URI": "/p?x=1", "X-Scheme": "http", "X-Auth-Request-Redirect": "http://login.test/back"} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("auth request %s = %q, want %q", name, got, want)
		}
	}

	s.await(t, call{host: "vars.test", path: "/p?x=1", header: headers("X-Tenant", "blue")}, http.StatusOK, "web")
	req, _ = auth.lastRequest()
	if q := req.URL.Query(); q.Get("scheme") != "http" || q.Get("uri") != "/p?x=1" || q.Get("tenant") != "blue" {
		t.Errorf("auth-url variables: the auth service got %q, want scheme=http, uri=/p?x=1, tenant=blue", req.URL.RawQuery)
	}

	for _, c := range []struct {
		host  string
		conns int
	}{{"fresh.test", 3}, {"kept.test", 1}} {
		s.await(t, call{host: c.host, path: "/"}, http.StatusOK, "web")
		seen := map[string]bool{}
		for range 3 {
			if r := s.must(t, call{host: c.host, path: "/"}); r.status != http.StatusOK {
				t.Fatalf("%s: %d", c.host, r.status)
			}
			req, _ := auth.lastRequest()
			seen[req.RemoteAddr] = true
		}
		if len(seen) != c.conns {
			t.Errorf("%s: three checks came on %d connections, want %d", c.host, len(seen), c.conns)
		}
	}

	s.await(t, call{host: "open.test", path: "/"}, http.StatusOK, "web")
	s.await(t, call{host: "badurl.test", path: "/"}, http.StatusServiceUnavailable, "")
	waitDiagnostic(t, s, "default/badurl", "InvalidAnnotation", "no valid host")
	// auth-snippet is refused and reported; the authentication holds.
	s.await(t, call{host: "snippet.test", path: "/"}, http.StatusForbidden, "")
	waitDiagnostic(t, s, "default/snippet", "SnippetRefused", "")
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthCacheScope: cached answers belong to one location of
// one host, as ingress-nginx keys its cache with the server and the
// location: with the auth service failing, the path whose answer is
// cached is served, another path of the same host and the same path of
// another host are not ("should deny login for different location on
// same server", "... for different servers").
func TestExternalAuthCacheScope(t *testing.T) {
	s := startStack(t, "delta")
	auth := startAuthServer(t)
	ann := map[string]string{"auth-url": auth.url("/200"), "auth-cache-key": "fixed", "auth-cache-duration": "200 201 401 30m"}
	var ings []runtime.Object
	for _, host := range []string{"this", "that"} {
		for _, p := range []string{"foo", "bar"} {
			ings = append(ings, annotated(p+"-"+host, ann, rule(host+".test", path(prefix, "/"+p, "web"))))
		}
	}
	s.apply(t, "cache", join(backend(t, "web"), ings)...)
	s.await(t, call{host: "this.test", path: "/foo"}, http.StatusOK, "web")
	auth.down.Store(true)
	for _, c := range []struct {
		host, path string
		want       int
	}{
		{"this.test", "/foo", http.StatusOK},
		{"this.test", "/bar", http.StatusInternalServerError},
		{"that.test", "/foo", http.StatusInternalServerError},
	} {
		if r := s.must(t, call{host: c.host, path: c.path}); r.status != c.want {
			t.Errorf("%s%s with the auth service failing: %d, want %d", c.host, c.path, r.status, c.want)
		}
	}
	expectNoRejection(t, s.envoy)
}

// TestExternalAuthGlobalSettings: the ConfigMap's global-auth-* keys act
// as their annotations do on every Ingress: the method, the redirect
// header, the signin page and its parameter, and the response headers.
// The auth URL picks the auth service's answer from a request header, an
// nginx variable.
func TestExternalAuthGlobalSettings(t *testing.T) {
	s := startConfigMapStack(t)
	auth := startAuthServer(t)
	s.applyConfigMap(t, map[string]string{
		"global-auth-url":                   auth.url("/$http_x_want"),
		"global-auth-method":                "POST",
		"global-auth-request-redirect":      "http://login.test/after",
		"global-auth-signin":                "http://login.test/start",
		"global-auth-signin-redirect-param": "back",
		"global-auth-response-headers":      "X-User",
	})
	s.apply(t, "sites", join(backend(t, "web"), objs(ingress("site", rule("g.test", path(prefix, "/", "web")))))...)

	r := s.await(t, call{host: "g.test", path: "/p?x=1", header: headers("X-Want", "401")}, http.StatusFound, "")
	if got, want := r.header.Get("Location"), "http://login.test/start?back=http://g.test"+url.QueryEscape("/p?x=1"); got != want {
		t.Errorf("global-auth-signin: Location %q, want %q", got, want)
	}
	r = s.await(t, call{host: "g.test", path: "/p", header: headers("X-Want", "200", "X-User", "mallory")}, http.StatusOK, "web")
	if v, _ := echoHeader(r, "X-User"); v != "alice" {
		t.Errorf("backend saw X-User %q, want the auth service's alice", v)
	}
	req, _ := auth.lastRequest()
	if req.Method != http.MethodPost || req.Header.Get("X-Auth-Request-Redirect") != "http://login.test/after" {
		t.Errorf("auth request: %s with X-Auth-Request-Redirect %q, want POST with http://login.test/after", req.Method, req.Header.Get("X-Auth-Request-Redirect"))
	}
	s.await(t, call{host: "g.test", path: "/", header: headers("X-Want", "403")}, http.StatusForbidden, "")
	expectNoRejection(t, s.envoy)
}

// webSite is an Ingress NAME serving NAME.test's / from Service web, with
// the annotations given.
func webSite(name string, ann map[string]string) runtime.Object {
	return annotated(name, ann, rule(name+".test", path(prefix, "/", "web")))
}
