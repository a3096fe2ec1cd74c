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
	t.Run("rewrite_target_with_capture_groups", func(t *testing.T) {
		r := harness.ExpectRoute(t, port, "rewrite.local", "/something/new", http.StatusOK, "hello")
		if r.Echo.Path != "/new" {
			t.Errorf("rewrite.local/something/new reached the backend as %q, want /new", r.Echo.Path)
		}
	})
	t.Run("limit_rps_answers_503_after_the_burst", func(t *testing.T) {
		// The README's loop: 8 requests at once-ish; limit-rps 1 with the
		// default multiplier 5 lets 6 through.
		var codes []int
		for range 8 {
			r, err := harness.Get(port, "limited.local", "/")
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, r.Status)
		}
		if codes[0] != http.StatusOK || codes[7] != http.StatusServiceUnavailable {
			t.Errorf("8 requests to limited.local: %v, want 200s first and 503 at the end", codes)
		}
	})
	if _, err := rukou.Ops("/readyz"); err != nil {
		t.Errorf("rukou not ready while serving: %v", err)
	}
}
