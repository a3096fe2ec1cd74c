package bench

import (
	"testing"

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
	port := startWithLimiter(b,
		harness.IngressYAML("limited", "limited.bench", "echo", map[string]string{"nginx.ingress.kubernetes.io/limit-connections": "100"})+"---\n"+
			harness.IngressYAML("plain", "plain.bench", "echo", nil)+"---\n"+
			harness.ServiceYAML("echo", backend),
		"limited.bench", "plain.bench")
	measureLatency(b, port, map[string]string{"limited.bench": "limited", "plain.bench": "plain"}, "limited.bench", "plain.bench")
}
