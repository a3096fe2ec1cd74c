package bench

import (
	"strings"
	"testing"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkRetries measures what a retry costs a request: one echo backend
// on 127.0.0.1 behind two Services, "echo" with that endpoint only and
// "half" with a second endpoint on a closed port (connection refused, a
// pod that died before its endpoint was removed). plain.bench sends to
// echo with proxy-next-upstream off; retried.bench sends to half with the
// default retry policy (nginx's `error timeout`), so the requests that
// pick the closed port are retried on the backend. Each iteration sends
// one request to each host; every one must answer 200.
func BenchmarkRetries(b *testing.B) {
	binaries(b)
	backend := harness.StartBackend(b, "echo")
	closed := harness.FreePort(b) // nothing listens there
	off := map[string]string{"nginx.ingress.kubernetes.io/proxy-next-upstream": "off"}
	hosts := []string{"plain.bench", "retried.bench"}
	port, envoy := startStack(b,
		harness.IngressYAML("plain", "plain.bench", "echo", off)+"---\n"+
			harness.IngressYAML("retried", "retried.bench", "half", nil)+"---\n"+
			harness.ServiceYAML("echo", backend)+"---\n"+
			harness.ServiceYAML("half", backend, closed),
		nil, hosts...)
	before := retries(b, envoy)
	measureLatency(b, port, map[string]string{"plain.bench": "plain", "retried.bench": "retried"}, hosts...)
	b.ReportMetric(float64(retries(b, envoy)-before)*100/float64(b.N), "retried-%")
}

// retries is the sum of Envoy's upstream_rq_retry counters, the retries
// its routers sent over all clusters.
func retries(b *testing.B, envoy *harness.Envoy) int64 {
	b.Helper()
	stats, err := envoy.Admin.Stats(harness.Context(b), "upstream_rq_retry$")
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for name, v := range stats {
		if strings.HasSuffix(name, ".upstream_rq_retry") {
			n += v
		}
	}
	return n
}
