package bench

import (
	"net"
	"net/http"
	"testing"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// BenchmarkResponseRewrite measures what the Lua filter of the response
// rewriting annotations costs a request: one backend that answers with a
// Location and two Set-Cookie headers naming its internal host, behind
// two hosts, one without the annotations (the filter stays off) and one
// with proxy-redirect-from/-to, proxy-cookie-domain and proxy-cookie-path
// (every header rewritten). Each iteration sends one request to each.
func BenchmarkResponseRewrite(b *testing.B) {
	binaries(b)
	backend := internalBackend(b)
	rewrite := map[string]string{
		"nginx.ingress.kubernetes.io/proxy-redirect-from": "http://internal:8080/",
		"nginx.ingress.kubernetes.io/proxy-redirect-to":   "https://rewrite.bench/",
		"nginx.ingress.kubernetes.io/proxy-cookie-domain": "internal.local rewrite.bench",
		"nginx.ingress.kubernetes.io/proxy-cookie-path":   "/app/ /",
	}
	hosts := []string{"plain.bench", "rewrite.bench"}
	port := startWithLimiter(b,
		harness.IngressYAML("plain", "plain.bench", "echo", nil)+"---\n"+
			harness.IngressYAML("rewrite", "rewrite.bench", "echo", rewrite)+"---\n"+
			harness.ServiceYAML("echo", backend),
		hosts...)
	r, err := harness.Get(port, "rewrite.bench", "/")
	if err != nil || r.Header.Get("Location") != "https://rewrite.bench/app/x" {
		b.Fatalf("the rewrite does not apply: Location %q, %v", r.Header.Get("Location"), err)
	}
	measureLatency(b, port, map[string]string{"plain.bench": "plain", "rewrite.bench": "rewrite"}, hosts...)
}

// internalBackend serves the echo backend's answer with the headers of a
// backend that knows only its internal name, on 127.0.0.1 until the
// benchmark ends, and returns its port.
func internalBackend(b *testing.B) int {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	echoes := echo.Handler("echo")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://internal:8080/app/x")
		w.Header().Add("Set-Cookie", "session=1; Domain=.internal.local; Path=/app/cart; HttpOnly")
		w.Header().Add("Set-Cookie", "theme=dark; Path=/app/")
		echoes.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	b.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}
