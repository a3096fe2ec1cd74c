package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// sessionCookie is the value of the cookie name that a reply sets, or ""
// when it sets none.
func sessionCookie(r reply, name string) string {
	for _, c := range r.header.Values("Set-Cookie") {
		if n, rest, _ := strings.Cut(c, "="); n == name {
			return strings.SplitN(rest, ";", 2)[0]
		}
	}
	return ""
}

// checkExpires fails unless the Set-Cookie of the cookie name in r has one
// Expires attribute, an HTTP date (IMF-fixdate, as nginx writes it) within
// a few seconds of sent plus seconds; with seconds 0, unless it has none.
func checkExpires(t *testing.T, r reply, name string, sent time.Time, seconds int) {
	t.Helper()
	for _, c := range r.header.Values("Set-Cookie") {
		if n, _, _ := strings.Cut(c, "="); n != name {
			continue
		}
		var dates []string
		for _, attr := range strings.Split(c, ";")[1:] {
			if k, v, _ := strings.Cut(strings.TrimSpace(attr), "="); strings.EqualFold(k, "expires") {
				dates = append(dates, v)
			}
		}
		if seconds == 0 {
			if len(dates) != 0 {
				t.Errorf("Set-Cookie %q has Expires, want none", c)
			}
			return
		}
		if len(dates) != 1 {
			t.Errorf("Set-Cookie %q has %d Expires attributes, want one", c, len(dates))
			return
		}
		at, err := time.Parse(http.TimeFormat, dates[0])
		if err != nil {
			t.Errorf("Set-Cookie %q: Expires is not an HTTP date: %v", c, err)
			return
		}
		// The script counts whole seconds: the date may be up to one
		// second before sent plus seconds.
		if want := sent.Add(time.Duration(seconds) * time.Second); at.Before(want.Add(-2*time.Second)) || at.After(want.Add(5*time.Second)) {
			t.Errorf("Set-Cookie %q: Expires %s, want about %s (%d s after the request)", c, at, want.UTC().Format(http.TimeFormat), seconds)
		}
		return
	}
	t.Errorf("Set-Cookie %q, want the cookie %s", r.header.Values("Set-Cookie"), name)
}

// TestAnnotationAffinityStickyCanary follows ingress-nginx's canary.go
// "always routes traffic to canary if first request was affinitized to
// canary": with affinity on the primary, the session cookie keeps a client
// on the side (and the endpoint) that answered it first, whatever the
// canary's weight, and a cookie of the primary's keeps the client there
// even with the canary's header. The Ingresses are
// translator/testdata/in/e2e_affinity_sticky.yaml.
func TestAnnotationAffinityStickyCanary(t *testing.T) {
	s := startStack(t, "delta")
	pool := func(name string) []ep {
		return []ep{endpoint(harnessBackend(t, name+"-a"), true, nil), endpoint(harnessBackend(t, name+"-b"), true, nil)}
	}
	s.applyCase(t, "e2e_affinity_sticky.yaml", serviceWith("stable", pool("stable")...), serviceWith("canary", pool("canary")...))
	force := headers("ForceCanary", "yes")
	s.await(t, call{host: "force.test", path: "/info", header: force}, http.StatusOK, "")
	// The Expires attribute comes from the Lua filter, which the listener
	// gains with the first route that asks for it: the routes can reach
	// Envoy a moment before the listener that carries it is warm.
	harness.Eventually(t, 15*time.Second, "half.test's session cookie has Expires", func() error {
		r, err := s.do(call{host: "half.test", path: "/info"})
		if err != nil {
			return err
		}
		if c := r.header.Get("Set-Cookie"); !strings.Contains(strings.ToLower(c), "expires=") {
			return fmt.Errorf("Set-Cookie %q", c)
		}
		return nil
	})
	// follow sends n requests with the cookie aff=value (and header h) and
	// fails unless want answered every one.
	follow := func(host, value, want string, h http.Header, n int) {
		t.Helper()
		for i := range n {
			c := call{host: host, path: "/info", header: h.Clone()}
			if c.header == nil {
				c.header = http.Header{}
			}
			c.header.Set("Cookie", "aff="+value)
			r := s.must(t, c)
			if r.backend != want {
				t.Fatalf("follow-up %d with cookie aff=%s went to %q, want %q (who answered first)", i, value, r.backend, want)
			}
			if got := sessionCookie(r, "aff"); got != "" {
				t.Fatalf("follow-up %d with its cookie got a new one, aff=%s", i, got)
			}
		}
	}
	t.Run("cookie_from_forced_canary_keeps_the_canary", func(t *testing.T) {
		r := s.must(t, call{host: "force.test", path: "/info", header: force})
		value := sessionCookie(r, "aff")
		if !strings.HasPrefix(r.backend, "canary-") || value == "" {
			t.Fatalf("forced request: answered by %q with cookie aff=%q, want a canary endpoint and the session cookie", r.backend, value)
		}
		follow("force.test", value, r.backend, nil, 50)
	})
	t.Run("primary_cookie_wins_over_the_canary_header", func(t *testing.T) {
		var r reply
		for range 20 { // weight 1: the primary answers almost always
			if r = s.must(t, call{host: "force.test", path: "/info"}); strings.HasPrefix(r.backend, "stable-") {
				break
			}
		}
		value := sessionCookie(r, "aff")
		if !strings.HasPrefix(r.backend, "stable-") || value == "" {
			t.Fatalf("first request: answered by %q with cookie aff=%q, want the primary and the session cookie", r.backend, value)
		}
		follow("force.test", value, r.backend, force, 20)
	})
	t.Run("each_client_keeps_the_side_of_its_first_answer", func(t *testing.T) {
		sides := map[string]int{}
		for i := range 16 {
			sent := time.Now()
			r := s.must(t, call{host: "half.test", path: "/info"})
			value := sessionCookie(r, "aff")
			if value == "" || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=600") {
				t.Fatalf("client %d: Set-Cookie %q, want the cookie aff with Max-Age=600", i, r.header.Values("Set-Cookie"))
			}
			// The cookie rukou issues: Max-Age from max-age, Expires
			// from expires, as ingress-nginx's.
			checkExpires(t, r, "aff", sent, 900)
			follow("half.test", value, r.backend, nil, 5)
			sides[strings.SplitN(r.backend, "-", 2)[0]]++
		}
		if sides["stable"] == 0 || sides["canary"] == 0 {
			t.Errorf("16 new clients went to %v; with canary-weight 50 both sides should get some", sides)
		}
	})
	t.Run("the_backend_sees_the_new_cookie_beside_the_clients_own", func(t *testing.T) {
		r := s.must(t, call{host: "half.test", path: "/info", header: headers("Cookie", "a=1")})
		value := sessionCookie(r, "aff")
		if got := r.echo.Headers["Cookie"]; len(got) != 1 || !strings.Contains(got[0], "aff="+value) || !strings.Contains(got[0], "a=1") {
			t.Errorf("the backend saw Cookie %q, want one header with a=1 and aff=%s", got, value)
		}
	})
	t.Run("a_first_POST_gets_the_cookie_too", func(t *testing.T) {
		// POST has a route of its own (its retries differ): it issues
		// the cookie alike.
		r := s.must(t, call{method: http.MethodPost, host: "half.test", path: "/info"})
		value := sessionCookie(r, "aff")
		if value == "" {
			t.Fatalf("POST: Set-Cookie %q, want the cookie aff", r.header.Values("Set-Cookie"))
		}
		follow("half.test", value, r.backend, nil, 5)
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationAffinityChangeOnFailure: when the session's endpoint stops
// answering (still listed), the retry reaches the other endpoint; with
// session-cookie-change-on-failure: "true" the response sets the cookie
// for it, and the client stays there; with "false" the cookie is kept.
// The Ingresses are translator/testdata/in/e2e_affinity_failure.yaml.
func TestAnnotationAffinityChangeOnFailure(t *testing.T) {
	s := startStack(t, "delta")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	doomed := &http.Server{Handler: echo.Handler("pool-doomed")}
	go func() { _ = doomed.Serve(l) }()
	t.Cleanup(func() { _ = doomed.Close() })
	live := endpoint(harnessBackend(t, "pool-live"), true, nil)
	s.applyCase(t, "e2e_affinity_failure.yaml", serviceWith("pool", live, endpoint(l.Addr().(*net.TCPAddr).Port, true, nil)))
	// pinned is the session cookie of a new client that the doomed
	// endpoint answered (new clients spread over both).
	pinned := func(host string) string {
		t.Helper()
		s.await(t, call{host: host, path: "/"}, http.StatusOK, "")
		for range 40 {
			if r := s.must(t, call{host: host, path: "/"}); r.backend == "pool-doomed" && sessionCookie(r, "aff") != "" {
				return sessionCookie(r, "aff")
			}
		}
		t.Fatalf("%s: 40 new clients, none answered by pool-doomed with a session cookie", host)
		return ""
	}
	change, keep := pinned("change.test"), pinned("keep.test")
	_ = doomed.Close() // connections to it are refused from now on
	withCookie := func(host, value string) reply {
		return s.must(t, call{host: host, path: "/", header: headers("Cookie", "aff="+value)})
	}
	t.Run("true_sets_the_cookie_for_the_endpoint_that_answered", func(t *testing.T) {
		r := withCookie("change.test", change)
		moved := sessionCookie(r, "aff")
		if r.status != http.StatusOK || r.backend != "pool-live" || moved == "" || moved == change {
			t.Fatalf("after its endpoint failed: status %d from %q, Set-Cookie %q; want 200 from pool-live with a new cookie", r.status, r.backend, r.header.Values("Set-Cookie"))
		}
		for range 10 {
			if r := withCookie("change.test", moved); r.backend != "pool-live" || sessionCookie(r, "aff") != "" {
				t.Fatalf("with the new cookie: answered by %q, Set-Cookie %q; want pool-live and no new cookie", r.backend, r.header.Values("Set-Cookie"))
			}
		}
	})
	t.Run("false_keeps_the_cookie", func(t *testing.T) {
		for range 10 {
			r := withCookie("keep.test", keep)
			if r.status != http.StatusOK || r.backend != "pool-live" || sessionCookie(r, "aff") != "" {
				t.Fatalf("after its endpoint failed: status %d from %q, Set-Cookie %q; want 200 from pool-live and the cookie kept", r.status, r.backend, r.header.Values("Set-Cookie"))
			}
		}
	})
	expectNoRejection(t, s.envoy)
}
