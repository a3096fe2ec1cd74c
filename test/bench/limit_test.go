package bench

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
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
	for _, host := range []string{"limited.bench", "plain.bench"} {
		harness.Eventually(b, 30*time.Second, host+" is served", func() error {
			if lim.Exited() {
				b.Fatalf("rukou limiter exited:\n%s", lim.Log())
			}
			r, err := harness.Get(rukou.HTTPPort, host, "/")
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("status %d", r.Status)
			}
			return err
		})
	}

	took := map[string][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for _, host := range []string{"limited.bench", "plain.bench"} {
			start := time.Now()
			r, err := harness.Get(rukou.HTTPPort, host, "/")
			if err != nil || r.Status != http.StatusOK {
				b.Fatalf("%s: %v %v", host, r.Status, err)
			}
			took[host] = append(took[host], time.Since(start))
		}
	}
	b.StopTimer()
	for host, name := range map[string]string{"limited.bench": "limited", "plain.bench": "plain"} {
		d := took[host]
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), name+"-p99-µs")
	}
}
