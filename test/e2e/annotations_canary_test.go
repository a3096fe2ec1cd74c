package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAnnotationCanary: a canary Ingress (same host and path as its
// primary) takes the requests its header says, then those its cookie says,
// then its weight's share; it is not reported as a path conflict. The
// Ingresses are translator/testdata/in/e2e_canary.yaml.
func TestAnnotationCanary(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_canary.yaml", backend(t, "stable"), backend(t, "canary"))
	s.await(t, call{host: "canary.test", path: "/", header: headers("X-Canary", "always")}, http.StatusOK, "canary")

	for _, c := range []struct {
		name, host string
		header     []string
		want       string
	}{
		{"header_always_goes_to_canary", "canary.test", []string{"X-Canary", "always"}, "canary"},
		{"header_never_stays_on_primary_even_with_cookie", "canary.test", []string{"X-Canary", "never", "Cookie", "use_canary=always"}, "stable"},
		{"header_always_wins_over_cookie_never", "canary.test", []string{"X-Canary", "always", "Cookie", "use_canary=never"}, "canary"},
		{"other_header_value_falls_to_cookie", "canary.test", []string{"X-Canary", "maybe", "Cookie", "use_canary=always"}, "canary"},
		{"cookie_always_goes_to_canary", "canary.test", []string{"Cookie", "theme=dark; use_canary=always; lang=en"}, "canary"},
		{"cookie_never_stays_on_primary", "canary.test", []string{"Cookie", "use_canary=never"}, "stable"},
		{"header_value_goes_to_canary", "value.test", []string{"X-Version", "v2"}, "canary"},
		{"other_value_stays_on_primary", "value.test", []string{"X-Version", "v1"}, "stable"},
		{"always_means_nothing_with_a_header_value", "value.test", []string{"X-Version", "always"}, "stable"},
		{"header_pattern_goes_to_canary", "pattern.test", []string{"X-Group", "gamma-7"}, "canary"},
		{"header_not_matching_pattern_stays", "pattern.test", []string{"X-Group", "alpha-7"}, "stable"},
		{"invalid_pattern_keeps_header_on_primary_despite_cookie", "badpattern.test", []string{"X-Group", "DoCanary", "Cookie", "use_canary=always"}, "stable"},
		{"invalid_pattern_without_header_falls_to_cookie", "badpattern.test", []string{"Cookie", "use_canary=always"}, "canary"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for range 5 {
				r := s.must(t, call{host: c.host, path: "/", header: headers(c.header...)})
				if r.backend != c.want {
					t.Fatalf("%s with %v: answered by %q (%d), want %q", c.host, c.header, r.backend, r.status, c.want)
				}
			}
		})
	}
	share := func(host string, n int) float64 {
		canaries := 0
		for range n {
			if s.must(t, call{host: host, path: "/"}).backend == "canary" {
				canaries++
			}
		}
		return float64(canaries) / float64(n)
	}
	t.Run("weight_sends_its_share", func(t *testing.T) {
		if got := share("canary.test", 300); got < 0.2 || got > 0.4 {
			t.Errorf("canary-weight 30: %.0f%% of requests went to the canary, want about 30%%", got*100)
		}
	})
	t.Run("weight_total_changes_the_share", func(t *testing.T) {
		if got := share("half.test", 300); got < 0.4 || got > 0.6 {
			t.Errorf("canary-weight 1 of 2: %.0f%% of requests went to the canary, want about 50%%", got*100)
		}
	})
	t.Run("canary_without_primary_is_reported_not_served", func(t *testing.T) {
		waitDiagnostic(t, s, "default/orphan", "CanaryUnused", "orphan.test")
		s.await(t, call{host: "orphan.test", path: "/"}, http.StatusNotFound, "")
	})
	t.Run("canary_is_no_path_conflict", func(t *testing.T) {
		body, err := s.rukou.Debug("/debug/config")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, "PathConflict") {
			t.Errorf("a canary was reported as a path conflict:\n%s", body)
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationAffinity: with affinity: cookie, Envoy sets the session
// cookie (INGRESSCOOKIE unless session-cookie-name says otherwise) on a
// first request, and a client that sends it back stays on one endpoint;
// without affinity the same Service spreads requests over its endpoints.
// The Ingresses are translator/testdata/in/e2e_affinity.yaml.
func TestAnnotationAffinity(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_affinity.yaml", serviceWith("pool", endpoint(harnessBackend(t, "pool-a"), true, nil), endpoint(harnessBackend(t, "pool-b"), true, nil)))
	r := s.await(t, call{host: "sticky.test", path: "/app/start"}, http.StatusOK, "")
	cookie := r.header.Get("Set-Cookie")
	name, rest, _ := strings.Cut(cookie, "=")
	if name != "route" || !strings.Contains(rest, "Max-Age=3600") || !strings.Contains(rest, "Path=/app") {
		t.Fatalf("Set-Cookie = %q, want the cookie route with Max-Age=3600 and Path=/app", cookie)
	}
	// session-cookie-max-age alone: no Expires, as ingress-nginx's.
	checkExpires(t, r, "route", time.Time{}, 0)
	value := strings.SplitN(rest, ";", 2)[0]
	first := r.backend
	for range 30 {
		got := s.must(t, call{host: "sticky.test", path: "/app/next", header: headers("Cookie", "route="+value)}).backend
		if got != first {
			t.Fatalf("with the session cookie a request went to %q after %q", got, first)
		}
	}
	t.Run("default_cookie_name_is_INGRESSCOOKIE", func(t *testing.T) {
		r := s.await(t, call{host: "session.test", path: "/"}, http.StatusOK, "")
		if c := r.header.Get("Set-Cookie"); !strings.HasPrefix(c, "INGRESSCOOKIE=") || strings.Contains(c, "Max-Age") {
			t.Errorf("Set-Cookie = %q, want a session cookie INGRESSCOOKIE", c)
		}
		checkExpires(t, r, "INGRESSCOOKIE", time.Time{}, 0)
	})
	t.Run("expires_and_path_annotations", func(t *testing.T) {
		s.await(t, call{host: "expires.test", path: "/"}, http.StatusOK, "")
		sent := time.Now()
		r := s.must(t, call{host: "expires.test", path: "/"})
		if c := r.header.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=120") || !strings.Contains(c, "Path=/shop") {
			t.Errorf("Set-Cookie = %q, want Max-Age=120 (from session-cookie-expires) and Path=/shop", c)
		}
		checkExpires(t, r, "INGRESSCOOKIE", sent, 120)
	})
	t.Run("persistent_sessions_cookie_gets_expires_too", func(t *testing.T) {
		// Envoy's stateful session sets this cookie, after the route's
		// other filters have seen the response.
		s.await(t, call{host: "persistent.test", path: "/"}, http.StatusOK, "")
		sent := time.Now()
		r := s.must(t, call{host: "persistent.test", path: "/"})
		if c := r.header.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=300") {
			t.Errorf("Set-Cookie = %q, want Max-Age=300 (from session-cookie-expires)", c)
		}
		checkExpires(t, r, "pin", sent, 300)
	})
	t.Run("without_affinity_requests_spread", func(t *testing.T) {
		seen := map[string]int{}
		for range 20 {
			seen[s.must(t, call{host: "spread.test", path: "/"}).backend]++
		}
		if seen["pool-a"] == 0 || seen["pool-b"] == 0 {
			t.Errorf("requests without affinity: %v, want both endpoints", seen)
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationAffinityCookieAndCanary: the session cookie carries the
// Domain, SameSite, Secure and Partitioned that the annotations ask for; with a canary,
// the cookie keeps a client on the side that issued it (sticky, the
// default), while under affinity-canary-behavior: legacy only the primary
// issues it and a request without it is weighed again. The Ingresses are
// translator/testdata/in/e2e_affinity_canary.yaml.
func TestAnnotationAffinityCookieAndCanary(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_affinity_canary.yaml", backend(t, "stable"), backend(t, "canary"))

	t.Run("cookie_has_the_attributes_asked_for", func(t *testing.T) {
		c := s.await(t, call{host: "attrs.test", path: "/"}, http.StatusOK, "stable").header.Get("Set-Cookie")
		for _, want := range []string{"Domain=attrs.test", "SameSite=Lax", "Secure", "Partitioned", "HttpOnly"} {
			if !strings.Contains(c, want) {
				t.Errorf("Set-Cookie = %q, want %s in it", c, want)
			}
		}
	})
	// sides sends n requests with the cookie side=value and counts who
	// answered.
	sides := func(host, value string, n int) map[string]int {
		seen := map[string]int{}
		for range n {
			seen[s.must(t, call{host: host, path: "/", header: headers("Cookie", "side="+value)}).backend]++
		}
		return seen
	}
	s.await(t, call{host: "sticky.test", path: "/", header: headers("Cookie", "side=probe")}, http.StatusOK, "")
	t.Run("sticky_canary_keeps_each_client_on_one_side", func(t *testing.T) {
		// Each new client takes the cookie of its first answer; a value
		// that no side issued is weighed again, as in ingress-nginx.
		total := map[string]int{}
		for i := range 12 {
			r := s.must(t, call{host: "sticky.test", path: "/"})
			value := sessionCookie(r, "side")
			if value == "" {
				t.Fatalf("client-%d: Set-Cookie = %q, want the session cookie side", i, r.header.Values("Set-Cookie"))
			}
			if seen := sides("sticky.test", value, 10); len(seen) != 1 || seen[r.backend] != 10 {
				t.Errorf("client-%d, first answered by %s, with its cookie was answered by %v, want that side only", i, r.backend, seen)
			}
			total[r.backend]++
		}
		if total["stable"] == 0 || total["canary"] == 0 {
			t.Errorf("12 clients landed on %v; with canary-weight 50 both sides should get some", total)
		}
	})
	t.Run("legacy_chooses_the_canary_per_request", func(t *testing.T) {
		s.await(t, call{host: "legacy.test", path: "/", header: headers("Cookie", "side=probe")}, http.StatusOK, "")
		if seen := sides("legacy.test", "one-client", 40); seen["stable"] == 0 || seen["canary"] == 0 {
			t.Errorf("one client's cookie was answered by %v; legacy picks by weight each time, so both sides should answer", seen)
		}
		// Only the primary issues the cookie, which keeps its client there,
		// as ingress-nginx copies no affinity to a legacy canary.
		for range 20 {
			r := s.must(t, call{host: "legacy.test", path: "/"})
			value := sessionCookie(r, "side")
			if r.backend == "canary" && value != "" {
				t.Fatalf("legacy: the canary set the cookie side=%s", value)
			}
			if r.backend == "stable" {
				if seen := sides("legacy.test", value, 10); seen["stable"] != 10 {
					t.Errorf("legacy: the primary's cookie side=%s was answered by %v, want the primary only", value, seen)
				}
				return
			}
		}
		t.Errorf("legacy: 20 new clients, none answered by the primary")
	})
	expectNoRejection(t, s.envoy)
}
