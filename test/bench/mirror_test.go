package bench

import (
	"fmt"
	"testing"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkMirror measures what mirror-target costs a request: one
// iteration sends one request through a real Envoy to each of two hosts of
// the same echo backend on 127.0.0.1, one without mirroring and one whose
// Ingress copies every request to a second echo backend (Envoy's request
// mirror policy: the copy is sent beside the request, its answer dropped).
func BenchmarkMirror(b *testing.B) {
	binaries(b)
	backend := harness.StartBackend(b, "echo")
	mirror := harness.StartBackend(b, "mirror")
	ann := map[string]string{"nginx.ingress.kubernetes.io/mirror-target": fmt.Sprintf("http://127.0.0.1:%d$request_uri", mirror)}
	hosts := []string{"plain.bench", "mirrored.bench"}
	port := startWithLimiter(b,
		harness.IngressYAML("mirrored", "mirrored.bench", "echo", ann)+"---\n"+
			harness.IngressYAML("plain", "plain.bench", "echo", nil)+"---\n"+
			harness.ServiceYAML("echo", backend),
		hosts...)
	measureLatency(b, port, map[string]string{"plain.bench": "plain", "mirrored.bench": "mirrored"}, hosts...)
}
