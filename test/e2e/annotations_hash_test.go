package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAnnotationUpstreamHashBy: upstream-hash-by keeps the requests whose
// named parts are equal on one endpoint, and different parts spread over
// the endpoints; a variable rukou cannot hash is reported and round robin
// applies. The Ingresses are translator/testdata/in/e2e_hash.yaml.
func TestAnnotationUpstreamHashBy(t *testing.T) {
	s := startStack(t, "delta")
	var eps []ep
	for _, name := range []string{"pool-a", "pool-b", "pool-c", "pool-d"} {
		eps = append(eps, endpoint(harnessBackend(t, name), true, nil))
	}
	s.applyCase(t, "e2e_hash.yaml", serviceWith("pool", eps...))
	s.await(t, call{host: "uri.test", path: "/probe"}, http.StatusOK, "")

	// answeredBy sends n requests like c and counts who answered.
	answeredBy := func(c call, n int) map[string]int {
		seen := map[string]int{}
		for range n {
			seen[s.must(t, c).backend]++
		}
		return seen
	}
	sticks := func(t *testing.T, what string, c call) string {
		t.Helper()
		seen := answeredBy(c, 12)
		if len(seen) != 1 {
			t.Fatalf("%s: 12 equal requests were answered by %v, want one endpoint", what, seen)
		}
		for k := range seen {
			return k
		}
		return ""
	}
	// spreads checks that requests differing in the hashed part reach
	// more than one endpoint: 16 keys on one of four endpoints by chance
	// is 4^-15.
	spreads := func(t *testing.T, what string, vary func(i int) call) {
		t.Helper()
		seen := map[string]int{}
		for i := range 16 {
			seen[s.must(t, vary(i)).backend]++
		}
		if len(seen) < 2 {
			t.Errorf("%s: 16 different keys all went to %v, want them spread", what, seen)
		}
	}
	t.Run("request_uri_sticks_and_spreads", func(t *testing.T) {
		sticks(t, "/cart?id=7", call{host: "uri.test", path: "/cart?id=7"})
		spreads(t, "request URIs", func(i int) call { return call{host: "uri.test", path: fmt.Sprintf("/item/%d", i)} })
	})
	t.Run("combination_sticks_and_spreads", func(t *testing.T) {
		sticks(t, "x-user alice, x=1", call{host: "combo.test", path: "/?x=1", header: headers("X-User", "alice")})
		spreads(t, "x-user values", func(i int) call {
			return call{host: "combo.test", path: "/?x=1", header: headers("X-User", fmt.Sprintf("user-%d", i))}
		})
		spreads(t, "x values", func(i int) call {
			return call{host: "combo.test", path: fmt.Sprintf("/?x=%d", i), header: headers("X-User", "alice")}
		})
	})
	t.Run("cookie_sticks_and_spreads", func(t *testing.T) {
		sticks(t, "session=abc", call{host: "cookie.test", path: "/a", header: headers("Cookie", "session=abc")})
		spreads(t, "session cookies", func(i int) call {
			return call{host: "cookie.test", path: "/a", header: headers("Cookie", fmt.Sprintf("session=s%d", i))}
		})
	})
	t.Run("unknown_variable_is_reported_and_round_robin", func(t *testing.T) {
		waitDiagnostic(t, s, "default/unknown", "InvalidAnnotation", "$uri")
		if seen := answeredBy(call{host: "unknown.test", path: "/same"}, 16); len(seen) < 2 {
			t.Errorf("one URI with round robin went to %v, want several endpoints", seen)
		}
	})
	t.Run("subset_keeps_a_key_on_one_endpoint_and_is_reported", func(t *testing.T) {
		// ingress-nginx's upstreamhashby.go sees three endpoints answer one
		// URI with a subset of 3; Envoy's ring hash has no subsets.
		waitDiagnostic(t, s, "default/subset", "AnnotationIgnored", "subset of 3")
		sticks(t, "/same with a subset", call{host: "subset.test", path: "/same"})
		spreads(t, "request URIs with a subset", func(i int) call { return call{host: "subset.test", path: fmt.Sprintf("/item/%d", i)} })
	})
	t.Run("affinity_wins_over_hash", func(t *testing.T) {
		r := s.must(t, call{host: "sticky.test", path: "/"})
		if r.header.Get("Set-Cookie") == "" {
			t.Errorf("affinity with upstream-hash-by set no session cookie")
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationAffinityPersistent: with affinity-mode: persistent the
// session cookie names its endpoint, and a client keeps that endpoint
// when more endpoints join the Service (a ring hash would move some
// sessions). The Ingress is persistent.test in
// translator/testdata/in/e2e_affinity.yaml.
func TestAnnotationAffinityPersistent(t *testing.T) {
	s := startStack(t, "delta")
	a, b := endpoint(harnessBackend(t, "pool-a"), true, nil), endpoint(harnessBackend(t, "pool-b"), true, nil)
	s.applyCase(t, "e2e_affinity.yaml", serviceWith("pool", a, b))
	// Eight clients, each with the cookie of its first answer.
	type client struct{ cookie, backend string }
	var clients []client
	for range 8 {
		r := s.await(t, call{host: "persistent.test", path: "/"}, http.StatusOK, "")
		name, rest, _ := strings.Cut(r.header.Get("Set-Cookie"), "=")
		if name != "pin" {
			t.Fatalf("Set-Cookie = %q, want the cookie pin", r.header.Get("Set-Cookie"))
		}
		clients = append(clients, client{"pin=" + strings.SplitN(rest, ";", 2)[0], r.backend})
	}
	check := func(when string) {
		t.Helper()
		for i, c := range clients {
			for range 5 {
				if got := s.must(t, call{host: "persistent.test", path: "/", header: headers("Cookie", c.cookie)}).backend; got != c.backend {
					t.Fatalf("%s: client %d with its cookie went to %q, was on %q", when, i, got, c.backend)
				}
			}
		}
	}
	check("before endpoints join")
	more := []ep{a, b}
	for _, name := range []string{"pool-c", "pool-d", "pool-e", "pool-f"} {
		more = append(more, endpoint(harnessBackend(t, name), true, nil))
	}
	s.applyCase(t, "e2e_affinity.yaml", serviceWith("pool", more...))
	s.await(t, call{host: "persistent.test", path: "/"}, http.StatusOK, "pool-c")
	check("after four endpoints joined")
	expectNoRejection(t, s.envoy)
}
