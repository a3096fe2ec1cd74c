package bench

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkHashing measures what choosing the endpoint by a hash costs a
// request: one Service of three echo backends on 127.0.0.1 behind three
// hosts, roundrobin.bench (no annotation), hash.bench (upstream-hash-by
// $request_uri, Envoy's ring hash) and cookie.bench (affinity cookie: the
// client sends the cookie its first answer set, as a browser would). Each
// iteration sends one request to each host; the hashed hosts must keep
// answering from one backend, round robin must spread.
func BenchmarkHashing(b *testing.B) {
	binaries(b)
	var ports []int
	for _, name := range []string{"pool-a", "pool-b", "pool-c"} {
		ports = append(ports, harness.StartBackend(b, name))
	}
	hosts := []string{"roundrobin.bench", "hash.bench", "cookie.bench"}
	port, _ := startStack(b,
		harness.IngressYAML("roundrobin", "roundrobin.bench", "pool", nil)+"---\n"+
			harness.IngressYAML("hash", "hash.bench", "pool", map[string]string{"nginx.ingress.kubernetes.io/upstream-hash-by": "$request_uri"})+"---\n"+
			harness.IngressYAML("cookie", "cookie.bench", "pool", map[string]string{"nginx.ingress.kubernetes.io/affinity": "cookie"})+"---\n"+
			harness.ServiceYAML("pool", ports...),
		nil, hosts...)
	session := http.Header{"Cookie": {firstCookie(b, port, "cookie.bench")}}
	seen := map[string]map[string]int{}
	for _, host := range hosts {
		seen[host] = map[string]int{}
	}
	get := func(host string) (harness.Response, error) {
		var h http.Header
		if host == "cookie.bench" {
			h = session
		}
		r, err := harness.GetWith(port, host, "/", h)
		seen[host][r.Backend]++
		return r, err
	}
	measureLatencyWith(b, map[string]string{"roundrobin.bench": "roundrobin", "hash.bench": "hash", "cookie.bench": "cookie"}, get, hosts...)
	for _, host := range hosts[1:] {
		if len(seen[host]) != 1 {
			b.Errorf("%s: one key was answered by %v, want one backend", host, seen[host])
		}
	}
	// The benchmark's first run has b.N 1: one request cannot spread.
	if b.N > 1 && len(seen["roundrobin.bench"]) < 2 {
		b.Errorf("roundrobin.bench was answered by %v, want the requests spread", seen["roundrobin.bench"])
	}
}

// firstCookie is the name=value of the cookie that host's first answer
// sets, for the requests after it.
func firstCookie(b *testing.B, port int, host string) string {
	b.Helper()
	r, err := harness.Get(port, host, "/")
	if err != nil || r.Status != http.StatusOK {
		b.Fatalf("%s: %d %v", host, r.Status, err)
	}
	c := r.Header.Get("Set-Cookie")
	if c == "" {
		b.Fatalf("%s set no cookie: %v", host, r.Header)
	}
	pair, _, _ := strings.Cut(c, ";")
	return pair
}
