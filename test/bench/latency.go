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

// awaitServed waits until every host answers 200 through Envoy's HTTP
// port, failing at once when the helper process beside it has exited.
func awaitServed(b *testing.B, port int, helper *harness.Process, hosts ...string) {
	b.Helper()
	for _, host := range hosts {
		harness.Eventually(b, 30*time.Second, host+" is served", func() error {
			if helper.Exited() {
				b.Fatalf("rukou limiter exited:\n%s", helper.Log())
			}
			r, err := harness.Get(port, host, "/")
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("status %d", r.Status)
			}
			return err
		})
	}
}

// measureLatency sends, b.N times, one request to each host in turn
// (keep-alive, one client), and reports the median and 99th percentile
// latency of each under its name.
func measureLatency(b *testing.B, port int, names map[string]string, hosts ...string) {
	b.Helper()
	measureLatencyWith(b, names, func(host string) (harness.Response, error) { return harness.Get(port, host, "/") }, hosts...)
}

// measureLatencyWith is measureLatency with the requests sent by get, which
// may add headers and check the answer: an error or a status other than
// 200 fails the benchmark.
func measureLatencyWith(b *testing.B, names map[string]string, get func(host string) (harness.Response, error), hosts ...string) {
	b.Helper()
	took := map[string][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for _, host := range hosts {
			start := time.Now()
			r, err := get(host)
			if err != nil || r.Status != http.StatusOK {
				b.Fatalf("%s: %v %v", host, r.Status, err)
			}
			took[host] = append(took[host], time.Since(start))
		}
	}
	b.StopTimer()
	for _, host := range hosts {
		d := took[host]
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), names[host]+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), names[host]+"-p99-µs")
	}
}

// startWithLimiter writes manifest into a watched directory and starts, on
// 127.0.0.1, `rukou serve` on it, a `rukou limiter` and a real Envoy whose
// bootstrap names that limiter (as in the install). It returns Envoy's
// HTTP port once every host answers 200.
func startWithLimiter(b *testing.B, manifest string, hosts ...string) int {
	b.Helper()
	return startWithLimiterArgs(b, manifest, nil, hosts...)
}

// startWithLimiterArgs is startWithLimiter with more Envoy flags.
func startWithLimiterArgs(b *testing.B, manifest string, envoyArgs []string, hosts ...string) int {
	b.Helper()
	port, _ := startStack(b, manifest, envoyArgs, hosts...)
	return port
}

// startStack is startWithLimiterArgs that also returns the Envoy, for
// benchmarks that read its counters.
func startStack(b *testing.B, manifest string, envoyArgs []string, hosts ...string) (int, *harness.Envoy) {
	b.Helper()
	return startStackWith(b, manifest, harness.EnvoyOptions{EnvoyArgs: envoyArgs}, hosts...)
}

// startStackWith is startStack with more of Envoy's options: the ADS mode
// is delta, and the limiter's address is added to the bootstrap flags.
func startStackWith(b *testing.B, manifest string, o harness.EnvoyOptions, hosts ...string) (int, *harness.Envoy) {
	b.Helper()
	dir := b.TempDir()
	harness.WriteManifest(b, filepath.Join(dir, "bench.yaml"), manifest)
	limiter := harness.Addr(b)
	lim := harness.Start(b, "limiter", exec.Command(filepath.Join(harness.Root(b), "bin", "rukou"), "limiter", "--address", limiter), 5*time.Second)
	rukou := harness.StartRukou(b, "--watch-dir", dir)
	o.Mode, o.BootstrapArgs = "delta", append(o.BootstrapArgs, "--limiter-address", limiter)
	envoy := harness.StartEnvoyWith(b, rukou.XDSAddress, o)
	awaitServed(b, rukou.HTTPPort, lim, hosts...)
	return rukou.HTTPPort, envoy
}
