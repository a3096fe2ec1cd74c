package e2e

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/examples/backend/echo"
)

// failing is a backend that answers every request with 502 and counts
// the requests it got, by method.
type failing struct {
	mu   sync.Mutex
	seen map[string]int
}

func (f *failing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen[r.Method]++
	f.mu.Unlock()
	w.WriteHeader(http.StatusBadGateway)
}

func (f *failing) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[method]
}

// TestProxyNextUpstream: with two endpoints of which one answers 502,
// proxy-next-upstream "error timeout http_502" sends a GET that met the
// 502 on to the other endpoint, as nginx does, while a POST is not tried
// again (nginx never passes on a non-idempotent request once sent);
// PATCH and LOCK are not either, while PUT, DELETE and methods nginx does
// not know go on as a GET does; the same with "http_502" alone, and with
// non_idempotent a POST goes on too; a GET that times out goes on too, by
// default; proxy-next-upstream-timeout
// bounds a request with all its tries; proxy-next-upstream-tries:
// 1 tries once; and with one of two endpoints
// dead, "off" lets requests to it fail, where the default retries them,
// POSTs as well.
func TestProxyNextUpstream(t *testing.T) {
	s := startStack(t, "delta")
	bad := &failing{seen: map[string]int{}}
	dead := holdPort(t)
	deadPort := dead.Addr().(*net.TCPAddr).Port
	dead.Close() // nothing listens there now: connections are refused
	s.apply(t, "retries", join(
		serviceWith("pair", endpoint(serve(t, echo.Handler("good"), nil), true, nil), endpoint(serve(t, bad, nil), true, nil)),
		serviceWith("slowpair", endpoint(serve(t, sleepy("slow"), nil), true, nil), endpoint(serve(t, echo.Handler("fast"), nil), true, nil)),
		serviceWith("half", endpoint(harnessBackend(t, "alive"), true, nil), endpoint(deadPort, true, nil)),
		objs(
			annotated("on502", map[string]string{"proxy-next-upstream": "error timeout http_502"}, rule("502.test", path(prefix, "/", "pair"))),
			annotated("only502", map[string]string{"proxy-next-upstream": "http_502"}, rule("only502.test", path(prefix, "/", "pair"))),
			annotated("replay", map[string]string{"proxy-next-upstream": "error timeout http_502 non_idempotent"}, rule("replay.test", path(prefix, "/", "pair"))),
			annotated("once", map[string]string{"proxy-next-upstream": "error timeout http_502", "proxy-next-upstream-tries": "1"}, rule("once.test", path(prefix, "/", "pair"))),
			annotated("off", map[string]string{"proxy-next-upstream": "off"}, rule("off.test", path(prefix, "/", "half"))),
			ingress("default", rule("default.test", path(prefix, "/", "half"))),
			annotated("slow", map[string]string{"proxy-read-timeout": "1"}, rule("slow.test", path(prefix, "/", "slowpair"))),
			annotated("budget", map[string]string{"proxy-read-timeout": "5", "proxy-next-upstream-timeout": "1"}, rule("budget.test", path(prefix, "/", "slowpair"))),
		),
	)...)
	s.await(t, call{host: "502.test", path: "/"}, http.StatusOK, "good")
	s.await(t, call{host: "off.test", path: "/"}, http.StatusOK, "alive")
	s.await(t, call{host: "once.test", path: "/"}, http.StatusOK, "good")
	s.await(t, call{host: "only502.test", path: "/"}, http.StatusOK, "good")
	s.await(t, call{host: "replay.test", path: "/"}, http.StatusOK, "good")

	// statuses sends n requests and counts their statuses.
	statuses := func(t *testing.T, n int, c call) map[int]int {
		got := map[int]int{}
		for range n {
			if c.method != "" && c.method != http.MethodGet {
				c.body = strings.NewReader("order")
			}
			got[s.must(t, c).status]++
		}
		return got
	}
	t.Run("get_meets_502_and_goes_on", func(t *testing.T) {
		before := bad.count(http.MethodGet)
		if got := statuses(t, 20, call{host: "502.test", path: "/"}); got[http.StatusOK] != 20 {
			t.Errorf("GET with one of two endpoints answering 502: %v, want 20 × 200", got)
		}
		if bad.count(http.MethodGet) == before {
			t.Error("no GET reached the failing endpoint: the test shows nothing")
		}
		// The retry conditions rukou adds to the request stay in Envoy.
		if r := s.must(t, call{host: "502.test", path: "/"}); r.echo == nil || len(r.echo.Headers["X-Envoy-Retry-On"]) > 0 {
			t.Errorf("the endpoint got the request with x-envoy-retry-on, or no echo: %+v", r.echo)
		}
	})
	t.Run("post_is_not_sent_twice", func(t *testing.T) {
		before := bad.count(http.MethodPost)
		got := statuses(t, 20, call{method: http.MethodPost, host: "502.test", path: "/"})
		if sent := bad.count(http.MethodPost) - before; got[http.StatusBadGateway] == 0 || got[http.StatusBadGateway] != sent {
			t.Errorf("POST: %v with %d sent to the failing endpoint, want as many 502s as POSTs it got, and some", got, sent)
		}
		// A client's own retry conditions are removed before rukou's
		// are added: they do not make a POST go on either.
		before = bad.count(http.MethodPost)
		asks := http.Header{"X-Envoy-Retry-On": {"reset,retriable-status-codes,5xx"}}
		got = statuses(t, 20, call{method: http.MethodPost, host: "502.test", path: "/", header: asks})
		if sent := bad.count(http.MethodPost) - before; got[http.StatusBadGateway] == 0 || got[http.StatusBadGateway] != sent {
			t.Errorf("POST asking for retries itself: %v with %d sent to the failing endpoint, want as many 502s, and some", got, sent)
		}
	})
	t.Run("patch_and_lock_are_not_sent_twice_other_methods_are", func(t *testing.T) {
		for _, m := range []string{http.MethodPatch, "LOCK"} {
			before := bad.count(m)
			got := statuses(t, 20, call{method: m, host: "502.test", path: "/"})
			if sent := bad.count(m) - before; got[http.StatusBadGateway] == 0 || got[http.StatusBadGateway] != sent {
				t.Errorf("%s: %v with %d sent to the failing endpoint, want as many 502s as it got, and some", m, got, sent)
			}
		}
		for _, m := range []string{http.MethodPut, http.MethodDelete, "PROPFIND"} {
			before := bad.count(m)
			if got := statuses(t, 20, call{method: m, host: "502.test", path: "/"}); got[http.StatusOK] != 20 {
				t.Errorf("%s with one of two endpoints answering 502: %v, want 20 × 200", m, got)
			}
			if bad.count(m) == before {
				t.Errorf("no %s reached the failing endpoint: the test shows nothing", m)
			}
		}
	})
	t.Run("statuses_alone_and_non_idempotent", func(t *testing.T) {
		// "http_502" alone: a GET goes on, a POST is not sent twice.
		before := bad.count(http.MethodGet)
		if got := statuses(t, 20, call{host: "only502.test", path: "/"}); got[http.StatusOK] != 20 || bad.count(http.MethodGet) == before {
			t.Errorf("GET with http_502 alone: %v, want 20 × 200, some of them after a 502", got)
		}
		before = bad.count(http.MethodPost)
		got := statuses(t, 20, call{method: http.MethodPost, host: "only502.test", path: "/"})
		if sent := bad.count(http.MethodPost) - before; got[http.StatusBadGateway] == 0 || got[http.StatusBadGateway] != sent {
			t.Errorf("POST with http_502 alone: %v with %d sent to the failing endpoint, want as many 502s, and some", got, sent)
		}
		// non_idempotent: a POST goes on as a GET does.
		before = bad.count(http.MethodPost)
		if got := statuses(t, 20, call{method: http.MethodPost, host: "replay.test", path: "/"}); got[http.StatusOK] != 20 || bad.count(http.MethodPost) == before {
			t.Errorf("POST with non_idempotent: %v, want 20 × 200, some of them after a 502", got)
		}
	})
	t.Run("get_timing_out_goes_on_by_default", func(t *testing.T) {
		// The slow endpoint sleeps 3 s past a read timeout of 1 s: a GET
		// goes on to the fast one (nginx's default "error timeout"), a POST
		// answers 504.
		get := statuses(t, 6, call{host: "slow.test", path: "/?sleep=3s"})
		post := statuses(t, 6, call{method: http.MethodPost, host: "slow.test", path: "/?sleep=3s"})
		if get[http.StatusOK] != 6 || post[http.StatusGatewayTimeout] == 0 {
			t.Errorf("GET: %v, want 6 × 200; POST: %v, want some 504", get, post)
		}
	})
	t.Run("next_upstream_timeout_bounds_the_request", func(t *testing.T) {
		// The slow endpoint would answer after 3 s, within the read
		// timeout of 5 s; proxy-next-upstream-timeout 1 s ends it first
		// (Envoy's route timeout: the documented difference, since nginx
		// only stops trying other endpoints then, and would wait).
		start := time.Now()
		got := statuses(t, 6, call{host: "budget.test", path: "/?sleep=3s"})
		if took := time.Since(start); got[http.StatusGatewayTimeout] == 0 || got[http.StatusOK] == 0 || took > 9*time.Second {
			t.Errorf("6 GETs behind a 1 s proxy-next-upstream-timeout: %v in %v, want some 504 and some 200 from the fast endpoint, none waiting 3 s", got, took.Round(100*time.Millisecond))
		}
	})
	t.Run("tries_1_tries_once", func(t *testing.T) {
		before := bad.count(http.MethodGet)
		got := statuses(t, 20, call{host: "once.test", path: "/"})
		if sent := bad.count(http.MethodGet) - before; got[http.StatusBadGateway] == 0 || got[http.StatusBadGateway] != sent {
			t.Errorf("GET with proxy-next-upstream-tries 1: %v with %d sent to the failing endpoint, want as many 502s, and some", got, sent)
		}
	})
	t.Run("off_lets_a_dead_endpoint_fail", func(t *testing.T) {
		if got := statuses(t, 20, call{host: "off.test", path: "/"}); got[http.StatusServiceUnavailable] == 0 || got[http.StatusOK] == 0 {
			t.Errorf("off with one of two endpoints dead: %v, want some 503 and some 200", got)
		}
		if got := statuses(t, 20, call{host: "default.test", path: "/"}); got[http.StatusOK] != 20 {
			t.Errorf("by default with one of two endpoints dead: %v, want 20 × 200", got)
		}
		// A refused connection never reached a backend: a POST goes on
		// to the other endpoint too, as nginx passes it on.
		if got := statuses(t, 20, call{method: http.MethodPost, host: "default.test", path: "/"}); got[http.StatusOK] != 20 {
			t.Errorf("POST by default with one of two endpoints dead: %v, want 20 × 200", got)
		}
	})
	expectNoRejection(t, s.envoy)
}
