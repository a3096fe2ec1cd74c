package envoy

import (
	envoy_extensions_filters_http_bandwidth_limit_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/bandwidth_limit/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// bandwidthFilter limits the rate of responses (limit-rate).
const bandwidthFilter = "envoy.filters.http.bandwidth_limit"

// bandwidthStatPrefix names the bandwidth limit's statistics.
const bandwidthStatPrefix = "rukou_bandwidth_limit"

// bandwidthLimit is the listener's bandwidth limit filter, disabled: only
// routes with a rate run it. It comes first in the chain so that, on the
// way back, it paces the bytes the client gets, compressed ones included.
func bandwidthLimit() *envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
	return &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
		Name:     bandwidthFilter,
		Disabled: true,
		ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(
			&envoy_extensions_filters_http_bandwidth_limit_v3.BandwidthLimit{StatPrefix: bandwidthStatPrefix},
		)},
	}
}

// routeBandwidth is a route's response rate. Envoy keeps one token bucket
// per route configuration, so the route's responses in flight share the
// rate (nginx's limit_rate is per request). Measured with Envoy 1.40, a
// response is paced from its first bytes, with no burst to speak of.
func routeBandwidth(kibps uint64) *envoy_extensions_filters_http_bandwidth_limit_v3.BandwidthLimit {
	return &envoy_extensions_filters_http_bandwidth_limit_v3.BandwidthLimit{
		StatPrefix: bandwidthStatPrefix,
		EnableMode: envoy_extensions_filters_http_bandwidth_limit_v3.BandwidthLimit_RESPONSE,
		LimitKbps:  wrapperspb.UInt64(kibps),
	}
}
