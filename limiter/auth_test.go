package limiter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_auth_v3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/rukou/rukou/limiter/wire"
)

// check is a CheckRequest for GET http://shop.test:8080/cart?id=7 from
// 10.0.0.9, with the route's context extensions ext.
func check(ext map[string]string, headers map[string]string) *envoy_service_auth_v3.CheckRequest {
	h := map[string]string{":authority": "shop.test:8080", ":path": "/cart?id=7", "x-request-id": "req-1"}
	for k, v := range headers {
		h[k] = v
	}
	return &envoy_service_auth_v3.CheckRequest{Attributes: &envoy_service_auth_v3.AttributeContext{
		Source: &envoy_service_auth_v3.AttributeContext_Peer{Address: &envoy_config_core_v3.Address{Address: &envoy_config_core_v3.Address_SocketAddress{
			SocketAddress: &envoy_config_core_v3.SocketAddress{Address: "10.0.0.9"},
		}}},
		Request: &envoy_service_auth_v3.AttributeContext_Request{Http: &envoy_service_auth_v3.AttributeContext_HttpRequest{
			Method: "GET", Scheme: "http", Host: "shop.test:8080", Path: "/cart?id=7", Headers: h,
		}},
		ContextExtensions: ext,
	}}
}

// answer is the status Envoy sends the client: the denied response's,
// or 200 when the request goes through.
func answer(resp *envoy_service_auth_v3.CheckResponse) (int, http.Header) {
	h := http.Header{}
	if ok := resp.GetOkResponse(); ok != nil {
		for _, o := range ok.GetHeaders() {
			h.Add(o.GetHeader().GetKey(), o.GetHeader().GetValue())
		}
		for _, name := range ok.GetHeadersToRemove() {
			h.Add("Removed", name)
		}
		for _, o := range ok.GetResponseHeadersToAdd() {
			h.Add(o.GetHeader().GetKey(), o.GetHeader().GetValue())
		}
		// Cookies kept for the route's response headers, which send
		// them with a 200.
		for _, v := range resp.GetDynamicMetadata().GetFields() {
			h.Add("Set-Cookie", v.GetStringValue())
		}
		return http.StatusOK, h
	}
	d := resp.GetDeniedResponse()
	for _, o := range d.GetHeaders() {
		h.Add(o.GetHeader().GetKey(), o.GetHeader().GetValue())
	}
	return int(d.GetStatus().GetCode()), h
}

// TestAuthDecides: the auth service's status becomes the client's as
// nginx's auth_request makes it.
func TestAuthDecides(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.Trim(r.URL.Path, "/"))
		w.Header().Set("X-User", "alice")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(code)
	}))
	defer svc.Close()
	auth := NewAuth(slog.New(slog.DiscardHandler), nil)
	cases := []struct {
		name, path, signin string
		always             bool
		want               int
		header             string
		value              string
	}{
		{"2xx_goes_through_with_response_headers", "/202", "", false, 200, "X-User", "alice"},
		{"2xx_sends_the_cookie", "/200", "", false, 200, "Set-Cookie", "a=1"},
		{"2xx_with_always_set_cookie_sends_the_cookie", "/200", "", true, 200, "Set-Cookie", "a=1"},
		{"401_with_signin_sends_the_cookie_with_the_redirect", "/401", "https://${host}/start", false, 302, "Set-Cookie", "a=1"},
		{"401_without_signin_is_401", "/401", "", false, 401, "WWW-Authenticate", `Basic realm="x"`},
		{"401_without_signin_keeps_the_cookie_back", "/401", "", false, 401, "Set-Cookie", ""},
		{"401_with_signin_redirects", "/401", "https://${host}/start", false, 302, "Location", "https://shop.test/start?rd=http://shop.test:8080%2Fcart%3Fid%3D7"},
		{"403_is_403", "/403", "", false, 403, "Set-Cookie", ""},
		{"403_with_always_set_cookie_sends_it", "/403", "", true, 403, "Set-Cookie", "a=1"},
		{"redirect_is_500", "/302", "", false, 500, "Location", ""},
		{"5xx_is_500", "/502", "", false, 500, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ext := map[string]string{wire.AuthURLKey: svc.URL + c.path, wire.AuthResponseHeadersKey: "X-User,X-Email", wire.AuthSigninKey: c.signin}
			if !c.always {
				ext[wire.AuthCookieStatusesKey] = "200,201,204,206,301,302,303,304,307,308"
			}
			resp, err := auth.Check(context.Background(), check(ext, nil))
			if err != nil {
				t.Fatal(err)
			}
			code, h := answer(resp)
			if code != c.want || (c.header != "" && h.Get(c.header) != c.value) {
				t.Errorf("got %d with %s %q, want %d with %q", code, c.header, h.Get(c.header), c.want, c.value)
			}
			if code == 200 && h.Get("Removed") != "x-email" {
				t.Errorf("a listed header the auth service did not send is not removed: %v", h)
			}
		})
	}
}

// TestAuthFailsClosed: an auth service that cannot be reached or is too
// slow, and settings that cannot be read, never let a request through.
func TestAuthFailsClosed(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	auth := NewAuth(slog.New(slog.DiscardHandler), nil)
	for name, c := range map[string]struct {
		ext  map[string]string
		want int
	}{
		"unreachable":          {map[string]string{wire.AuthURLKey: closed.URL}, 500},
		"too_slow":             {map[string]string{wire.AuthURLKey: slow.URL, wire.AuthTimeoutKey: "100"}, 500},
		"no_url":               {map[string]string{}, 503},
		"unknown_variable":     {map[string]string{wire.AuthURLKey: "http://a/${nope}"}, 503},
		"unreadable_timeout":   {map[string]string{wire.AuthURLKey: slow.URL, wire.AuthTimeoutKey: "soon"}, 503},
		"unreadable_cache_ttl": {map[string]string{wire.AuthURLKey: slow.URL, wire.AuthCacheDurationKey: "200 5m"}, 503},
	} {
		t.Run(name, func(t *testing.T) {
			resp, _ := auth.Check(context.Background(), check(c.ext, nil))
			if code, _ := answer(resp); code != c.want {
				t.Errorf("got %d, want %d", code, c.want)
			}
		})
	}
}

// TestAuthRequest: the auth request carries the client's headers without
// the body and those ingress-nginx adds; the route's method brings
// X-Original-URI and X-Scheme; the extra headers are built per request.
func TestAuthRequest(t *testing.T) {
	var got atomic.Pointer[http.Request]
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Store(r) }))
	defer svc.Close()
	auth := NewAuth(slog.New(slog.DiscardHandler), nil)
	ext := map[string]string{
		wire.AuthURLKey: svc.URL + "/check?for=${host}", wire.AuthMethodKey: "POST",
		wire.AuthSetHeaderPrefix + "X-Tenant": "shop-${cookie:tenant}",
	}
	_, err := auth.Check(context.Background(), check(ext, map[string]string{
		"cookie": "tenant=blue", "content-length": "12", "x-forwarded-proto": "https", "authorization": "Bearer t",
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := got.Load()
	want := map[string]string{
		"X-Original-Url": "http://shop.test:8080/cart?id=7", "X-Original-Method": "GET", "X-Original-Uri": "/cart?id=7",
		"X-Scheme": "http", "X-Sent-From": "nginx-ingress-controller", "X-Real-Ip": "10.0.0.9", "X-Forwarded-For": "10.0.0.9",
		"X-Auth-Request-Redirect": "/cart?id=7", "X-Request-Id": "req-1", "Authorization": "Bearer t",
		"X-Tenant": "shop-blue", "X-Forwarded-Proto": "",
	}
	for name, v := range want {
		if r.Header.Get(name) != v {
			t.Errorf("%s = %q, want %q", name, r.Header.Get(name), v)
		}
	}
	if r.Method != http.MethodPost || r.URL.RawQuery != "for=shop.test" || r.ContentLength != 0 {
		t.Errorf("%s ?%s with %d body bytes, want POST ?for=shop.test without a body", r.Method, r.URL.RawQuery, r.ContentLength)
	}
}

// TestAuthCache: answers are kept per scope and key for their rule's
// time, never those that set a cookie or forbid caching, and the cache
// stays within its bound.
func TestAuthCache(t *testing.T) {
	var hits atomic.Int32
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/cookie" {
			w.Header().Set("Set-Cookie", "s=1")
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer svc.Close()
	auth := NewAuth(slog.New(slog.DiscardHandler), nil)
	now := time.Unix(1000, 0)
	auth.now = func() time.Time { return now }
	ask := func(path, scope, user string) {
		ext := map[string]string{wire.AuthURLKey: svc.URL + path, wire.AuthCacheKeyKey: "${header:authorization}",
			wire.AuthCacheScopeKey: scope, wire.AuthCacheDurationKey: "200 60000ms"}
		if _, err := auth.Check(context.Background(), check(ext, map[string]string{"authorization": user})); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		path, scope, user string
		advance           time.Duration
		hits              int32
	}{
		{"/", "a", "alice", 0, 1},
		{"/", "a", "alice", 30 * time.Second, 1},
		{"/", "a", "bob", 0, 2},
		{"/", "b", "alice", 0, 3},
		{"/", "a", "alice", 31 * time.Second, 4},
		{"/cookie", "c", "alice", 0, 5},
		{"/cookie", "c", "alice", 0, 6},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		ask(s.path, s.scope, s.user)
		if hits.Load() != s.hits {
			t.Fatalf("step %d (%+v): %d hits of the auth service, want %d", i, s, hits.Load(), s.hits)
		}
	}
	small := newAuthCache(10)
	for i := range 25 {
		small.put(fmt.Sprint(i), authResult{status: 200}, now.Add(time.Duration(i)*time.Second))
	}
	if n := len(small.entries); n > 10 {
		t.Errorf("cache of 10 holds %d entries", n)
	}
	if _, ok := small.get("24", now); !ok {
		t.Error("the newest entry was evicted")
	}
}

// TestTemplateRoundTrip: what the Envoy backend writes, the limiter reads.
func TestTemplateRoundTrip(t *testing.T) {
	tpl := wire.Template{{Literal: "https://"}, {Var: wire.VarHost}, {Literal: "/a$b?rd="}, {Var: wire.VarEscapedRequestURI}, {Var: wire.VarCookie, Arg: "s"}}
	back, err := wire.ParseTemplate(tpl.String())
	if err != nil || back.String() != tpl.String() {
		t.Fatalf("%q read back as %q (%v)", tpl.String(), back.String(), err)
	}
	for _, bad := range []string{"${nope}", "$host", "${header}", "${host:x}", "${host"} {
		if _, err := wire.ParseTemplate(bad); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
}

// TestAuthKeepalive: without auth-keepalive each check has a connection of
// its own; with it, connections are kept, each for at most
// auth-keepalive-requests checks.
func TestAuthKeepalive(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
	}))
	defer svc.Close()
	auth := NewAuth(slog.New(slog.DiscardHandler), nil)
	for _, c := range []struct {
		name              string
		keepalive, reqs   string
		checks, wantConns int
	}{
		{"no_keepalive", "", "", 7, 7},
		{"keepalive", "4", "1000", 7, 1},
		{"keepalive_requests", "4", "3", 7, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			clear(conns)
			mu.Unlock()
			ext := map[string]string{wire.AuthURLKey: svc.URL + "/" + c.name}
			if c.keepalive != "" {
				ext[wire.AuthKeepaliveKey], ext[wire.AuthKeepaliveRequestsKey] = c.keepalive, c.reqs
			}
			for range c.checks {
				if resp, _ := auth.Check(context.Background(), check(ext, nil)); resp.GetOkResponse() == nil {
					t.Fatalf("check refused: %v", resp)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(conns) != c.wantConns {
				t.Errorf("%d checks used %d connections, want %d", c.checks, len(conns), c.wantConns)
			}
		})
	}
}

// TestSigninURL: the original URL joins the signin URL as ingress-nginx
// builds it (its e2e cases: rd=http://host%2F%3Fa%3Db%26c%3Dd).
func TestSigninURL(t *testing.T) {
	o := &original{scheme: "http", authority: "app.test", requestURI: "/?a=b&c=d", header: http.Header{}}
	for _, c := range []struct{ signin, param, want string }{
		{"http://${host}/auth/start", "", "http://app.test/auth/start?rd=http://app.test%2F%3Fa%3Db%26c%3Dd"},
		{"http://${host}/auth/start", "orig", "http://app.test/auth/start?orig=http://app.test%2F%3Fa%3Db%26c%3Dd"},
		{"http://login.test/start?tenant=blue", "", "http://login.test/start?tenant=blue&rd=http://app.test%2F%3Fa%3Db%26c%3Dd"},
		{"https://${host}/oauth2/start?rd=${escaped-request-uri}", "", "https://app.test/oauth2/start?rd=%2F%3Fa%3Db%26c%3Dd"},
	} {
		tpl, err := wire.ParseTemplate(c.signin)
		if err != nil {
			t.Fatal(err)
		}
		if got := signinURL(o, &authSettings{signin: tpl, signinParam: c.param}); got != c.want {
			t.Errorf("%s (%q): %s, want %s", c.signin, c.param, got, c.want)
		}
	}
}
