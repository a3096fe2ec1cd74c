package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// manifest is an Ingress "web" for host and path "/" with its Service and
// an EndpointSlice on 127.0.0.1:port (file mode allows loopback endpoints).
func manifest(host, service string, port int) string {
	return harness.IngressYAML("web", host, service, nil) + "---\n" + harness.ServiceYAML(service, port)
}

func writeManifest(t *testing.T, path, content string) { harness.WriteManifest(t, path, content) }

// TestFileMode follows one manifest file through its life: served, edited to
// point elsewhere, broken by a bad save, and removed.
func TestFileMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			blue := harness.StartBackend(t, "blue")
			green := harness.StartBackend(t, "green")
			dir := t.TempDir()
			file := filepath.Join(dir, "web.yaml")
			writeManifest(t, file, manifest("web.example", "blue", blue))

			rukou := harness.StartRukou(t, "--watch-dir", dir)
			envoy := harness.StartEnvoy(t, rukou.XDSAddress, mode)
			port := rukou.HTTPPort

			harness.ExpectRoute(t, port, "web.example", "/", http.StatusOK, "blue")
			r := harness.ExpectRoute(t, port, "Web.Example:8080", "/some/page?q=1", http.StatusOK, "blue")
			if r.Echo.Path != "/some/page" || r.Echo.RawQuery != "q=1" || r.Echo.Host != "Web.Example:8080" {
				t.Errorf("request reached the backend changed: path %q query %q host %q", r.Echo.Path, r.Echo.RawQuery, r.Echo.Host)
			}
			harness.ExpectRoute(t, port, "other.example", "/", http.StatusNotFound, "")

			t.Log("editing the file reroutes the request")
			writeManifest(t, file, manifest("web.example", "green", green))
			start := time.Now()
			harness.ExpectRoute(t, port, "web.example", "/", http.StatusOK, "green")
			t.Logf("edit served after %v", time.Since(start).Round(time.Millisecond))

			t.Log("a malformed save is reported with file and line, and the last good routes keep serving")
			good := manifest("web.example", "green", green)
			writeManifest(t, file, good+"---\nkind: [unclosed\n")
			badLine := fmt.Sprintf("web.yaml:%d:", strings.Count(good, "\n")+2)
			harness.Eventually(t, 5*time.Second, "manifest error on /debug/config", func() error {
				body, err := rukou.Debug("/debug/config")
				if err != nil {
					return err
				}
				if !strings.Contains(body, badLine) {
					return fmt.Errorf("no manifest error %q in /debug/config", badLine)
				}
				return nil
			})
			if !strings.Contains(rukou.Log(), badLine) {
				t.Errorf("rukou's log does not name the file and the bad line %q:\n%s", badLine, rukou.Log())
			}
			harness.ExpectRoute(t, port, "web.example", "/", http.StatusOK, "green")

			t.Log("removing the file removes its routes")
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			harness.ExpectRoute(t, port, "web.example", "/", http.StatusNotFound, "")

			expectNoRejection(t, envoy)
		})
	}
}
