package envoy

import (
	"time"

	xds_core_v3 "github.com/cncf/xds/go/xds/core/v3"
	xds_type_matcher_v3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_extensions_filters_listener_proxy_protocol_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	envoy_extensions_filters_network_tcp_proxy_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	envoy_extensions_filters_udp_udp_proxy_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	envoy_extensions_transport_sockets_proxy_protocol_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/proxy_protocol/v3"
	envoy_extensions_transport_sockets_raw_buffer_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// streamListener renders a TCP or UDP listener that passes what arrives
// to one cluster. Its cluster and address are all it depends on: the
// endpoints arrive over EDS, so they change without draining it.
func streamListener(s *ir.StreamListener) *envoy_config_listener_v3.Listener {
	if s.Protocol == ir.UDP {
		return udpListener(s)
	}
	out := &envoy_config_listener_v3.Listener{Name: s.Name, Address: socketAddress(s.Address, s.Port)}
	tcp := &envoy_extensions_filters_network_tcp_proxy_v3.TcpProxy{
		StatPrefix:       s.Name,
		ClusterSpecifier: &envoy_extensions_filters_network_tcp_proxy_v3.TcpProxy_Cluster{Cluster: s.Cluster},
		IdleTimeout:      durationOrNil(s.IdleTimeout),
		AccessLog:        accessLogs(s.AccessLog),
	}
	if s.ConnectAttempts > 0 {
		tcp.MaxConnectAttempts = wrapperspb.UInt32(s.ConnectAttempts)
	}
	out.FilterChains = []*envoy_config_listener_v3.FilterChain{{Filters: []*envoy_config_listener_v3.Filter{{
		Name:       "envoy.filters.network.tcp_proxy",
		ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: mustAny(tcp)},
	}}}}
	if s.AcceptProxyProtocol {
		// The header is required: a connection without one is closed, as
		// nginx's "listen ... proxy_protocol" closes it.
		out.ListenerFilters = []*envoy_config_listener_v3.ListenerFilter{{
			Name:       "envoy.filters.listener.proxy_protocol",
			ConfigType: &envoy_config_listener_v3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_listener_proxy_protocol_v3.ProxyProtocol{})},
		}}
	}
	return out
}

// udpListener renders a UDP listener. Envoy refuses filter chains on a
// UDP listener ("connection-less"), and one without a UDP listener filter
// would drop every datagram: the UDP proxy is its only filter, routing
// every datagram to the cluster (the matcher's default action; the older
// "cluster" field is deprecated).
func udpListener(s *ir.StreamListener) *envoy_config_listener_v3.Listener {
	addr := socketAddress(s.Address, s.Port)
	addr.GetSocketAddress().Protocol = envoy_config_core_v3.SocketAddress_UDP
	udp := &envoy_extensions_filters_udp_udp_proxy_v3.UdpProxyConfig{
		StatPrefix: s.Name,
		RouteSpecifier: &envoy_extensions_filters_udp_udp_proxy_v3.UdpProxyConfig_Matcher{Matcher: &xds_type_matcher_v3.Matcher{
			OnNoMatch: &xds_type_matcher_v3.Matcher_OnMatch{OnMatch: &xds_type_matcher_v3.Matcher_OnMatch_Action{Action: &xds_core_v3.TypedExtensionConfig{
				Name:        "route",
				TypedConfig: mustAny(&envoy_extensions_filters_udp_udp_proxy_v3.Route{Cluster: s.Cluster}),
			}}},
		}},
		IdleTimeout: durationOrNil(s.IdleTimeout),
		AccessLog:   accessLogs(s.AccessLog),
	}
	return &envoy_config_listener_v3.Listener{
		Name:    s.Name,
		Address: addr,
		ListenerFilters: []*envoy_config_listener_v3.ListenerFilter{{
			Name:       "envoy.filters.udp_listener.udp_proxy",
			ConfigType: &envoy_config_listener_v3.ListenerFilter_TypedConfig{TypedConfig: mustAny(udp)},
		}},
	}
}

// durationOrNil is d, or nil (Envoy's default) when it is zero.
func durationOrNil(d ir.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(time.Duration(d))
}

// upstreamProxyProtocol starts each connection to an endpoint with a PROXY
// protocol v1 header, as nginx's "proxy_protocol on" sends it, naming the
// client the TCP proxy took the connection from (or the one a PROXY
// header from the client named).
func upstreamProxyProtocol() *envoy_config_core_v3.TransportSocket {
	return &envoy_config_core_v3.TransportSocket{
		Name: "envoy.transport_sockets.upstream_proxy_protocol",
		ConfigType: &envoy_config_core_v3.TransportSocket_TypedConfig{TypedConfig: mustAny(&envoy_extensions_transport_sockets_proxy_protocol_v3.ProxyProtocolUpstreamTransport{
			Config: &envoy_config_core_v3.ProxyProtocolConfig{Version: envoy_config_core_v3.ProxyProtocolConfig_V1},
			TransportSocket: &envoy_config_core_v3.TransportSocket{
				Name:       "envoy.transport_sockets.raw_buffer",
				ConfigType: &envoy_config_core_v3.TransportSocket_TypedConfig{TypedConfig: mustAny(&envoy_extensions_transport_sockets_raw_buffer_v3.RawBuffer{})},
			},
		})},
	}
}

// streamLogCEL is the CEL field of a stream log's own values that Envoy
// has no command operator for; docs/tcp-udp.md says what differs from
// nginx's.
func streamLogCEL(v ir.LogValue) *celField {
	switch v {
	case ir.LogSessionStatus:
		// nginx's 502 is a connection no endpoint took: Envoy then has
		// no upstream connection, or a flag saying why (no healthy
		// endpoint, connection failure, overflow).
		return &celField{expr: `response.flags == 0u && has(upstream.address) ? "200" : "502"`}
	case ir.LogSessionTime:
		// Envoy's UDP sessions have no duration: "-" rather than "-.---".
		return &celField{guard: `has(request.duration)`, expr: seconds, otherwise: "-"}
	}
	return nil
}

// streamLogOperator is the Envoy command operator of a stream log's own
// values; docs/tcp-udp.md says what differs from nginx's.
func streamLogOperator(v ir.LogValue) string {
	switch v {
	case ir.LogBytesSent:
		return "%BYTES_SENT%"
	case ir.LogBytesReceived:
		return "%BYTES_RECEIVED%"
	}
	// The frontend writes only the values above and the HTTP log's; an
	// unknown one prints "-" rather than failing the listener.
	return "-"
}
