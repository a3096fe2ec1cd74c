package bench

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkLimitConnections measures what limit-connections costs a
// request: one iteration sends one request through a real Envoy to a host
// with limit-connections (Envoy asks a `rukou limiter` beside it, as in the
// install) and one to a host without, to the same echo backend on
// 127.0.0.1, and reports the median and 99th percentile latency of each.
func BenchmarkLimitConnections(b *testing.B) {
	binaries(b)
	backend := harness.StartBackend(b, "echo")
	dir := b.TempDir()
	harness.WriteManifest(b, filepath.Join(dir, "bench.yaml"),
		harness.IngressYAML("limited", "limited.bench", "echo", map[string]string{"nginx.ingress.kubernetes.io/limit-connections": "100"})+"---\n"+
			harness.IngressYAML("plain", "plain.bench", "echo", nil)+"---\n"+
			harness.ServiceYAML("echo", backend))
	limiter := harness.Addr(b)
	lim := harness.Start(b, "limiter", exec.Command(filepath.Join(harness.Root(b), "bin", "rukou"), "limiter", "--address", limiter), 5*time.Second)
	rukou := harness.StartRukou(b, "--watch-dir", dir)
	harness.StartEnvoyWith(b, rukou.XDSAddress, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--limiter-address", limiter}})
	awaitServed(b, rukou.HTTPPort, lim, "limited.bench", "plain.bench")
	measureLatency(b, rukou.HTTPPort, map[string]string{"limited.bench": "limited", "plain.bench": "plain"}, "limited.bench", "plain.bench")
}
