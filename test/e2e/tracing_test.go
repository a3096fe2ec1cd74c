package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/rukou/rukou/test/harness"
)

// The spans are received by an OTLP gRPC receiver built on the official
// OpenTelemetry protos (go.opentelemetry.io/proto/otlp), in the test:
// Envoy exports to it exactly as to a collector.

// otlpReceiver keeps the spans Envoy exports, with their service name.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	port int

	mu    sync.Mutex
	spans []receivedSpan
}

// receivedSpan is one exported span and the service that sent it.
type receivedSpan struct {
	service string
	span    *tracepb.Span
}

// Export keeps the spans of one export.
func (o *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				o.spans = append(o.spans, receivedSpan{service: service, span: sp})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// startOTLP serves an OTLP gRPC receiver on 127.0.0.1 until the test ends.
func startOTLP(t *testing.T) *otlpReceiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &otlpReceiver{port: lis.Addr().(*net.TCPAddr).Port}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, o)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when the test stops it
	t.Cleanup(srv.Stop)
	return o
}

// attr is a span's attribute as text, "" when absent.
func attr(sp *tracepb.Span, key string) string {
	for _, kv := range sp.GetAttributes() {
		if kv.GetKey() == key {
			v := kv.GetValue()
			if s := v.GetStringValue(); s != "" {
				return s
			}
			return strconv.FormatInt(v.GetIntValue(), 10)
		}
	}
	return ""
}

// spanFor waits until a span of a request to host and path arrives; Envoy
// exports every 5 seconds, or sooner once it holds 5 spans.
func (o *otlpReceiver) spanFor(t *testing.T, host, path string) receivedSpan {
	t.Helper()
	var found receivedSpan
	harness.Eventually(t, 30*time.Second, "a span of "+host+path, func() error {
		if sp, ok := o.find(host, path); ok {
			found = sp
			return nil
		}
		return fmt.Errorf("%d spans, none of %s%s", o.count(), host, path)
	})
	return found
}

// find is the first span received of a request to host and path.
func (o *otlpReceiver) find(host, path string) (receivedSpan, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, sp := range o.spans {
		url := attr(sp.span, "http.url")
		if strings.Contains(url, "://"+host+path) && (strings.HasSuffix(url, host+path) || strings.Contains(url, host+path+"?")) {
			return sp, true
		}
	}
	return receivedSpan{}, false
}

func (o *otlpReceiver) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.spans)
}

// Trace context of the test's client: a sampled W3C traceparent.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
	clientParent  = "00-" + clientTraceID + "-" + clientSpanID + "-01"
)

// startTracingStack starts rukou and Envoy with the ConfigMap's
// OpenTelemetry keys, extra, pointing at a fresh receiver.
func startTracingStack(t *testing.T, extra map[string]string) (*stack, *otlpReceiver) {
	t.Helper()
	o := startOTLP(t)
	s := startConfigMapStack(t)
	data := map[string]string{
		"enable-opentelemetry": "true", "otlp-collector-host": "127.0.0.1",
		"otlp-collector-port": strconv.Itoa(o.port), "otel-service-name": "rukou-e2e",
	}
	for k, v := range extra {
		data[k] = v
	}
	s.applyConfigMap(t, data)
	return s, o
}

// TestOpenTelemetrySpans: with the ConfigMap's enable-opentelemetry, a
// request yields a server span at the collector, named as the Ingress's
// opentelemetry-operation-name asks, with the method, status and upstream
// users look for, in the trace of the client's traceparent (trusted by
// default), which the backend sees continued. An Ingress with
// enable-opentelemetry: "false" yields no span.
func TestOpenTelemetrySpans(t *testing.T) {
	s, o := startTracingStack(t, nil)
	s.apply(t, "site", join(backend(t, "echo"), objs(
		annotated("shop", map[string]string{"opentelemetry-operation-name": "shop-front"}, rule("shop.test", path(prefix, "/", "echo"))),
		annotated("quiet", map[string]string{"enable-opentelemetry": "false"}, rule("quiet.test", path(prefix, "/", "echo"))),
	))...)
	s.await(t, call{host: "quiet.test", path: "/warm"}, http.StatusOK, "echo")
	s.await(t, call{host: "shop.test", path: "/warm"}, http.StatusOK, "echo")
	s.must(t, call{host: "quiet.test", path: "/hidden"})
	r := s.must(t, call{host: "shop.test", path: "/cart", header: headers("traceparent", clientParent)})
	got := o.spanFor(t, "shop.test", "/cart")
	sp := got.span
	if sp.GetName() != "shop-front" {
		t.Errorf("span name %q, want shop-front (opentelemetry-operation-name)", sp.GetName())
	}
	if got.service != "rukou-e2e" {
		t.Errorf("service.name %q, want rukou-e2e (otel-service-name)", got.service)
	}
	if m, st := attr(sp, "http.method"), attr(sp, "http.status_code"); m != "GET" || st != "200" {
		t.Errorf("span http.method %q, http.status_code %q, want GET and 200", m, st)
	}
	if up := attr(sp, "upstream_cluster"); !strings.Contains(up, "echo") {
		t.Errorf("span upstream_cluster %q, want the echo Service's cluster", up)
	}
	if id := hex.EncodeToString(sp.GetTraceId()); id != clientTraceID {
		t.Errorf("span trace id %s, want the client's %s (trusted incoming span)", id, clientTraceID)
	}
	if p := hex.EncodeToString(sp.GetParentSpanId()); p != clientSpanID {
		t.Errorf("span parent %s, want the client's span %s", p, clientSpanID)
	}
	if tp, _ := echoHeader(r, "traceparent"); !strings.Contains(tp, clientTraceID) {
		t.Errorf("backend saw traceparent %q, want the client's trace %s", tp, clientTraceID)
	}
	// Spans leave in the order their requests ended: the shop's span
	// having arrived, the quiet one's would have too.
	if sp, ok := o.find("quiet.test", "/hidden"); ok {
		t.Errorf("enable-opentelemetry: \"false\": got span %q of quiet.test", sp.span.GetName())
	}
	expectNoRejection(t, s.envoy)
}

// TestOpenTelemetryUntrustedIncomingSpan: with
// opentelemetry-trust-incoming-span: "false" a request's traceparent is
// ignored: its span starts a new trace, without a parent, and the backend
// sees that new trace, not the client's.
func TestOpenTelemetryUntrustedIncomingSpan(t *testing.T) {
	s, o := startTracingStack(t, map[string]string{"opentelemetry-trust-incoming-span": "false"})
	s.apply(t, "site", join(backend(t, "echo"), objs(ingress("shop", rule("shop.test", path(prefix, "/", "echo")))))...)
	s.await(t, call{host: "shop.test", path: "/warm"}, http.StatusOK, "echo")
	r := s.must(t, call{host: "shop.test", path: "/cart", header: headers("traceparent", clientParent)})
	sp := o.spanFor(t, "shop.test", "/cart").span
	id := hex.EncodeToString(sp.GetTraceId())
	if id == clientTraceID {
		t.Errorf("span joined the client's trace %s, want a new trace", id)
	}
	if len(sp.GetParentSpanId()) != 0 {
		t.Errorf("span has parent %x, want none", sp.GetParentSpanId())
	}
	tp, _ := echoHeader(r, "traceparent")
	if strings.Contains(tp, clientTraceID) || !strings.Contains(tp, id) {
		t.Errorf("backend saw traceparent %q, want the new trace %s", tp, id)
	}
}

// TestOpenTelemetrySamplingOff: with otel-sampler: AlwaysOff no request is
// traced, not even one whose trusted traceparent is sampled (Envoy's
// sampling decides alone, unlike ingress-nginx's parent-based sampler).
// The fence: the ConfigMap then turns sampling on, and once a later
// request's span arrives, the earlier ones' would have too.
func TestOpenTelemetrySamplingOff(t *testing.T) {
	s, o := startTracingStack(t, map[string]string{"otel-sampler": "AlwaysOff"})
	s.apply(t, "site", join(backend(t, "echo"), objs(ingress("shop", rule("shop.test", path(prefix, "/", "echo")))))...)
	s.await(t, call{host: "shop.test", path: "/warm"}, http.StatusOK, "echo")
	s.must(t, call{host: "shop.test", path: "/unsampled"})
	s.must(t, call{host: "shop.test", path: "/parent", header: headers("traceparent", clientParent)})
	s.applyConfigMap(t, map[string]string{
		"enable-opentelemetry": "true", "otlp-collector-host": "127.0.0.1", "otlp-collector-port": strconv.Itoa(o.port),
	})
	harness.Eventually(t, 30*time.Second, "a span once sampling is on", func() error {
		if _, err := s.do(call{host: "shop.test", path: "/after"}); err != nil {
			return err
		}
		if _, ok := o.find("shop.test", "/after"); !ok {
			return fmt.Errorf("%d spans, none of /after", o.count())
		}
		return nil
	})
	for _, p := range []string{"/unsampled", "/parent"} {
		if sp, ok := o.find("shop.test", p); ok {
			t.Errorf("otel-sampler: AlwaysOff: got span %q of %s", sp.span.GetName(), p)
		}
	}
}
