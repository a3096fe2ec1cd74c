package envoy

import (
	"strconv"

	"github.com/rukou/rukou/limiter/wire"
	"github.com/rukou/rukou/translator/ir"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_filters_http_ext_proc_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// limit-connections needs what Envoy's filters lack: a count, per client
// address, of the requests in flight. Envoy's external processing filter
// asks rukou's limiter (see package limiter) about each request of a
// limited route, on a gRPC stream that lasts as long as the request; the
// limiter counts the streams and answers 503 over the limit.

// connectionLimiter is the listeners' external processing filter: it sends
// the request headers, which start a count, and the response headers, since
// Envoy ends the stream (and so the count) once it has nothing more to
// send. A limiter that cannot be reached lets the request through.
func connectionLimiter() *envoy_extensions_filters_http_ext_proc_v3.ExternalProcessor {
	return &envoy_extensions_filters_http_ext_proc_v3.ExternalProcessor{
		GrpcService: &envoy_config_core_v3.GrpcService{
			TargetSpecifier: &envoy_config_core_v3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &envoy_config_core_v3.GrpcService_EnvoyGrpc{ClusterName: wire.LimiterCluster}},
		},
		FailureModeAllow: true,
		ProcessingMode: &envoy_extensions_filters_http_ext_proc_v3.ProcessingMode{
			RequestHeaderMode:   envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SEND,
			ResponseHeaderMode:  envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SEND,
			RequestTrailerMode:  envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SKIP,
			ResponseTrailerMode: envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SKIP,
		},
		RequestAttributes: []string{wire.ClientAddressAttribute},
		// The limiter needs no header: the client address comes as an
		// attribute. Only :method goes, so that cookies and credentials
		// never leave Envoy.
		ForwardRules: &envoy_extensions_filters_http_ext_proc_v3.HeaderForwardingRules{
			AllowedHeaders: &envoy_type_matcher_v3.ListStringMatcher{Patterns: []*envoy_type_matcher_v3.StringMatcher{
				{MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: ":method"}},
			}},
		},
	}
}

// connectionLimit is a route's limit, told to the limiter as gRPC metadata
// built from typed values.
func connectionLimit(rl *ir.ConnectionLimit) *envoy_extensions_filters_http_ext_proc_v3.ExtProcPerRoute {
	md := []*envoy_config_core_v3.HeaderValue{
		{Key: wire.LimitConnectionsKey, Value: strconv.FormatUint(uint64(rl.Max), 10)},
		{Key: wire.LimitScopeKey, Value: rl.Scope},
	}
	if rl.Status != 0 {
		md = append(md, &envoy_config_core_v3.HeaderValue{Key: wire.LimitStatusKey, Value: strconv.FormatUint(uint64(rl.Status), 10)})
	}
	if len(rl.Exempt) > 0 {
		md = append(md, &envoy_config_core_v3.HeaderValue{Key: wire.LimitExemptKey, Value: wire.FormatPrefixes(rl.Exempt)})
	}
	return &envoy_extensions_filters_http_ext_proc_v3.ExtProcPerRoute{
		Override: &envoy_extensions_filters_http_ext_proc_v3.ExtProcPerRoute_Overrides{
			Overrides: &envoy_extensions_filters_http_ext_proc_v3.ExtProcOverrides{GrpcInitialMetadata: md},
		},
	}
}
