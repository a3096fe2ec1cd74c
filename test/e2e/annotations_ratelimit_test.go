package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"
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
	counts := s.burst(t, 20, first)
	if counts[http.StatusOK] != 11 || counts[http.StatusServiceUnavailable] != 9 {
		t.Fatalf("20 requests at once: %v, want 11 served and 9 answered 503", counts)
	}
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
			time.Sleep(100 * time.Millisecond)
		}
		if served < 4 || served > 8 {
			t.Errorf("%d requests served in 3 s after the burst, want about 6", served)
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationLimitRPM: limit-rpm with limit-burst-multiplier: a client
// may send rate times the multiplier, plus one, requests at once.
func TestAnnotationLimitRPM(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "rpm", join(backend(t, "limited"), objs(
		annotated("rpm", map[string]string{"limit-rpm": "3", "limit-burst-multiplier": "2"},
			rule("rpm.test", path(prefix, "/", "limited"))),
		ingress("probe", rule("probe.test", path(prefix, "/", "limited"))),
	))...)
	s.await(t, call{host: "probe.test", path: "/"}, http.StatusOK, "limited")
	counts := s.burst(t, 12, call{host: "rpm.test", path: "/", from: "127.0.0.4"})
	if counts[http.StatusOK] != 7 || counts[http.StatusServiceUnavailable] != 5 {
		t.Errorf("12 requests at once with 3 per minute and a multiplier of 2: %v, want 7 served and 5 answered 503", counts)
	}
	expectNoRejection(t, s.envoy)
}
