package harness

import (
	"net"
	"net/http"
	"testing"

	"github.com/rukou/rukou/examples/backend/echo"
)

// StartBackend serves an echo backend named name on 127.0.0.1 until the test
// ends, and returns its port.
func StartBackend(t testing.TB, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: echo.Handler(name)}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}
