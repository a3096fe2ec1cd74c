package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

const logBootstrap = `admin:
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
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                text_format_source:
                  inline_string: %q
%s
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

func startLogEnvoy(b *testing.B, backendPort int, line, extra string) dataPlaneTarget {
	b.Helper()
	port := harness.FreePort(b)
	path := filepath.Join(b.TempDir(), "static.yaml")
	config := fmt.Sprintf(logBootstrap, harness.FreePort(b), port, line+"\n", extra, backendPort)
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(harness.Tool(b, "envoy"), "-c", path, "--concurrency", "1",
		"--disable-hot-restart", "--log-level", "warn")
	envoy := harness.Start(b, "log-envoy", cmd, 5*time.Second)
	awaitServed(b, port, envoy, "static.bench")
	return dataPlaneTarget{port: port, pid: envoy.PID(), host: "static.bench"}
}

func BenchmarkLogCost(b *testing.B) {
	binaries(b)
	backendPort := harness.StartBackend(b, "echo")
	static := startStaticEnvoy(b, backendPort)
	prefix := `%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% - - [%START_TIME(%d/%b/%Y:%H:%M:%S %z)%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %BYTES_SENT% "%REQ(referer)%" "%REQ(user-agent)%" %DOWNSTREAM_WIRE_BYTES_RECEIVED% `
	ms := `request.duration.getMilliseconds()`
	cur := prefix + `%CEL(` + ms + ` / 1000)%.%CEL(` + ms + ` % 1000 / 100)%%CEL(` + ms + ` % 100 / 10)%%CEL(` + ms + ` % 10)% [%ROUTE_NAME%] [%CEL(has(xds.cluster_name) && has(xds.cluster_metadata.filter_metadata.rukou) && has(xds.cluster_metadata.filter_metadata.rukou.alternative_upstream_name) ? xds.cluster_metadata.filter_metadata.rukou.alternative_upstream_name : "")%] %UPSTREAM_HOST% %CEL(has(upstream.address) ? response.size : "-")% %CEL(has(upstream.address) ? ` + ms + ` / 1000 : "-")%%CEL(has(upstream.address) ? "." : "")%%CEL(has(upstream.address) ? ` + ms + ` % 1000 / 100 : "")%%CEL(has(upstream.address) ? ` + ms + ` % 100 / 10 : "")%%CEL(has(upstream.address) ? ` + ms + ` % 10 : "")% %CEL(has(upstream.address) ? response.code : "-")% %REQ(X-REQUEST-ID)%`
	native := prefix + `%DURATION% [%ROUTE_NAME%] [] %UPSTREAM_HOST% %BYTES_SENT% %DURATION% %RESPONSE_CODE% %REQ(X-REQUEST-ID)%`
	oneCEL := prefix + `%DURATION% [%ROUTE_NAME%] [] %UPSTREAM_HOST% %BYTES_SENT% %DURATION% %CEL(response.code)% %REQ(X-REQUEST-ID)%`
	fourCEL := prefix + `%DURATION% [%ROUTE_NAME%] [] %UPSTREAM_HOST% %BYTES_SENT% %DURATION% %CEL(response.code)%%CEL(response.code)%%CEL(response.code)%%CEL(response.code)% %REQ(X-REQUEST-ID)%`
	altOnly := prefix + `%DURATION% [%ROUTE_NAME%] [%CEL(has(xds.cluster_name) && has(xds.cluster_metadata.filter_metadata.rukou) && has(xds.cluster_metadata.filter_metadata.rukou.alternative_upstream_name) ? xds.cluster_metadata.filter_metadata.rukou.alternative_upstream_name : "")%] %UPSTREAM_HOST% %BYTES_SENT% %DURATION% %RESPONSE_CODE% %REQ(X-REQUEST-ID)%`
	cases := []struct{ name, line string }{
		{"native", native},
		{"one-cel", oneCEL},
		{"four-cel", fourCEL},
		{"alt-only", altOnly},
		{"current", cur},
	}
	if only := os.Getenv("LOGCOST_ONLY"); only != "" {
		var keep = cases[:0]
		for _, c := range cases {
			if strings.Contains(only, c.name) {
				keep = append(keep, c)
			}
		}
		cases = keep
	}
	b.Run("case=control", func(b *testing.B) { compareDataPlanes(b, static, startStaticEnvoy(b, backendPort)) })
	for _, c := range cases {
		t := startLogEnvoy(b, backendPort, c.line, "")
		b.Run("case="+c.name, func(b *testing.B) { compareDataPlanes(b, static, t) })
	}
}
