package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// Collector is a running OpenTelemetry Collector (bin/otelcol, built by
// `make tools` from test/tools/otelcol/builder.yaml): Envoy exports its
// spans to the Collector's OTLP receiver, and the Collector's OTLP exporter
// forwards them to a sink in the test process, where tests read them.
type Collector struct {
	*Process
	// OTLPPort is the port of the Collector's OTLP gRPC receiver on
	// 127.0.0.1, where Envoy exports (otlp-collector-port).
	OTLPPort int
	sink     *spanSink
}

// CollectedSpan is one span the Collector forwarded, with the service.name
// of the resource that exported it.
type CollectedSpan struct {
	Service string
	Span    *tracepb.Span
}

// otelcolConfig is the Collector's configuration: the OTLP gRPC receiver,
// an OTLP exporter to the sink, and the debug exporter, whose lines show in
// a failing test's log of the Collector. The exporter's batches leave after
// 50 ms (the default waits up to 200 ms for 8192 spans), so that the wait
// for a span is Envoy's own export interval and little more; one consumer
// sends them one after the other, so that spans reach the sink in the order
// Envoy exported them (tests use a later span as the fence for earlier
// ones; the default ten consumers may overtake each other). Its metrics
// are off: by default they listen on the fixed port 8888, which tests
// running side by side would contend for.
const otelcolConfig = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
exporters:
  otlp_grpc:
    endpoint: %s
    compression: none
    tls:
      insecure: true
    sending_queue:
      num_consumers: 1
      batch:
        flush_timeout: 50ms
  debug:
    verbosity: normal
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc, debug]
`

// StartCollector starts the sink and bin/otelcol on free ports of
// 127.0.0.1, with a configuration written for this test, and waits until
// its receiver accepts connections. A missing bin/otelcol fails the test
// with the command that installs it.
func StartCollector(t testing.TB) *Collector {
	t.Helper()
	bin := filepath.Join(Root(t), "bin", "otelcol")
	if _, err := os.Stat(bin); err != nil {
		t.Fatal("bin/otelcol is missing: run `make tools` (test/tools/install.sh otelcol builds the OpenTelemetry Collector)")
	}
	c := &Collector{OTLPPort: FreePort(t), sink: startSpanSink(t)}
	config := filepath.Join(t.TempDir(), "otelcol.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, otelcolConfig, c.OTLPPort, c.sink.addr), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Process = Start(t, "otelcol", exec.Command(bin, "--config", "file:"+config), 10*time.Second)
	receiver := "127.0.0.1:" + strconv.Itoa(c.OTLPPort)
	Eventually(t, 30*time.Second, "the Collector's OTLP receiver accepts connections", func() error {
		if c.Exited() {
			t.Fatalf("otelcol exited:\n%s", c.Log())
		}
		conn, err := net.DialTimeout("tcp", receiver, time.Second)
		if err == nil {
			conn.Close()
		}
		return err
	})
	return c
}

// Spans returns the spans the Collector has forwarded so far, in the order
// they arrived.
func (c *Collector) Spans() []CollectedSpan {
	c.sink.mu.Lock()
	defer c.sink.mu.Unlock()
	return append([]CollectedSpan(nil), c.sink.spans...)
}

// spanSink is the OTLP gRPC server the Collector forwards to: the end of
// the pipeline, in the test process, so that tests read the spans as the
// Collector passed them on.
type spanSink struct {
	collectortrace.UnimplementedTraceServiceServer
	addr string

	mu    sync.Mutex
	spans []CollectedSpan
}

// startSpanSink serves the sink on 127.0.0.1 until the test ends.
func startSpanSink(t testing.TB) *spanSink {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &spanSink{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, s)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when the test stops it
	t.Cleanup(srv.Stop)
	return s
}

// Export keeps the spans of one export with their service.name.
func (s *spanSink) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s.spans = append(s.spans, CollectedSpan{Service: service, Span: sp})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}
