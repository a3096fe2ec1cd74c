package e2e

// External authentication's connections to the auth service, as the auth
// service sees them (auth-keepalive-requests, auth-keepalive-timeout),
// and the ConfigMap's twins of the cache and cookie annotations.

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// connLog is an auth service that answers 200 and records, per client
// connection, the requests it carried and when the client closed it.
type connLog struct {
	port     int
	mu       sync.Mutex
	requests map[string]int
	closed   map[string]time.Time
}

func startConnLog(t *testing.T) *connLog {
	t.Helper()
	c := &connLog{requests: map[string]int{}, closed: map[string]time.Time{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.mu.Lock()
			c.requests[r.RemoteAddr]++
			c.mu.Unlock()
		}),
		// The server's own idle timeout is far longer than the client's:
		// a close seen here is the client's.
		IdleTimeout: time.Minute,
		ConnState: func(conn net.Conn, state http.ConnState) {
			if state == http.StateClosed {
				c.mu.Lock()
				c.closed[conn.RemoteAddr().String()] = time.Now()
				c.mu.Unlock()
			}
		},
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	c.port = l.Addr().(*net.TCPAddr).Port
	return c
}

func (c *connLog) url() string { return fmt.Sprintf("http://127.0.0.1:%d/", c.port) }

// snapshot returns the requests per connection and the closing times.
func (c *connLog) snapshot() (map[string]int, map[string]time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.requests), maps.Clone(c.closed)
}

// startKeptAuth serves NAME.test, checked by a connLog auth service with
// auth-keepalive 4 and the keepalive setting given, and waits until it
// answers.
func startKeptAuth(t *testing.T, name, setting, value string) (*stack, *connLog) {
	t.Helper()
	s := startStack(t, "delta")
	auth := startConnLog(t)
	s.apply(t, "auth", join(backend(t, "web"), objs(
		annotated(name, map[string]string{"auth-url": auth.url(), "auth-keepalive": "4", setting: value},
			rule(name+".test", path(prefix, "/", "web"))),
	))...)
	s.await(t, call{host: name + ".test", path: "/"}, http.StatusOK, "web")
	return s, auth
}

// TestExternalAuthKeepaliveRequests: with auth-keepalive-requests 2, the
// auth service sees each connection carry at most two checks, and some
// carry two (the connection is kept, then given up), as nginx's
// keepalive_requests.
func TestExternalAuthKeepaliveRequests(t *testing.T) {
	s, auth := startKeptAuth(t, "kept", "auth-keepalive-requests", "2")
	for range 7 {
		if r := s.must(t, call{host: "kept.test", path: "/"}); r.status != http.StatusOK {
			t.Fatalf("kept.test: %d", r.status)
		}
	}
	requests, _ := auth.snapshot()
	most, total := 0, 0
	for _, n := range requests {
		most, total = max(most, n), total+n
	}
	t.Logf("%d checks on %d connections, at most %d on one", total, len(requests), most)
	if most != 2 {
		t.Errorf("%d checks came on %d connections, at most %d on one (%v); want at most 2 each, and some with 2", total, len(requests), most, requests)
	}
}

// TestExternalAuthKeepaliveTimeout: with auth-keepalive-timeout 1 (s),
// the auth service sees its kept connection closed by the client about a
// second after the last check, not at once and not a minute later (the
// default); the next check opens a new one.
func TestExternalAuthKeepaliveTimeout(t *testing.T) {
	s, auth := startKeptAuth(t, "brief", "auth-keepalive-timeout", "1")
	// Let every connection of the wait above go, then make one check.
	harness.Eventually(t, 10*time.Second, "the auth service's connections closed", func() error {
		requests, closed := auth.snapshot()
		for conn := range requests {
			if _, ok := closed[conn]; !ok {
				return fmt.Errorf("connection %s still open", conn)
			}
		}
		return nil
	})
	before, _ := auth.snapshot()
	if r := s.must(t, call{host: "brief.test", path: "/"}); r.status != http.StatusOK {
		t.Fatalf("brief.test: %d", r.status)
	}
	checked := time.Now()
	var conn string
	harness.Eventually(t, 5*time.Second, "the connection of the last check closed", func() error {
		requests, closed := auth.snapshot()
		for addr := range requests {
			if _, old := before[addr]; !old {
				conn = addr
			}
		}
		if _, ok := closed[conn]; conn == "" || !ok {
			return fmt.Errorf("connection %q still open", conn)
		}
		return nil
	})
	_, closed := auth.snapshot()
	idle := closed[conn].Sub(checked)
	t.Logf("the kept connection closed %v after the check", idle)
	if idle < 500*time.Millisecond || idle > 3*time.Second {
		t.Errorf("the kept connection closed %v after the check, want about auth-keepalive-timeout (1 s)", idle)
	}
}

// TestExternalAuthGlobalCache: the ConfigMap's global-auth-cache-key and
// global-auth-cache-duration cache the global auth service's answers as
// their annotations do (TestExternalAuthCache).
func TestExternalAuthGlobalCache(t *testing.T) {
	s := startConfigMapStack(t)
	auth := startAuthServer(t)
	s.applyConfigMap(t, map[string]string{"global-auth-url": auth.url("/200"),
		"global-auth-cache-key": "$http_authorization", "global-auth-cache-duration": "200 10m"})
	s.apply(t, "auth", join(backend(t, "web"), objs(ingress("cached", rule("cached.test", path(prefix, "/", "web")))))...)
	expectCachedAuth(t, s, auth, "cached.test")
}

// TestExternalAuthGlobalCookie: the ConfigMap's
// global-auth-always-set-cookie passes the global auth service's cookie
// on with the backend's errors too, as auth-always-set-cookie does
// (TestExternalAuthCookie); without it, with its successes only.
func TestExternalAuthGlobalCookie(t *testing.T) {
	s := startConfigMapStack(t)
	auth := startAuthServer(t)
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/error" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	s.apply(t, "cookies", join(echoService(t, "app", failing, nil), objs(ingress("site", rule("g.test", path(prefix, "/", "app")))))...)
	for _, always := range []string{"true", "false"} {
		s.applyConfigMap(t, map[string]string{"global-auth-url": auth.url("/cookie"), "global-auth-always-set-cookie": always})
		harness.Eventually(t, 15*time.Second, "global-auth-always-set-cookie "+always, func() error {
			for _, c := range []struct {
				path   string
				status int
				cookie bool
			}{{"/", http.StatusOK, true}, {"/error", http.StatusServiceUnavailable, always == "true"}} {
				if err := expectCookie(s, call{host: "g.test", path: c.path}, c.status, c.cookie); err != nil {
					return err
				}
			}
			return nil
		})
	}
	expectNoRejection(t, s.envoy)
}
