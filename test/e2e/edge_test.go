package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPathSpellingsMeetTheSamePolicy: a policy on /admin holds however the
// client spells the path (merged slashes, dot segments, escaped slashes),
// as nginx matches its locations on the normalised path. A path with an
// escaped slash is redirected to its decoded form, which then meets the
// policy of the path it names.
func TestPathSpellingsMeetTheSamePolicy(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "spellings", join(backend(t, "open"), backend(t, "admin"), objs(
		ingress("site", rule("edge.test", path(prefix, "/", "open"), path(prefix, "/api", "open"))),
		annotated("admin", map[string]string{"allowlist-source-range": "127.0.0.2/32"},
			rule("edge.test", path(prefix, "/admin", "admin"))),
	))...)
	s.await(t, call{host: "edge.test", path: "/admin", from: "127.0.0.2"}, http.StatusOK, "admin")

	for _, c := range []struct {
		name, path string
		// redirect, when set, is where the path is sent first.
		redirect string
	}{
		{"plain_path", "/admin", ""},
		{"merged_slashes", "//admin", ""},
		{"merged_slashes_inside", "/admin//users", ""},
		{"dot_segment", "/./admin", ""},
		{"dot_dot_segment", "/api/../admin", ""},
		{"escaped_slash_at_the_end", "/admin%2f", "/admin/"},
		{"escaped_slash_upper_case", "/admin%2Fusers", "/admin/users"},
		{"escaped_backslash", "/admin%5cusers", "/admin/users"},
		{"escaped_slash_and_dot_dot", "/api/..%2fadmin", "/admin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if c.redirect != "" {
				r := s.must(t, call{host: "edge.test", path: c.path, from: "127.0.0.3"})
				if r.status < 300 || r.status > 399 || r.header.Get("Location") != c.redirect {
					t.Fatalf("GET %s: %d Location %q, want a redirect to %q", c.path, r.status, r.header.Get("Location"), c.redirect)
				}
				path = c.redirect
			}
			if r := s.must(t, call{host: "edge.test", path: path, from: "127.0.0.3"}); r.status != http.StatusForbidden {
				t.Errorf("GET %s from a denied address: %d (backend %q), want 403", path, r.status, r.backend)
			}
			r := s.must(t, call{host: "edge.test", path: path, from: "127.0.0.2"})
			if r.status != http.StatusOK || r.backend != "admin" {
				t.Errorf("GET %s from the allowed address: %d from %q, want 200 from admin", path, r.status, r.backend)
			}
		})
	}
	t.Run("backend_receives_the_normalised_path", func(t *testing.T) {
		r := s.must(t, call{host: "edge.test", path: "//api/./v1//items", from: "127.0.0.3"})
		if r.echo == nil || r.echo.Path != "/api/v1/items" {
			t.Fatalf("GET //api/./v1//items: %d, echo %+v, want /api/v1/items at the backend", r.status, r.echo)
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestForwardedHeaders: as ingress-nginx by default, the backend sees the
// client's real address in X-Forwarded-For and X-Real-IP, whatever the
// client sent there (which goes on as X-Original-Forwarded-For), the Host,
// port and scheme the client used, and a request ID (the client's own when
// it sent one); the Proxy header never reaches it.
func TestForwardedHeaders(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "forwarded", join(backend(t, "echo"), objs(
		ingress("site", rule("fwd.test", path(prefix, "/", "echo"))),
	))...)
	s.await(t, call{host: "fwd.test", path: "/"}, http.StatusOK, "echo")

	r := s.must(t, call{host: "fwd.test:30080", path: "/x", from: "127.0.0.7", header: headers(
		"X-Forwarded-For", "1.2.3.4", "X-Real-IP", "6.6.6.6", "X-Forwarded-Host", "evil.test",
		"X-Forwarded-Proto", "https", "Proxy", "http://evil.test:3128"),
	})
	if r.echo == nil {
		t.Fatalf("no echo answer: %d %s", r.status, r.body)
	}
	got := func(name string) string { return strings.Join(r.echo.Headers[http.CanonicalHeaderKey(name)], ",") }
	for name, want := range map[string]string{
		"X-Forwarded-For":           "127.0.0.7",
		"X-Real-IP":                 "127.0.0.7",
		"X-Original-Forwarded-For":  "1.2.3.4",
		"X-Original-Forwarded-Host": "evil.test",
		"X-Forwarded-Host":          "fwd.test:30080",
		"X-Forwarded-Port":          "80",
		"X-Forwarded-Proto":         "http",
		"X-Forwarded-Scheme":        "http",
		"X-Scheme":                  "http",
		"Proxy":                     "",
	} {
		if g := got(name); g != want {
			t.Errorf("backend saw %s: %q, want %q", name, g, want)
		}
	}
	if got("X-Request-ID") == "" {
		t.Error("backend saw no X-Request-ID")
	}
	// Over TLS the scheme is https, whatever the client claims.
	r = s.must(t, call{host: "fwd.test", path: "/", https: true, header: headers(
		"X-Forwarded-Proto", "http", "X-Forwarded-Scheme", "http", "X-Scheme", "http")})
	if r.echo == nil {
		t.Fatalf("no echo answer over TLS: %d %s", r.status, r.body)
	}
	for _, name := range []string{"X-Forwarded-Proto", "X-Forwarded-Scheme", "X-Scheme"} {
		if g := strings.Join(r.echo.Headers[name], ","); g != "https" {
			t.Errorf("over TLS the backend saw %s: %q, want https", name, g)
		}
	}
	r = s.must(t, call{host: "fwd.test", path: "/", header: headers("X-Request-ID", "trace-42")})
	if r.echo == nil || strings.Join(r.echo.Headers["X-Request-Id"], ",") != "trace-42" {
		t.Errorf("a client's X-Request-ID is kept: backend saw %v", r.echo)
	}
	expectNoRejection(t, s.envoy)
}

// TestRetriesSkipADeadEndpoint: as with ingress-nginx's default
// proxy-next-upstream (error, 3 tries), a request whose endpoint refuses the
// connection is sent to another endpoint, for every method, so a pod that
// died before its endpoint was removed costs no failed request.
func TestRetriesSkipADeadEndpoint(t *testing.T) {
	s := startStack(t, "delta")
	dead := holdPort(t)
	deadPort := dead.Addr().(*net.TCPAddr).Port
	dead.Close() // nothing listens there now: connections are refused
	s.apply(t, "retries", join(
		serviceWith("half", endpoint(harnessBackend(t, "alive"), true, nil), endpoint(deadPort, true, nil)),
		objs(ingress("half", rule("half.test", path(prefix, "/", "half")))),
	)...)
	s.await(t, call{host: "half.test", path: "/"}, http.StatusOK, "alive")
	failed := 0
	for i := range 20 {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodPost
		}
		if r := s.must(t, call{method: method, host: "half.test", path: "/", body: strings.NewReader("x")}); r.status != http.StatusOK {
			failed++
			t.Logf("%s: %d", method, r.status)
		}
	}
	if failed != 0 {
		t.Errorf("%d of 20 requests failed with one of two endpoints dead, want 0", failed)
	}
	expectNoRejection(t, s.envoy)
}

// TestWebSocketUpgrade: an Upgrade: websocket request reaches the backend
// with its upgrade headers, the 101 comes back, and bytes then flow both
// ways through Envoy, as ingress-nginx proxies WebSockets on any path.
func TestWebSocketUpgrade(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "websocket", join(echoService(t, "ws", upgradeEcho(t), nil), objs(
		ingress("ws", rule("ws.test", path(prefix, "/", "ws"))),
	))...)
	s.await(t, call{host: "ws.test", path: "/"}, http.StatusOK, "")
	expectWebSocketEcho(t, s, "ws.test")
}

// expectWebSocketEcho upgrades GET /chat on host to a WebSocket through
// Envoy's plain listener and checks that an upgradeEcho backend echoes two
// lines.
func expectWebSocketEcho(t *testing.T, s *stack, host string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.rukou.HTTPPort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /chat HTTP/1.1\r\nHost: "+host+"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the upgrade answer: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("upgrade answered %d, Upgrade %q; want 101 websocket", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	for _, msg := range []string{"hello", "second message"} {
		if _, err := fmt.Fprintln(conn, msg); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil || line != "echo: "+msg+"\n" {
			t.Fatalf("after the upgrade: read %q (%v), want the backend's echo of %q", line, err, msg)
		}
	}
}

// upgradeEcho answers a WebSocket upgrade with 101 and then echoes each
// line it reads, prefixed with "echo: "; other requests get 200.
func upgradeEcho(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			w.WriteHeader(http.StatusOK)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijacking the upgrade: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		for range 10 {
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			fmt.Fprint(rw, "echo: "+line)
			rw.Flush()
		}
	})
}
