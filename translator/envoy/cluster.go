package envoy

import (
	"net/netip"
	"strings"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_clusters_common_dns_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/common/dns/v3"
	envoy_extensions_clusters_dns_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_extensions_upstreams_http_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// cluster renders a cluster: by default an EDS cluster, whose endpoints
// arrive separately, so that an endpoint change never rebuilds it.
func (sh *shared) cluster(c *ir.Cluster) *envoy_config_cluster_v3.Cluster {
	out := &envoy_config_cluster_v3.Cluster{
		Name: c.Name,
		// "/" in a stat name reads as a path in Envoy's stats.
		AltStatName:    strings.ReplaceAll(c.Name, "/", "_"),
		ConnectTimeout: sh.duration(time.Duration(c.ConnectTimeout)),
		LbPolicy:       envoy_config_cluster_v3.Cluster_ROUND_ROBIN,
		Metadata:       logMetadata(false, alternativeNameKey, c.AlternativeName),
	}
	sh.discovery(out, c)
	switch c.LoadBalancer {
	case ir.RingHash:
		out.LbPolicy = envoy_config_cluster_v3.Cluster_RING_HASH
	case ir.LeastRequest:
		out.LbPolicy = envoy_config_cluster_v3.Cluster_LEAST_REQUEST
	}
	if c.TLS != nil {
		out.TransportSocket = upstreamTLS(c.TLS)
	}
	if c.Protocol == ir.HTTP2 || c.Pool != nil {
		out.TypedExtensionProtocolOptions = sh.protocolOptionsOf(c)
	}
	if c.SendProxyProtocol {
		out.TransportSocket = upstreamProxyProtocol()
	}
	return out
}

// discovery sets how Envoy learns the cluster's endpoints. A DNS cluster
// is Envoy's strict DNS (the DNS cluster extension with each address its
// own endpoint), rather than logical DNS (one endpoint, the first address
// of each lookup): ingress-nginx balances over every address a name
// resolves to, and strict DNS does the same, and skips a failed address
// on a retry. Envoy resolves the name again when the records' TTL runs
// out, and prefers IPv4 addresses, as ingress-nginx looks up A records
// before AAAA.
func (sh *shared) discovery(out *envoy_config_cluster_v3.Cluster, c *ir.Cluster) {
	switch c.Discovery {
	case ir.DiscoveryStatic:
		out.ClusterDiscoveryType = &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_STATIC}
		out.LoadAssignment = LoadAssignment(c)
	case ir.DiscoveryDNS:
		out.ClusterDiscoveryType = &envoy_config_cluster_v3.Cluster_ClusterType{ClusterType: &envoy_config_cluster_v3.Cluster_CustomClusterType{
			Name: "envoy.clusters.dns",
			TypedConfig: mustAny(&envoy_extensions_clusters_dns_v3.DnsCluster{
				RespectDnsTtl:   true,
				DnsLookupFamily: envoy_extensions_clusters_common_dns_v3.DnsLookupFamily_V4_PREFERRED,
			}),
		}}
		out.LoadAssignment = LoadAssignment(c)
	default:
		out.ClusterDiscoveryType = &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_EDS}
		out.EdsClusterConfig = &envoy_config_cluster_v3.Cluster_EdsClusterConfig{
			EdsConfig:   sh.ads,
			ServiceName: c.Name,
		}
	}
}

// upstreamTLS speaks TLS to the endpoints: by default without verifying
// their certificates and without SNI. The certificate presented and the
// trusted CA come over SDS, so that a renewed Secret never rebuilds the
// cluster. No max_verify_depth: Envoy applies it only where it verifies
// clients (downstream), never to an upstream's chain.
func upstreamTLS(t *ir.UpstreamTLS) *envoy_config_core_v3.TransportSocket {
	common := &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext{AlpnProtocols: t.ALPN}
	if t.Params != nil {
		common.TlsParams = tlsParameters(t.Params)
	}
	if t.ClientCertificate != "" {
		common.TlsCertificateSdsSecretConfigs = []*envoy_extensions_transport_sockets_tls_v3.SdsSecretConfig{{
			Name: t.ClientCertificate, SdsConfig: adsConfigSource(),
		}}
	}
	if v := t.Verify; v != nil {
		common.ValidationContextType = &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext: &envoy_extensions_transport_sockets_tls_v3.CertificateValidationContext{
					MatchTypedSubjectAltNames: []*envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher{subjectAltName(v.Name)},
				},
				ValidationContextSdsSecretConfig: &envoy_extensions_transport_sockets_tls_v3.SdsSecretConfig{
					Name: v.CA, SdsConfig: adsConfigSource(),
				},
			},
		}
	}
	return &envoy_config_core_v3.TransportSocket{
		Name: "envoy.transport_sockets.tls",
		ConfigType: &envoy_config_core_v3.TransportSocket_TypedConfig{TypedConfig: mustAny(&envoy_extensions_transport_sockets_tls_v3.UpstreamTlsContext{
			CommonTlsContext: common,
			Sni:              t.SNI,
		})},
	}
}

// subjectAltName matches a certificate that names name: a DNS name
// (Envoy's exact DNS match takes a certificate's wildcard too, as
// OpenSSL's host check does) or an IP address.
func subjectAltName(name string) *envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher {
	kind := envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher_DNS
	if _, err := netip.ParseAddr(name); err == nil {
		kind = envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher_IP_ADDRESS
	}
	return &envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher{
		SanType: kind,
		Matcher: &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: name}},
	}
}

// protocolOptions makes Envoy speak HTTP/2 to the endpoints, as gRPC
// needs, or HTTP/1.1, and bounds how long and for how many requests it
// keeps a connection.
func protocolOptions(c *ir.Cluster) map[string]*anypb.Any {
	explicit := &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig{
		ProtocolConfig: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{
			HttpProtocolOptions: &envoy_config_core_v3.Http1ProtocolOptions{},
		},
	}
	if c.Protocol == ir.HTTP2 {
		explicit.ProtocolConfig = &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
			Http2ProtocolOptions: &envoy_config_core_v3.Http2ProtocolOptions{},
		}
	}
	opts := &envoy_extensions_upstreams_http_v3.HttpProtocolOptions{
		UpstreamProtocolOptions: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: explicit},
	}
	if p := c.Pool; p != nil {
		opts.CommonHttpProtocolOptions = connectionLimits(p)
	}
	if c.MaxResponseHeaderKiB != 0 {
		if opts.CommonHttpProtocolOptions == nil {
			opts.CommonHttpProtocolOptions = &envoy_config_core_v3.HttpProtocolOptions{}
		}
		opts.CommonHttpProtocolOptions.MaxResponseHeadersKb = wrapperspb.UInt32(c.MaxResponseHeaderKiB)
	}
	return map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(opts)}
}

// connectionLimits bounds the upstream connections of a pool; Envoy's
// defaults (an hour idle, no other bound) apply where the pool sets none.
func connectionLimits(p *ir.ConnectionPool) *envoy_config_core_v3.HttpProtocolOptions {
	o := &envoy_config_core_v3.HttpProtocolOptions{}
	if p.IdleTimeout != 0 {
		o.IdleTimeout = durationpb.New(time.Duration(p.IdleTimeout))
	}
	if p.MaxRequests != 0 {
		o.MaxRequestsPerConnection = wrapperspb.UInt32(p.MaxRequests)
	}
	if p.MaxLifetime != 0 {
		o.MaxConnectionDuration = durationpb.New(time.Duration(p.MaxLifetime))
	}
	return o
}
