package envoy

import (
	envoy_config_common_mutation_rules_v3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_config_trace_v3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_extensions_http_early_header_mutation_header_mutation_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	envoy_type_v3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/rukou/rukou/translator/ir"
)

// traceContextHeaders are the W3C trace context headers, the only ones
// Envoy's OpenTelemetry tracer reads.
var traceContextHeaders = []string{"traceparent", "tracestate"}

// tracing makes the connection manager send spans to an OTLP gRPC
// collector. Not trusting incoming spans drops the trace context headers
// with an early header mutation: it runs before Envoy looks for a parent
// span, which no route setting or HTTP filter does.
func tracing(hcm *envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager, t *ir.Tracing) {
	if t == nil {
		return
	}
	otel := &envoy_config_trace_v3.OpenTelemetryConfig{
		GrpcService: &envoy_config_core_v3.GrpcService{
			TargetSpecifier: &envoy_config_core_v3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &envoy_config_core_v3.GrpcService_EnvoyGrpc{ClusterName: t.Cluster}},
		},
		ServiceName: t.ServiceName,
	}
	hcm.Tracing = &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_Tracing{
		RandomSampling: &envoy_type_v3.Percent{Value: t.SamplePercent},
		Provider: &envoy_config_trace_v3.Tracing_Http{
			Name:       "envoy.tracers.opentelemetry",
			ConfigType: &envoy_config_trace_v3.Tracing_Http_TypedConfig{TypedConfig: mustAny(otel)},
		},
	}
	if !t.NewTraces {
		return
	}
	mutation := &envoy_extensions_http_early_header_mutation_header_mutation_v3.HeaderMutation{}
	for _, h := range traceContextHeaders {
		mutation.Mutations = append(mutation.Mutations, &envoy_config_common_mutation_rules_v3.HeaderMutation{
			Action: &envoy_config_common_mutation_rules_v3.HeaderMutation_Remove{Remove: h},
		})
	}
	hcm.EarlyHeaderMutationExtensions = []*envoy_config_core_v3.TypedExtensionConfig{{
		Name:        "envoy.http.early_header_mutation.header_mutation",
		TypedConfig: mustAny(mutation),
	}}
}

// routeTracing turns tracing off for a route (zero random and overall
// sampling: Envoy then samples none of its requests), or names its spans.
func routeTracing(out *envoy_config_route_v3.Route, r *ir.Route) {
	if r.NoTrace {
		off := &envoy_type_v3.FractionalPercent{}
		out.Tracing = &envoy_config_route_v3.Tracing{RandomSampling: off, OverallSampling: off}
	}
	if r.TraceOperation != "" {
		out.Decorator = &envoy_config_route_v3.Decorator{Operation: r.TraceOperation}
	}
}
