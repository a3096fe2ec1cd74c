package envoy

import (
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_extensions_filters_listener_proxy_protocol_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_extensions_http_original_ip_detection_custom_header_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/custom_header/v3"
	envoy_extensions_http_original_ip_detection_xff_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/xff/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// proxyProtocolFilter reads the PROXY protocol header, version 1 or 2,
// that must start every connection, and makes its addresses the
// connection's. It comes before the TLS inspector, which must read the
// ClientHello after it. A connection without the header is closed, as
// nginx closes it on a proxy_protocol listener.
func proxyProtocolFilter() *envoy_config_listener_v3.ListenerFilter {
	return &envoy_config_listener_v3.ListenerFilter{
		Name:       "envoy.filters.listener.proxy_protocol",
		ConfigType: &envoy_config_listener_v3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_listener_proxy_protocol_v3.ProxyProtocol{})},
	}
}

// readsHeader says whether a listener takes the client's address from a
// request header: not without a peer that is trusted to send it.
func readsHeader(c *ir.RealIP) bool {
	return c != nil && c.Header != "" && len(c.TrustedPeers) > 0
}

// detectClient sets where the connection manager finds the client's
// address. By default Envoy is the edge (use_remote_address): the client
// is the peer (after the PROXY protocol, when on), whatever
// X-Forwarded-For says, and Envoy appends nothing to it. A header from
// trusted peers needs an original IP detection extension instead, which
// Envoy does not allow beside use_remote_address: the X-Forwarded-For one
// walks the list from the right past trusted addresses (nginx's
// real_ip_recursive), the custom header one reads a single address.
func detectClient(hcm *envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager, c *ir.RealIP) {
	hcm.SkipXffAppend = true
	if !readsHeader(c) {
		hcm.UseRemoteAddress = wrapperspb.Bool(true)
		return
	}
	var ext *envoy_config_core_v3.TypedExtensionConfig
	if c.Header == ir.ForwardedFor {
		ext = &envoy_config_core_v3.TypedExtensionConfig{
			Name: "envoy.http.original_ip_detection.xff",
			TypedConfig: mustAny(&envoy_extensions_http_original_ip_detection_xff_v3.XffConfig{
				XffTrustedCidrs: &envoy_extensions_http_original_ip_detection_xff_v3.XffTrustedCidrs{Cidrs: cidrs(c.TrustedPeers)},
				// Appending the peer is how compute-full-forwarded-for
				// reaches the header that the routes pass on.
				SkipXffAppend: wrapperspb.Bool(!c.AppendPeer),
			}),
		}
	} else {
		ext = &envoy_config_core_v3.TypedExtensionConfig{
			Name:        "envoy.http.original_ip_detection.custom_header",
			TypedConfig: mustAny(&envoy_extensions_http_original_ip_detection_custom_header_v3.CustomHeaderConfig{HeaderName: c.Header}),
		}
	}
	hcm.OriginalIpDetectionExtensions = []*envoy_config_core_v3.TypedExtensionConfig{ext}
}

// envoyRequestHeaders are the x-envoy-* request headers that change what
// Envoy does (retries, timeouts, tracing, the logged path). As the edge,
// Envoy removes them from clients' requests; with an original IP
// detection extension it no longer knows it is the edge, so the route
// configuration names them as internal only, which removes them from every
// request not from an internal address (none is configured).
var envoyRequestHeaders = []string{
	"x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
	"x-envoy-expected-rq-timeout-ms", "x-envoy-external-address", "x-envoy-force-trace",
	"x-envoy-hedge-on-per-try-timeout", "x-envoy-internal", "x-envoy-ip-tags", "x-envoy-is-timeout-retry",
	"x-envoy-max-retries", "x-envoy-original-path", "x-envoy-retriable-header-names",
	"x-envoy-retriable-status-codes", "x-envoy-retry-grpc-on", "x-envoy-retry-on",
	"x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-per-try-timeout-ms",
	"x-envoy-upstream-rq-timeout-alt-response", "x-envoy-upstream-rq-timeout-ms",
	"x-envoy-upstream-stream-duration-ms",
}
