package bench

import (
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkExternalAuth measures what auth-url costs a request: one
// iteration sends one request through a real Envoy to each of four hosts
// of the same echo backend on 127.0.0.1: without authentication, with
// auth-url (a new connection to the auth service per request, as nginx
// without auth-keepalive), with auth-keepalive, and with an auth cache
// that holds the answer. The auth service is trivial (200 at once), so
// what is measured is rukou's path: Envoy's ext_authz to a `rukou limiter`
// beside it (as in the install), and the limiter's auth request.
func BenchmarkExternalAuth(b *testing.B) {
	binaries(b)
	backend := harness.StartBackend(b, "echo")
	authURL := trivialAuth(b)
	ingress := func(name string, more ...string) string {
		ann := map[string]string{"nginx.ingress.kubernetes.io/auth-url": authURL}
		for i := 0; i+1 < len(more); i += 2 {
			ann["nginx.ingress.kubernetes.io/"+more[i]] = more[i+1]
		}
		return harness.IngressYAML(name, name+".bench", "echo", ann) + "---\n"
	}
	hosts := []string{"plain.bench", "auth.bench", "keepalive.bench", "cached.bench"}
	port := startWithLimiter(b,
		ingress("auth")+ingress("keepalive", "auth-keepalive", "16")+
			ingress("cached", "auth-cache-key", "$host", "auth-cache-duration", "200 10m")+
			harness.IngressYAML("plain", "plain.bench", "echo", nil)+"---\n"+
			harness.ServiceYAML("echo", backend),
		hosts...)
	measureLatency(b, port, map[string]string{
		"plain.bench": "plain", "auth.bench": "auth", "keepalive.bench": "auth-keepalive", "cached.bench": "auth-cached",
	}, hosts...)
}

// trivialAuth serves 200 to every auth request on 127.0.0.1 until the
// benchmark ends, and returns its URL.
func trivialAuth(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})}
	go func() { _ = srv.Serve(l) }()
	b.Cleanup(func() { _ = srv.Close() })
	return fmt.Sprintf("http://%s/check", l.Addr())
}
