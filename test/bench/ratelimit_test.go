package bench

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkGlobalRateLimit measures what global-rate-limit costs a
// request: one iteration sends one request through a real Envoy to each of
// two hosts of the same echo backend on 127.0.0.1, without a limit and with
// a global limit too high to reach, so that every request is counted: Envoy
// asks a real envoyproxy/ratelimit over gRPC, which counts in a real Redis.
func BenchmarkGlobalRateLimit(b *testing.B) {
	binaries(b)
	rl := harness.StartRateLimit(b)
	backend := harness.StartBackend(b, "echo")
	dir := b.TempDir()
	harness.WriteManifest(b, filepath.Join(dir, "bench.yaml"),
		harness.IngressYAML("plain", "plain.bench", "echo", nil)+"---\n"+
			harness.IngressYAML("global", "global.bench", "echo", map[string]string{
				"nginx.ingress.kubernetes.io/global-rate-limit":        "1000000000",
				"nginx.ingress.kubernetes.io/global-rate-limit-window": "1s",
			})+"---\n"+
			harness.ServiceYAML("echo", backend))
	rukou := harness.StartRukou(b, "--watch-dir", dir, "--log-level", "info",
		"--global-rate-limit-service", rl.GRPCAddress, "--global-rate-limit-config-dir", rl.ConfigDir)
	harness.StartEnvoyWith(b, rukou.XDSAddress, harness.EnvoyOptions{Mode: "delta"})
	rl.AwaitConfig(b, "global:1000000000/second")
	hosts := []string{"plain.bench", "global.bench"}
	for _, host := range hosts {
		harness.Eventually(b, 30*time.Second, host+" answers 200", func() error {
			r, err := harness.Get(rukou.HTTPPort, host, "/")
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("status %d", r.Status)
			}
			return err
		})
	}
	measureLatency(b, rukou.HTTPPort, map[string]string{"plain.bench": "plain", "global.bench": "global-rate-limit"}, hosts...)
}
