package e2e

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// TestExamples serves the manifests of examples/ as `make run` does and sends
// the requests the README shows, so that the demo cannot silently break.
func TestExamples(t *testing.T) {
	// The example EndpointSlices point at these ports.
	for name, addr := range map[string]string{"hello": "127.0.0.1:9081", "api": "127.0.0.1:9082"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the example backend %s needs %s, which is busy (is `make run` running?): %v", name, addr, err)
		}
		srv := &http.Server{Handler: echo.Handler(name)}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	rukou := harness.StartRukou(t, "--watch-dir", filepath.Join(harness.Root(t), "examples"))
	harness.StartEnvoy(t, rukou.XDSAddress, "delta")
	port := rukou.HTTPPort

	for _, c := range []struct {
		name, host, path string
		status           int
		backend          string
	}{
		{"root_goes_to_hello", "hello.local", "/", http.StatusOK, "hello"},
		{"api_prefix_goes_to_api", "hello.local", "/api/users", http.StatusOK, "api"},
		{"api_itself_goes_to_api", "hello.local", "/api", http.StatusOK, "api"},
		{"prefix_is_element_wise", "hello.local", "/apiary", http.StatusOK, "hello"},
		{"unknown_host_is_404", "nowhere.local", "/", http.StatusNotFound, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			harness.ExpectRoute(t, port, c.host, c.path, c.status, c.backend)
		})
	}
	if _, err := rukou.Ops("/readyz"); err != nil {
		t.Errorf("rukou not ready while serving: %v", err)
	}
}
