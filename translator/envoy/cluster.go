package envoy

import (
	"strings"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_extensions_upstreams_http_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rukou/rukou/translator/ir"
)

// cluster renders an EDS cluster: its endpoints arrive separately, so that
// an endpoint change never rebuilds a cluster.
func cluster(c *ir.Cluster) *envoy_config_cluster_v3.Cluster {
	out := &envoy_config_cluster_v3.Cluster{
		Name: c.Name,
		// "/" in a stat name reads as a path in Envoy's stats.
		AltStatName:          strings.ReplaceAll(c.Name, "/", "_"),
		ClusterDiscoveryType: &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_EDS},
		EdsClusterConfig: &envoy_config_cluster_v3.Cluster_EdsClusterConfig{
			EdsConfig:   adsConfigSource(),
			ServiceName: c.Name,
		},
		ConnectTimeout: durationpb.New(time.Duration(c.ConnectTimeout)),
		LbPolicy:       envoy_config_cluster_v3.Cluster_ROUND_ROBIN,
		Metadata:       logMetadata(false, alternativeNameKey, c.AlternativeName),
	}
	if c.LoadBalancer == ir.RingHash {
		out.LbPolicy = envoy_config_cluster_v3.Cluster_RING_HASH
	}
	if c.TLS != nil {
		out.TransportSocket = upstreamTLS(c.TLS.ALPN)
	}
	if c.Protocol == ir.HTTP2 {
		out.TypedExtensionProtocolOptions = http2Options()
	}
	if c.SendProxyProtocol {
		out.TransportSocket = upstreamProxyProtocol()
	}
	return out
}

// upstreamTLS speaks TLS to the endpoints without verifying their
// certificates and without SNI.
func upstreamTLS(alpn []string) *envoy_config_core_v3.TransportSocket {
	return &envoy_config_core_v3.TransportSocket{
		Name: "envoy.transport_sockets.tls",
		ConfigType: &envoy_config_core_v3.TransportSocket_TypedConfig{TypedConfig: mustAny(&envoy_extensions_transport_sockets_tls_v3.UpstreamTlsContext{
			CommonTlsContext: &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext{AlpnProtocols: alpn},
		})},
	}
}

// http2Options makes Envoy speak HTTP/2 to the endpoints, as gRPC needs.
func http2Options() map[string]*anypb.Any {
	return map[string]*anypb.Any{
		"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(&envoy_extensions_upstreams_http_v3.HttpProtocolOptions{
			UpstreamProtocolOptions: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_{
				ExplicitHttpConfig: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
						Http2ProtocolOptions: &envoy_config_core_v3.Http2ProtocolOptions{},
					},
				},
			},
		}),
	}
}
