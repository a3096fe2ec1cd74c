package translator

import (
	"strings"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_extensions_upstreams_http_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// connectTimeout is ingress-nginx's default proxy-connect-timeout.
const connectTimeout = 5 * time.Second

// clusters returns one EDS cluster per backend; endpoints arrive separately
// so that an endpoint change never rebuilds a cluster.
func clusters(m *Model) []*envoy_config_cluster_v3.Cluster {
	out := make([]*envoy_config_cluster_v3.Cluster, 0, len(m.Backends))
	for _, be := range m.Backends {
		c := &envoy_config_cluster_v3.Cluster{
			Name:                 be.Name,
			AltStatName:          statName(be),
			ClusterDiscoveryType: &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_EDS},
			EdsClusterConfig: &envoy_config_cluster_v3.Cluster_EdsClusterConfig{
				EdsConfig:   adsConfigSource(),
				ServiceName: be.Name,
			},
			ConnectTimeout: durationpb.New(connectTimeout),
			LbPolicy:       envoy_config_cluster_v3.Cluster_ROUND_ROBIN,
		}
		if be.ConnectTimeout != 0 {
			c.ConnectTimeout = durationpb.New(be.ConnectTimeout)
		}
		if be.Affinity {
			// The routes hash the session cookie; a ring keeps each
			// cookie on one endpoint while the endpoints stay.
			c.LbPolicy = envoy_config_cluster_v3.Cluster_RING_HASH
		}
		switch be.Protocol {
		case ProtocolHTTPS:
			c.TransportSocket = upstreamTLS()
		case ProtocolGRPC:
			c.TypedExtensionProtocolOptions = http2Options()
		case ProtocolGRPCS:
			c.TransportSocket = upstreamTLS("h2")
			c.TypedExtensionProtocolOptions = http2Options()
		}
		out = append(out, c)
	}
	return out
}

// upstreamTLS speaks TLS to the endpoints without verifying their
// certificates and without SNI, as ingress-nginx does by default
// (proxy-ssl-verify off, proxy-ssl-server-name off).
func upstreamTLS(alpn ...string) *envoy_config_core_v3.TransportSocket {
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

// statName keeps "/" out of Envoy's stat names, where it reads as a path.
func statName(be *Backend) string {
	return strings.ReplaceAll(be.Name, "/", "_")
}

func endpoints(m *Model) []*envoy_config_endpoint_v3.ClusterLoadAssignment {
	out := make([]*envoy_config_endpoint_v3.ClusterLoadAssignment, 0, len(m.Backends))
	for _, be := range m.Backends {
		out = append(out, loadAssignment(be))
	}
	return out
}

// loadAssignment is the ClusterLoadAssignment of one backend.
func loadAssignment(be *Backend) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	cla := &envoy_config_endpoint_v3.ClusterLoadAssignment{ClusterName: be.Name}
	if len(be.Endpoints) > 0 {
		lb := &envoy_config_endpoint_v3.LocalityLbEndpoints{}
		for _, ep := range be.Endpoints {
			lb.LbEndpoints = append(lb.LbEndpoints, &envoy_config_endpoint_v3.LbEndpoint{
				HostIdentifier: &envoy_config_endpoint_v3.LbEndpoint_Endpoint{Endpoint: &envoy_config_endpoint_v3.Endpoint{
					Address: socketAddress(ep.Address, uint32(ep.Port)),
				}},
			})
		}
		cla.Endpoints = []*envoy_config_endpoint_v3.LocalityLbEndpoints{lb}
	}
	return cla
}
