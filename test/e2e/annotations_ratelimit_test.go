package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// burst sends n requests at once from the client address from and counts
// the answers by status.
func (s *stack) burst(t *testing.T, n int, c call) map[int]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.do(c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				counts[-1]++
				return
			}
			counts[r.status]++
		}()
	}
	wg.Wait()
	if counts[-1] > 0 {
		t.Fatalf("%d of %d requests got no answer", counts[-1], n)
	}
	return counts
}

// TestAnnotationLimitRPS: with limit-rps "2" (and the default burst
// multiplier of 5), a client may send 11 requests at once, then about 2 a
// second; the rest get 503. Each client address counts on its own, and an
// address in limit-allowlist is never limited.
func TestAnnotationLimitRPS(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "rps", join(backend(t, "limited"), objs(
		annotated("rps", map[string]string{"limit-rps": "2", "limit-allowlist": "127.0.0.9/32, 10.0.0.0/8"},
			rule("rps.test", path(prefix, "/", "limited"))),
		ingress("probe", rule("probe.test", path(prefix, "/", "limited"))),
	))...)
	// The probe host is not limited: it only shows that the
	// configuration has arrived, without spending any client's tokens.
	s.await(t, call{host: "probe.test", path: "/"}, http.StatusOK, "limited")

	first := call{host: "rps.test", path: "/", from: "127.0.0.2"}
	began := time.Now()
	counts := s.burst(t, 20, first)
	// "At once" takes time on a busy machine, and the bucket refills
	// meanwhile: a token every 500 ms.
	most := 11 + refills(time.Since(began), 500*time.Millisecond)
	if counts[http.StatusOK] < 11 || counts[http.StatusOK] > most || counts[http.StatusServiceUnavailable] < 20-most {
		t.Fatalf("20 requests at once: %v, want 11 served (%d if the bucket refilled meanwhile) and the rest answered 503", counts, most)
	}
	emptied := time.Now()
	t.Run("another_client_address_is_unaffected", func(t *testing.T) {
		counts := s.burst(t, 11, call{host: "rps.test", path: "/", from: "127.0.0.3"})
		if counts[http.StatusOK] != 11 {
			t.Errorf("a second client's first 11 requests: %v, want all served", counts)
		}
	})
	t.Run("allowlisted_address_is_never_limited", func(t *testing.T) {
		counts := s.burst(t, 40, call{host: "rps.test", path: "/", from: "127.0.0.9"})
		if counts[http.StatusOK] != 40 {
			t.Errorf("40 requests at once from an allowlisted address: %v, want all served", counts)
		}
	})
	t.Run("then_about_two_per_second", func(t *testing.T) {
		// The bucket of 127.0.0.2 is empty; over 3 seconds it refills by
		// 2 a second. Requests every 100 ms: about 6 are served.
		served := 0
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if s.must(t, first).status == http.StatusOK {
				served++
			}
			time.Sleep(100 * time.Millisecond) // the pace of the client
		}
		// The bucket has refilled since the burst emptied it, also while
		// the other subtests ran; slow answers make fewer requests, not
		// more tokens.
		if most := refills(time.Since(emptied), 500*time.Millisecond); served < 4 || served > most {
			t.Errorf("%d requests served in 3 s after the burst, want about 6 (4 to %d)", served, most)
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationLimitRPM: limit-rpm with limit-burst-multiplier: a client
// may send rate times the multiplier, plus one, requests at once.
func TestAnnotationLimitRPM(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "rpm", join(backend(t, "limited"), objs(
		annotated("rpm", map[string]string{"limit-rpm": "3", "limit-burst-multiplier": "2", "limit-whitelist": "127.0.0.7"},
			rule("rpm.test", path(prefix, "/", "limited"))),
		ingress("probe", rule("probe.test", path(prefix, "/", "limited"))),
	))...)
	s.await(t, call{host: "probe.test", path: "/"}, http.StatusOK, "limited")
	began := time.Now()
	counts := s.burst(t, 12, call{host: "rpm.test", path: "/", from: "127.0.0.4"})
	if most := 7 + refills(time.Since(began), 20*time.Second); counts[http.StatusOK] < 7 || counts[http.StatusOK] > most || counts[http.StatusServiceUnavailable] < 12-most {
		t.Errorf("12 requests at once with 3 per minute and a multiplier of 2: %v, want 7 served (%d if the bucket refilled meanwhile) and the rest answered 503", counts, most)
	}
	if counts := s.burst(t, 12, call{host: "rpm.test", path: "/", from: "127.0.0.7"}); counts[http.StatusOK] != 12 {
		t.Errorf("12 requests at once from an address in limit-whitelist (the former name): %v, want all served", counts)
	}
	expectNoRejection(t, s.envoy)
}

// TestAnnotationLimitConnections: with limit-connections "2", a client may
// have 2 requests in flight at once; more at the same time get 503, while
// another client address, or one in limit-allowlist, is unaffected. Once
// its requests are done, the client may send 2 again. Envoy asks rukou by
// default, or a `rukou limiter` beside it when its bootstrap names one.
func TestAnnotationLimitConnections(t *testing.T) {
	t.Run("rukou_counts", func(t *testing.T) {
		s := startStack(t, "delta")
		checkConnectionLimit(t, s, s.rukou.Ops)
	})
	t.Run("limiter_beside_envoy_counts", func(t *testing.T) {
		address, ops := harness.Addr(t), harness.Addr(t)
		lim := harness.Start(t, "limiter", exec.Command(filepath.Join(harness.Root(t), "bin", "rukou"), "limiter",
			"--address", address, "--ops-address", ops), 5*time.Second)
		get := func(path string) (string, error) { return harness.GetOK("http://" + ops + path) }
		harness.Eventually(t, 10*time.Second, "rukou limiter is healthy", func() error {
			if lim.Exited() {
				t.Fatalf("rukou limiter exited:\n%s", lim.Log())
			}
			_, err := get("/healthz")
			return err
		})
		s := startStackWith(t, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--limiter-address", address}})
		checkConnectionLimit(t, s, get)
		if m, err := s.rukou.Metrics(); err != nil || m.Sum("rukou_limit_connections_requests_total") != 0 {
			t.Errorf("rukou serve decided requests although Envoy has its own limiter (metrics error %v)", err)
		}
		t.Run("without_its_limiter_envoy_lets_requests_through", func(t *testing.T) {
			lim.Stop(5 * time.Second)
			if counts := s.burst(t, 4, call{host: "conn.test", path: "/?sleep=500ms", from: "127.0.0.5"}); counts[http.StatusOK] != 4 {
				t.Errorf("4 requests at once with the limiter stopped: %v, want all served (the limit fails open)", counts)
			}
		})
	})
}

// refills is the most tokens a bucket that gains one every interval can
// gain in d: one more than whole intervals, as d may straddle a fill.
func refills(d, interval time.Duration) int { return int(d/interval) + 1 }

// limiterMetrics reads the /metrics of a limiter through ops.
func limiterMetrics(ops func(path string) (string, error)) (harness.Metrics, error) {
	body, err := ops("/metrics")
	if err != nil {
		return nil, err
	}
	return harness.ParseMetrics(body)
}

// checkConnectionLimit runs the limit-connections checks on s; ops reads
// the /metrics of the limiter that Envoy asks.
func checkConnectionLimit(t *testing.T, s *stack, ops func(path string) (string, error)) {
	s.apply(t, "connections", join(echoService(t, "held", sleepy("held"), nil), objs(
		annotated("conn", map[string]string{"limit-connections": "2", "limit-allowlist": "127.0.0.9"},
			rule("conn.test", path(prefix, "/", "held"))),
		ingress("probe", rule("probe.test", path(prefix, "/", "held"))),
	))...)
	s.await(t, call{host: "probe.test", path: "/"}, http.StatusOK, "held")
	s.await(t, call{host: "conn.test", path: "/", from: "127.0.0.8"}, http.StatusOK, "held")

	slow := func(from string) call { return call{host: "conn.test", path: "/?sleep=1500ms", from: from} }
	var other map[int]int
	var wg sync.WaitGroup
	wg.Go(func() {
		// Sent while the first client is at its limit: once the limiter
		// holds its two requests (each lasts 1.5 s).
		for range 100 {
			if m, err := limiterMetrics(ops); err == nil && m.Sum("rukou_limit_connections_in_flight") >= 2 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		other = s.burst(t, 2, slow("127.0.0.6"))
	})
	counts := s.burst(t, 5, slow("127.0.0.5"))
	wg.Wait()
	if counts[http.StatusOK] != 2 || counts[http.StatusServiceUnavailable] != 3 {
		t.Fatalf("5 slow requests at once from one client: %v, want 2 served and 3 answered 503", counts)
	}
	t.Run("another_client_address_is_unaffected", func(t *testing.T) {
		if other[http.StatusOK] != 2 {
			t.Errorf("2 requests from a second client meanwhile: %v, want both served", other)
		}
	})
	t.Run("done_requests_no_longer_count", func(t *testing.T) {
		if counts := s.burst(t, 2, slow("127.0.0.5")); counts[http.StatusOK] != 2 {
			t.Errorf("2 requests after the first ones ended: %v, want both served", counts)
		}
	})
	t.Run("allowlisted_address_is_never_limited", func(t *testing.T) {
		if counts := s.burst(t, 6, slow("127.0.0.9")); counts[http.StatusOK] != 6 {
			t.Errorf("6 slow requests at once from an allowlisted address: %v, want all served", counts)
		}
	})
	t.Run("rejections_are_counted", func(t *testing.T) {
		m, err := limiterMetrics(ops)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Sum("rukou_limit_connections_requests_total", "result", "rejected"); got != 3 {
			t.Errorf("rukou_limit_connections_requests_total{result=rejected} = %v, want 3", got)
		}
		if got := m.Sum("rukou_limit_connections_in_flight"); got != 0 {
			t.Errorf("rukou_limit_connections_in_flight = %v after every request ended, want 0", got)
		}
	})
	t.Run("envoy_and_limiter_agree", func(t *testing.T) {
		// Envoy lets a request through when the limiter's answer is
		// wrong or missing; none may have been.
		stats, err := s.envoy.Admin.Stats(t.Context(), "ext_proc")
		if err != nil {
			t.Fatal(err)
		}
		for name, n := range stats {
			for _, bad := range []string{"spurious_msgs_received", "streams_failed", "failure_mode_allowed", "message_timeouts"} {
				if strings.HasSuffix(name, "ext_proc."+bad) && n != 0 {
					t.Errorf("Envoy: %s = %d", name, n)
				}
			}
		}
	})
	expectNoRejection(t, s.envoy)
}
