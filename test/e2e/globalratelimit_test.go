package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// TestGlobalRateLimit: global-rate-limit through two real Envoys, each with
// its own rukou, asking one real envoyproxy/ratelimit that counts in a real
// Redis, as replicas of the proxy share one limit. The Ingresses are
// translator/testdata/in/e2e_global_rate_limit.yaml. Each case counts from
// a source address of its own (any of 127.0.0.0/8 is on loopback), so that
// no case sees another's counts.
func TestGlobalRateLimit(t *testing.T) {
	rl := harness.StartRateLimit(t)
	service := []string{"--global-rate-limit-service", rl.GRPCAddress}
	a := startStackArgs(t, append(service, "--global-rate-limit-config-dir", rl.ConfigDir)...)
	b := startStackArgs(t, service...)
	web := serviceWith("web", endpoint(harnessBackend(t, "web"), true, nil))
	for _, s := range []*stack{a, b} {
		s.applyCase(t, "e2e_global_rate_limit.yaml", web)
		s.await(t, call{host: "free.test", path: "/"}, http.StatusOK, "web")
	}
	rl.AwaitConfig(t, "default/limited:3/minute")

	// statuses sends one request per stack in turn, from c.from, and
	// returns the statuses.
	statuses := func(t *testing.T, c call, stacks ...*stack) []int {
		t.Helper()
		var out []int
		for _, s := range stacks {
			out = append(out, s.must(t, c).status)
		}
		return out
	}
	expect := func(t *testing.T, what string, got []int, want ...int) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: statuses %v, want %v", what, got, want)
		}
	}
	const ok, limited = http.StatusOK, http.StatusTooManyRequests

	t.Run("shared_by_every_envoy_and_path", func(t *testing.T) {
		inOneWindow(t, time.Minute)
		c := call{host: "limited.test", path: "/", from: "127.0.0.2"}
		expect(t, "three requests over two Envoys, then a fourth on each", statuses(t, c, a, b, a, b, a), ok, ok, ok, limited, limited)
		other := call{host: "limited.test", path: "/other", from: "127.0.0.2"}
		expect(t, "another path of the Ingress", statuses(t, other, b), limited)
		expect(t, "another client", statuses(t, call{host: "limited.test", path: "/", from: "127.0.0.3"}, b), ok)
		r := a.must(t, c)
		if r.header.Get("X-Envoy-Ratelimited") != "" {
			t.Errorf("a limited request carries X-Envoy-Ratelimited, which nginx never sends")
		}
		if !strings.Contains(r.body, "429 Too Many Requests") {
			t.Errorf("a limited request's body is %q, want the error page of 429", r.body)
		}
	})
	t.Run("key_by_header_separate_counts", func(t *testing.T) {
		inOneWindow(t, time.Minute)
		alice := call{host: "header.test", path: "/", from: "127.0.0.4", header: headers("X-Api-Client", "alice")}
		expect(t, "alice", statuses(t, alice, a, b, a, b), ok, ok, ok, limited)
		bob := call{host: "header.test", path: "/", from: "127.0.0.4", header: headers("X-Api-Client", "bob")}
		expect(t, "bob, from the same address", statuses(t, bob, b), ok)
		// Without the header the key is empty: ingress-nginx counts by
		// client address then.
		none := call{host: "header.test", path: "/", from: "127.0.0.5"}
		expect(t, "no header", statuses(t, none, a, b, a, b), ok, ok, ok, limited)
		expect(t, "no header, another address", statuses(t, call{host: "header.test", path: "/", from: "127.0.0.6"}, a), ok)
	})
	t.Run("ignored_cidr_never_limited", func(t *testing.T) {
		inOneWindow(t, time.Minute)
		ignored := call{host: "ignored.test", path: "/", from: "127.0.0.1"}
		expect(t, "127.0.0.1, ignored", statuses(t, ignored, a, b, a, b, a, b), ok, ok, ok, ok, ok, ok)
		counted := call{host: "ignored.test", path: "/", from: "127.0.0.7"}
		expect(t, "127.0.0.7, counted", statuses(t, counted, a, b, a, b), ok, ok, ok, limited)
	})
	t.Run("window_resets", func(t *testing.T) {
		c := call{host: "second.test", path: "/", from: "127.0.0.8"}
		// Two a second: the third in the same second is limited. A
		// second may turn between the requests; then try again (bounded).
		harness.Eventually(t, 10*time.Second, "a third request within one second is limited", func() error {
			inOneWindow(t, time.Second)
			if got := statuses(t, c, a, b, a); fmt.Sprint(got) != fmt.Sprint([]int{ok, ok, limited}) {
				return fmt.Errorf("statuses %v", got)
			}
			return nil
		})
		harness.Eventually(t, 3*time.Second, "the next second admits the client again", func() error {
			if got := b.must(t, c).status; got != ok {
				return fmt.Errorf("status %d", got)
			}
			return nil
		})
	})
	for _, s := range []*stack{a, b} {
		expectNoRejection(t, s.envoy)
	}
	// Last: with the service gone, Envoy lets requests through, as
	// ingress-nginx does when memcached fails.
	t.Run("service_down_fails_open", func(t *testing.T) {
		c := call{host: "limited.test", path: "/", from: "127.0.0.2"}
		expect(t, "a limited client, service up", statuses(t, c, a), limited)
		rl.Stop(5 * time.Second)
		start := time.Now()
		expect(t, "the same client, service down", statuses(t, c, a, b, a, b), ok, ok, ok, ok)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("four requests took %v with the service down, want each within the 100 ms timeout", d)
		}
	})
}

// inOneWindow waits, when the current window of length w (aligned on the
// clock, as the rate limit service counts) ends within a tenth of it, for
// the next one to begin, so that a case's requests fall in one window.
func inOneWindow(t *testing.T, w time.Duration) {
	t.Helper()
	left := w - time.Duration(time.Now().UnixNano())%w
	if left < w/10+50*time.Millisecond {
		time.Sleep(left)
	}
}
