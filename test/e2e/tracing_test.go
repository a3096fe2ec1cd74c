package e2e

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/rukou/rukou/test/harness"
)

// Envoy exports its spans to a real OpenTelemetry Collector
// (harness.StartCollector: bin/otelcol's OTLP gRPC receiver), which
// forwards them to a sink in the test; the assertions read what the
// Collector passed on.

// otlpReceiver finds the spans a test's Collector forwarded.
type otlpReceiver struct{ *harness.Collector }

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
// exports every 5 seconds, or sooner once it holds 5 spans, and the
// Collector forwards within 50 ms.
func (o otlpReceiver) spanFor(t *testing.T, host, path string) harness.CollectedSpan {
	t.Helper()
	var found harness.CollectedSpan
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
func (o otlpReceiver) find(host, path string) (harness.CollectedSpan, bool) {
	for _, sp := range o.Spans() {
		url := attr(sp.Span, "http.url")
		if strings.Contains(url, "://"+host+path) && (strings.HasSuffix(url, host+path) || strings.Contains(url, host+path+"?")) {
			return sp, true
		}
	}
	return harness.CollectedSpan{}, false
}

func (o otlpReceiver) count() int { return len(o.Spans()) }

// Trace context of the test's client: a sampled W3C traceparent.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
	clientParent  = "00-" + clientTraceID + "-" + clientSpanID + "-01"
)

// startTracingStack starts rukou and Envoy with the ConfigMap's
// OpenTelemetry keys, extra, pointing at a fresh Collector.
func startTracingStack(t *testing.T, extra map[string]string) (*stack, otlpReceiver) {
	t.Helper()
	o := otlpReceiver{harness.StartCollector(t)}
	s := startConfigMapStack(t)
	data := map[string]string{
		"enable-opentelemetry": "true", "otlp-collector-host": "127.0.0.1",
		"otlp-collector-port": strconv.Itoa(o.OTLPPort), "otel-service-name": "rukou-e2e",
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
// enable-opentelemetry: "false" yields no span. A POST is traced, or not,
// as a GET is. The client's request ID reaches the backend unchanged.
func TestOpenTelemetrySpans(t *testing.T) {
	s, o := startTracingStack(t, nil)
	s.apply(t, "site", join(backend(t, "echo"), objs(
		annotated("shop", map[string]string{"opentelemetry-operation-name": "shop-front"}, rule("shop.test", path(prefix, "/", "echo"))),
		annotated("quiet", map[string]string{"enable-opentelemetry": "false"}, rule("quiet.test", path(prefix, "/", "echo"))),
	))...)
	s.await(t, call{host: "quiet.test", path: "/warm"}, http.StatusOK, "echo")
	s.await(t, call{host: "shop.test", path: "/warm"}, http.StatusOK, "echo")
	s.must(t, call{host: "quiet.test", path: "/hidden"})
	// A POST takes the route of its own that keeps nginx's retry rule
	// for non-idempotent methods: it is traced, or not, the same way.
	s.must(t, call{method: http.MethodPost, host: "quiet.test", path: "/hidden-post", body: strings.NewReader("order")})
	s.must(t, call{method: http.MethodPost, host: "shop.test", path: "/order", body: strings.NewReader("order")})
	const rid = "0190b6f4-5d3e-7c2a-9b1e-3f4a5b6c7d8e" // a UUID of version 7
	r := s.must(t, call{host: "shop.test", path: "/cart", header: headers("traceparent", clientParent, "X-Request-ID", rid)})
	if got, _ := echoHeader(r, "X-Request-ID"); got != rid {
		t.Errorf("a traced request's backend saw X-Request-ID %q, want the client's %q, as nginx sends it", got, rid)
	}
	got := o.spanFor(t, "shop.test", "/cart")
	sp := got.Span
	if sp.GetName() != "shop-front" {
		t.Errorf("span name %q, want shop-front (opentelemetry-operation-name)", sp.GetName())
	}
	if got.Service != "rukou-e2e" {
		t.Errorf("service.name %q, want rukou-e2e (otel-service-name)", got.Service)
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
	for _, p := range []string{"/hidden", "/hidden-post"} {
		if sp, ok := o.find("quiet.test", p); ok {
			t.Errorf("enable-opentelemetry: \"false\": got span %q of quiet.test%s", sp.Span.GetName(), p)
		}
	}
	if post := o.spanFor(t, "shop.test", "/order").Span; post.GetName() != "shop-front" || attr(post, "http.method") != "POST" {
		t.Errorf("POST span %q with http.method %q, want shop-front and POST", post.GetName(), attr(post, "http.method"))
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
	sp := o.spanFor(t, "shop.test", "/cart").Span
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
		"enable-opentelemetry": "true", "otlp-collector-host": "127.0.0.1", "otlp-collector-port": strconv.Itoa(o.OTLPPort),
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
			t.Errorf("otel-sampler: AlwaysOff: got span %q of %s", sp.Span.GetName(), p)
		}
	}
}
