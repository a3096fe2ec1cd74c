package translator

import (
	"net/netip"
	"strconv"
	"strings"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_filters_http_ext_proc_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// limit-connections needs what Envoy's filters lack: a count, per client
// address, of the requests in flight. Envoy's external processing filter
// asks rukou's limiter (see package limiter) about each request of a
// limited route, on a gRPC stream that lasts as long as the request; the
// limiter counts the streams and answers 503 over the limit.
const (
	// LimiterCluster is the Envoy cluster of rukou's limiter, which
	// `rukou bootstrap` defines.
	LimiterCluster = "rukou-limiter"
	// The gRPC metadata that tells the limiter a route's limit: the number
	// of requests, the scope they are counted in, and the client ranges
	// that are never counted (comma-separated prefixes).
	LimitConnectionsKey = "rukou-limit-connections"
	LimitScopeKey       = "rukou-limit-scope"
	LimitExemptKey      = "rukou-limit-exempt"
	// ClientAddressAttribute is the Envoy attribute that carries the client
	// address to the limiter.
	ClientAddressAttribute = "source.address"
)

// connectionLimiter is the listeners' external processing filter: it sends
// the request headers, which start a count, and the response headers, since
// Envoy ends the stream (and so the count) once it has nothing more to
// send. A limiter that cannot be reached lets the request through.
func connectionLimiter() *envoy_extensions_filters_http_ext_proc_v3.ExternalProcessor {
	return &envoy_extensions_filters_http_ext_proc_v3.ExternalProcessor{
		GrpcService: &envoy_config_core_v3.GrpcService{
			TargetSpecifier: &envoy_config_core_v3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &envoy_config_core_v3.GrpcService_EnvoyGrpc{ClusterName: LimiterCluster}},
		},
		FailureModeAllow: true,
		ProcessingMode: &envoy_extensions_filters_http_ext_proc_v3.ProcessingMode{
			RequestHeaderMode:   envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SEND,
			ResponseHeaderMode:  envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SEND,
			RequestTrailerMode:  envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SKIP,
			ResponseTrailerMode: envoy_extensions_filters_http_ext_proc_v3.ProcessingMode_SKIP,
		},
		RequestAttributes: []string{ClientAddressAttribute},
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
func connectionLimit(rl *RateLimit) *envoy_extensions_filters_http_ext_proc_v3.ExtProcPerRoute {
	md := []*envoy_config_core_v3.HeaderValue{
		{Key: LimitConnectionsKey, Value: strconv.FormatUint(uint64(rl.Connections), 10)},
		{Key: LimitScopeKey, Value: rl.Scope},
	}
	if len(rl.Exempt) > 0 {
		md = append(md, &envoy_config_core_v3.HeaderValue{Key: LimitExemptKey, Value: FormatPrefixes(rl.Exempt)})
	}
	return &envoy_extensions_filters_http_ext_proc_v3.ExtProcPerRoute{
		Override: &envoy_extensions_filters_http_ext_proc_v3.ExtProcPerRoute_Overrides{
			Overrides: &envoy_extensions_filters_http_ext_proc_v3.ExtProcOverrides{GrpcInitialMetadata: md},
		},
	}
}

// FormatPrefixes joins prefixes with commas; ParsePrefixes reads them back.
func FormatPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// ParsePrefixes reads what FormatPrefixes wrote.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
