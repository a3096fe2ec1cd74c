package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// dataPlaneLoad is what one measurement sends: a fixed number of
// keep-alive connections for a fixed time (the request budget only bounds
// it).
var dataPlaneLoad = harness.LoadConfig{Path: "/", Workers: 8, MaxRequests: 10_000_000, MaxDuration: 3 * time.Second}

// dataPlaneCases are the Ingresses measured against the static Envoy: the
// plain one (rukou's defaults, the access log included, as ingress-nginx
// logs by default) and one per feature turned on.
var dataPlaneCases = []struct {
	name        string
	annotations map[string]string
}{
	{"plain", nil},
	{"rewrite-target", map[string]string{"rewrite-target": "/"}},
	{"cors", map[string]string{"enable-cors": "true"}},
	{"limit-rps", map[string]string{"limit-rps": "1000000"}},
	{"allow-list", map[string]string{"whitelist-source-range": "127.0.0.1/32"}},
	{"auth-url", nil}, // the auth service's URL is known only at run time
	{"no-access-log", map[string]string{"enable-access-log": "false"}},
}

// BenchmarkDataPlane compares the requests per second of two real Envoys
// with one worker each on the same echo backend on 127.0.0.1: one
// configured by rukou (`rukou serve --watch-dir`, one Ingress per case, one
// path, one backend) and one with a minimal static configuration (the same
// route, an HTTP connection manager with only the router filter). Each
// sub-benchmark loads one, then the other, with the same Go load generator,
// and reports both rates and rukou's ratio. The load generator shares the
// machine with both Envoys and the backend: compare the ratios, not the
// rates across machines.
func BenchmarkDataPlane(b *testing.B) {
	binaries(b)
	backendPort := harness.StartBackend(b, "echo")
	staticPort := startStaticEnvoy(b, backendPort)
	manifest := harness.ServiceYAML("echo", backendPort)
	hosts := make([]string, 0, len(dataPlaneCases))
	for _, c := range dataPlaneCases {
		ann := map[string]string{}
		for k, v := range c.annotations {
			ann["nginx.ingress.kubernetes.io/"+k] = v
		}
		if c.name == "auth-url" {
			ann["nginx.ingress.kubernetes.io/auth-url"] = trivialAuth(b)
		}
		hosts = append(hosts, c.name+".bench")
		manifest += "---\n" + harness.IngressYAML(c.name, c.name+".bench", "echo", ann)
	}
	rukouPort := startWithLimiterArgs(b, manifest, []string{"--concurrency", "1"}, hosts...)
	for _, c := range dataPlaneCases {
		b.Run("feature="+c.name, func(b *testing.B) {
			var static, rukou float64
			for range b.N {
				// Interleaved, so that a burst of load from elsewhere on
				// the machine falls on both.
				static += requestRate(b, staticPort, "static.bench")
				rukou += requestRate(b, rukouPort, c.name+".bench")
			}
			b.ReportMetric(static/float64(b.N), "static-req/s")
			b.ReportMetric(rukou/float64(b.N), "rukou-req/s")
			b.ReportMetric(rukou/static, "ratio")
		})
	}
}

// requestRate loads port with host for dataPlaneLoad's duration and
// returns the answered requests per second, failing on any failure.
func requestRate(b *testing.B, port int, host string) float64 {
	b.Helper()
	cfg := dataPlaneLoad
	cfg.Port, cfg.Host = port, host
	res := harness.StartLoad(b, cfg).Wait()
	if res.Failed > 0 || res.Total == 0 {
		b.Fatalf("%s: %d of %d requests failed: %v", host, res.Failed, res.Total, res.Failures)
	}
	return float64(res.Total) / res.Elapsed.Seconds()
}

// staticBootstrap is the minimal Envoy the data-plane benchmark compares
// rukou's with: one listener, one route to one STATIC cluster, only the
// router filter, no access log.
const staticBootstrap = `admin:
  address: {socket_address: {address: 127.0.0.1, port_value: %d}}
static_resources:
  listeners:
  - name: http
    address: {socket_address: {address: 127.0.0.1, port_value: %d}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: http
          route_config:
            virtual_hosts:
            - name: static
              domains: ["static.bench"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: echo}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: echo
    type: STATIC
    load_assignment:
      cluster_name: echo
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
`

// startStaticEnvoy runs Envoy, one worker, with staticBootstrap in front of
// the backend on backendPort, and returns its HTTP port once it answers.
func startStaticEnvoy(b *testing.B, backendPort int) int {
	b.Helper()
	port := harness.FreePort(b)
	path := filepath.Join(b.TempDir(), "static.yaml")
	config := fmt.Sprintf(staticBootstrap, harness.FreePort(b), port, backendPort)
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(harness.Tool(b, "envoy"), "-c", path, "--concurrency", "1",
		"--disable-hot-restart", "--log-level", "warn")
	envoy := harness.Start(b, "static-envoy", cmd, 5*time.Second)
	awaitServed(b, port, envoy, "static.bench")
	return port
}
