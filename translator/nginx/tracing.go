package nginx

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/rukou/rukou/translator/ir"
)

// Tracing is what the ConfigMap's OpenTelemetry keys ask: spans sent over
// OTLP gRPC to a collector.
type Tracing struct {
	// On traces every route whose Ingress does not opt out
	// (enable-opentelemetry); off, only those that opt in are traced.
	On bool
	// CollectorHost and CollectorPort are where spans go
	// (otlp-collector-host, otlp-collector-port); without a host nothing
	// is traced.
	CollectorHost string
	CollectorPort uint32
	// ServiceName names the proxy in its spans (otel-service-name).
	ServiceName string
	// SamplePercent is the share of requests sampled, from otel-sampler
	// and otel-sampler-ratio; Envoy decides so for every request, whether
	// the incoming span was sampled or not.
	SamplePercent float64
	// TrustIncomingSpan joins the trace of an incoming traceparent
	// header; otherwise every request starts a trace of its own.
	TrustIncomingSpan bool
	// OperationName is the default of opentelemetry-operation-name.
	OperationName string
}

// defaultTracing is ingress-nginx's: off, port 4317, service "nginx",
// every trace sampled, incoming spans trusted.
func defaultTracing() Tracing {
	return Tracing{CollectorPort: 4317, ServiceName: "nginx", SamplePercent: 100, TrustIncomingSpan: true}
}

// operationName is what ingress-nginx accepts as a span name.
var operationName = regexp.MustCompile(`^[A-Za-z0-9_\-]*$`)

// readTracing reads the ConfigMap's OpenTelemetry keys.
func readTracing(r *reader, s *Settings) {
	t := &s.Tracing
	t.On = r.boolean("enable-opentelemetry", t.On)
	if v, ok := r.get("otlp-collector-host"); ok {
		t.CollectorHost = v
	}
	if n, ok := r.number("otlp-collector-port", 1, 65535); ok {
		t.CollectorPort = uint32(n)
	}
	if v, ok := r.get("otel-service-name"); ok && v != "" {
		t.ServiceName = v
	}
	t.TrustIncomingSpan = r.boolean("opentelemetry-trust-incoming-span", t.TrustIncomingSpan)
	t.OperationName = r.operationName("opentelemetry-operation-name", t.OperationName)
	t.SamplePercent = readSampler(r, t.SamplePercent)
	if t.On && t.CollectorHost == "" {
		r.issue("enable-opentelemetry", ir.ReasonConfigKeyIgnored, "no otlp-collector-host is set; nothing is traced")
	}
}

// readSampler reads otel-sampler and otel-sampler-ratio as the percent of
// new traces sampled.
func readSampler(r *reader, def float64) float64 {
	ratio := 0.01
	if v, ok := r.get("otel-sampler-ratio"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			r.invalid("otel-sampler-ratio", "is not a number from 0 to 1", "using 0.01")
		} else {
			ratio = f
		}
	}
	v, ok := r.get("otel-sampler")
	switch {
	case !ok || v == "AlwaysOn":
		return def
	case v == "AlwaysOff":
		return 0
	case v == "TraceIdRatioBased":
		return ratio * 100
	}
	r.invalid("otel-sampler", "is not AlwaysOn, AlwaysOff or TraceIdRatioBased", fmt.Sprintf("sampling %g%%", def))
	return def
}

// operationName reads a span name, as ingress-nginx accepts them.
func (r *reader) operationName(name, def string) string {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	if !operationName.MatchString(v) {
		r.invalid(name, "is not a span name of letters, digits, _ and -", "the default name applies")
		return def
	}
	return v
}

// readRouteTracing reads enable-opentelemetry and
// opentelemetry-operation-name on an Ingress.
func readRouteTracing(r *reader, a *Annotations) {
	if _, ok := r.get("enable-opentelemetry"); ok {
		on := r.boolean("enable-opentelemetry", r.defaults.Tracing.On)
		a.policy().Trace = &on
	}
	if v := r.operationName("opentelemetry-operation-name", ""); v != "" {
		a.policy().TraceOperation = v
	}
}
