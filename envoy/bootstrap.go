// Package envoy holds what is Envoy-specific outside translation: the
// bootstrap that points Envoy at rukou, and helpers that read an Envoy's
// admin API (readiness, stats, drain).
//
// It may import the Envoy protos, protobuf, sigs.k8s.io/yaml and limiter/wire; never
// the translator, whose resources it does not need.
package envoy

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"time"

	envoy_config_bootstrap_v3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_overload_v3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	envoy_extensions_network_dns_resolver_cares_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
	envoy_extensions_resource_monitors_downstream_connections_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_extensions_upstreams_http_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/limiter/wire"
)

// XDSClusterName is the static cluster through which Envoy reaches rukou.
const XDSClusterName = "rukou-xds"

// Mode is the flavour of ADS Envoy speaks to rukou.
type Mode string

const (
	// Delta is incremental ADS: only changed resources travel. The default.
	Delta Mode = "delta"
	// SotW is state-of-the-world ADS: every change resends a whole type.
	SotW Mode = "sotw"
)

// BootstrapConfig are the settings of a bootstrap.
type BootstrapConfig struct {
	// XDSAddress is rukou's xDS address, host:port; the host may be a name.
	XDSAddress string
	// AdminAddress is where Envoy's admin API listens, host:port.
	AdminAddress string
	NodeID       string
	Mode         Mode
	// XDSCA, XDSCert and XDSKey, when set, are file paths (as Envoy sees
	// them) for mutual TLS to rukou.
	XDSCA, XDSCert, XDSKey string
	// XDSServerName is the name rukou's certificate must carry (and the
	// SNI); the host of XDSAddress when empty.
	XDSServerName string
	// MaxConnections caps Envoy's downstream connections overall.
	MaxConnections int64
	// LimiterAddress, when set, is host:port of a plain-text limiter for
	// limit-connections beside Envoy (`rukou limiter`); by default Envoy
	// asks rukou at XDSAddress, as it asks for its configuration.
	LimiterAddress string
	// ReadyAddress, when set, is host:port of a static listener that
	// serves GET /ready from the admin API, for probes that cannot reach
	// the admin API on loopback (the kubelet's).
	ReadyAddress string
	// DNSResolvers, when set, are the name servers (IP or IP:port, port 53
	// by default) Envoy asks for the names of DNS clusters (ExternalName
	// Services and the xDS address), instead of those of
	// /etc/resolv.conf, whose search domains still apply.
	DNSResolvers []string
}

// Bootstrap returns the Envoy bootstrap for cfg: a node identity, the admin
// API, and one static cluster to rukou over which everything else arrives
// by ADS.
func Bootstrap(cfg BootstrapConfig) (*envoy_config_bootstrap_v3.Bootstrap, error) {
	addrs, err := bootstrapAddresses(cfg)
	if err != nil {
		return nil, err
	}
	apiType, err := adsAPIType(cfg.Mode)
	if err != nil {
		return nil, err
	}
	if (cfg.XDSCert == "") != (cfg.XDSKey == "") {
		return nil, fmt.Errorf("xds client certificate and key must be given together")
	}
	limiter, err := limiterCluster(cfg, addrs.xds.host, addrs.xds.port)
	if err != nil {
		return nil, err
	}
	b := &envoy_config_bootstrap_v3.Bootstrap{
		Node: &envoy_config_core_v3.Node{Id: cfg.NodeID, Cluster: "rukou"},
		Admin: &envoy_config_bootstrap_v3.Admin{
			Address: socketAddress(addrs.admin.host, addrs.admin.port),
		},
		DynamicResources: adsResources(apiType),
		StaticResources: &envoy_config_bootstrap_v3.Bootstrap_StaticResources{
			Clusters: []*envoy_config_cluster_v3.Cluster{xdsCluster(cfg, addrs.xds.host, addrs.xds.port), limiter},
		},
		OverloadManager: overloadManager(cfg.MaxConnections),
		// Envoy's periodic stats flush (every 5 s by default) snapshots
		// every counter and gauge on the main thread even with no sink;
		// with 10,000 Ingresses that stalled configuration and endpoint
		// updates for 200-250 ms each time (docs/benchmarks.md). With no
		// sink there is nothing to flush to: the admin API flushes when
		// asked, and shows current values all the same.
		StatsFlush: &envoy_config_bootstrap_v3.Bootstrap_StatsFlushOnAdmin{StatsFlushOnAdmin: true},
		// A cluster's traffic stats (upstream_rq_*, upstream_cx_* and the
		// like, most of its stats) are made when its first request or
		// connection needs them, not when the cluster is: of 10,000
		// Ingresses most clusters may see no request for a while, and
		// making their stats was half of Envoy's CPU and a third of its
		// memory for each new cluster (docs/benchmarks.md).
		DeferredStatOptions: &envoy_config_bootstrap_v3.Bootstrap_DeferredStatOptions{EnableDeferredCreationStats: true},
	}
	if len(cfg.DNSResolvers) > 0 {
		if b.TypedDnsResolverConfig, err = dnsResolvers(cfg.DNSResolvers); err != nil {
			return nil, err
		}
	}
	if cfg.ReadyAddress != "" {
		l, c := readyResources(addrs.admin.host, addrs.admin.port, addrs.ready.host, addrs.ready.port)
		b.StaticResources.Listeners = append(b.StaticResources.Listeners, l)
		b.StaticResources.Clusters = append(b.StaticResources.Clusters, c)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap is invalid: %w", err)
	}
	return b, nil
}

// dnsResolvers is c-ares (Envoy's default resolver) asking only the given
// name servers.
func dnsResolvers(servers []string) (*envoy_config_core_v3.TypedExtensionConfig, error) {
	cares := &envoy_extensions_network_dns_resolver_cares_v3.CaresDnsResolverConfig{}
	for _, s := range servers {
		addr, err := netip.ParseAddrPort(s)
		if err != nil {
			ip, ipErr := netip.ParseAddr(s)
			if ipErr != nil {
				return nil, fmt.Errorf("dns resolver %q: want an IP address, with an optional :PORT", s)
			}
			addr = netip.AddrPortFrom(ip, 53)
		}
		if addr.Port() == 0 || addr.Addr().Zone() != "" {
			return nil, fmt.Errorf("dns resolver %q: want an IP address without a zone and a port other than 0", s)
		}
		cares.Resolvers = append(cares.Resolvers, socketAddress(addr.Addr().String(), uint32(addr.Port())))
	}
	return &envoy_config_core_v3.TypedExtensionConfig{Name: "envoy.network.dns_resolver.cares", TypedConfig: mustAny(cares)}, nil
}

// hostPort is an address split into its host and port.
type hostPort struct {
	host string
	port uint32
}

// addresses are the addresses of a bootstrap; ready is zero without
// BootstrapConfig.ReadyAddress.
type addresses struct{ xds, admin, ready hostPort }

// bootstrapAddresses splits the addresses of cfg and says which one is
// wrong.
func bootstrapAddresses(cfg BootstrapConfig) (addresses, error) {
	var a addresses
	var err error
	if a.xds.host, a.xds.port, err = splitHostPort(cfg.XDSAddress); err != nil {
		return a, fmt.Errorf("xds address: %w", err)
	}
	if a.admin.host, a.admin.port, err = splitHostPort(cfg.AdminAddress); err != nil {
		return a, fmt.Errorf("admin address: %w", err)
	}
	if cfg.ReadyAddress == "" {
		return a, nil
	}
	if a.ready.host, a.ready.port, err = splitHostPort(cfg.ReadyAddress); err != nil {
		return a, fmt.Errorf("ready address: %w", err)
	}
	if a.ready == a.admin {
		return a, fmt.Errorf("ready address %s is the admin address", cfg.ReadyAddress)
	}
	return a, nil
}

// adsAPIType is the ADS API type of mode; delta when mode is empty.
func adsAPIType(mode Mode) (envoy_config_core_v3.ApiConfigSource_ApiType, error) {
	switch mode {
	case Delta, "":
		return envoy_config_core_v3.ApiConfigSource_DELTA_GRPC, nil
	case SotW:
		return envoy_config_core_v3.ApiConfigSource_GRPC, nil
	}
	return 0, fmt.Errorf("xds mode %q: want %q or %q", mode, Delta, SotW)
}

// adsResources has Envoy take listeners and clusters, and through them
// everything else, over one ADS stream to the xDS cluster.
func adsResources(apiType envoy_config_core_v3.ApiConfigSource_ApiType) *envoy_config_bootstrap_v3.Bootstrap_DynamicResources {
	ads := &envoy_config_core_v3.ConfigSource{
		ResourceApiVersion:    envoy_config_core_v3.ApiVersion_V3,
		ConfigSourceSpecifier: &envoy_config_core_v3.ConfigSource_Ads{Ads: &envoy_config_core_v3.AggregatedConfigSource{}},
	}
	return &envoy_config_bootstrap_v3.Bootstrap_DynamicResources{
		AdsConfig: &envoy_config_core_v3.ApiConfigSource{
			ApiType:                   apiType,
			TransportApiVersion:       envoy_config_core_v3.ApiVersion_V3,
			SetNodeOnFirstMessageOnly: true,
			GrpcServices: []*envoy_config_core_v3.GrpcService{{
				TargetSpecifier: &envoy_config_core_v3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &envoy_config_core_v3.GrpcService_EnvoyGrpc{ClusterName: XDSClusterName},
				},
			}},
		},
		LdsConfig: ads,
		CdsConfig: ads,
	}
}

// overloadManager caps downstream connections at maxConns (50,000 when
// zero). A cap keeps one flood from exhausting file descriptors and memory
// (Envoy warns at start without one).
func overloadManager(maxConns int64) *envoy_config_overload_v3.OverloadManager {
	if maxConns == 0 {
		maxConns = 50000
	}
	return &envoy_config_overload_v3.OverloadManager{
		ResourceMonitors: []*envoy_config_overload_v3.ResourceMonitor{{
			Name: "envoy.resource_monitors.global_downstream_max_connections",
			ConfigType: &envoy_config_overload_v3.ResourceMonitor_TypedConfig{TypedConfig: mustAny(
				&envoy_extensions_resource_monitors_downstream_connections_v3.DownstreamConnectionsConfig{MaxActiveDownstreamConnections: maxConns})},
		}},
	}
}

func xdsCluster(cfg BootstrapConfig, host string, port uint32) *envoy_config_cluster_v3.Cluster {
	c := &envoy_config_cluster_v3.Cluster{
		Name: XDSClusterName,
		// STRICT_DNS takes an IP or a name such as a Service's DNS name,
		// and follows the name to every rukou replica.
		ClusterDiscoveryType: &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_STRICT_DNS},
		ConnectTimeout:       durationpb.New(5 * time.Second),
		LoadAssignment:       oneEndpoint(XDSClusterName, host, port),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(&envoy_extensions_upstreams_http_v3.HttpProtocolOptions{
				UpstreamProtocolOptions: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_{
					ExplicitHttpConfig: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig{
						ProtocolConfig: &envoy_extensions_upstreams_http_v3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
							Http2ProtocolOptions: &envoy_config_core_v3.Http2ProtocolOptions{
								// Pings find a dead control plane long before TCP
								// would; rukou's server allows this interval.
								ConnectionKeepalive: &envoy_config_core_v3.KeepaliveSettings{
									Interval: durationpb.New(30 * time.Second),
									Timeout:  durationpb.New(5 * time.Second),
								},
							},
						},
					},
				},
			}),
		},
	}
	if cfg.XDSCA != "" || cfg.XDSCert != "" {
		tls := &envoy_extensions_transport_sockets_tls_v3.UpstreamTlsContext{
			CommonTlsContext: &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext{},
		}
		if cfg.XDSCert != "" {
			tls.CommonTlsContext.TlsCertificates = []*envoy_extensions_transport_sockets_tls_v3.TlsCertificate{{
				CertificateChain: fileSource(cfg.XDSCert),
				PrivateKey:       fileSource(cfg.XDSKey),
			}}
		}
		if cfg.XDSCA != "" {
			// Trusting the CA is not enough: any certificate it signed
			// (Envoy's own client certificate, say) would pass. rukou's
			// certificate must also carry the name Envoy dials.
			name := cfg.XDSServerName
			if name == "" {
				name = host
			}
			san := &envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher{
				SanType: envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher_DNS,
				Matcher: &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: name}},
			}
			if _, err := netip.ParseAddr(name); err == nil {
				san.SanType = envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher_IP_ADDRESS
			} else {
				tls.Sni = name
			}
			tls.CommonTlsContext.ValidationContextType = &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext_ValidationContext{
				ValidationContext: &envoy_extensions_transport_sockets_tls_v3.CertificateValidationContext{
					TrustedCa:                 fileSource(cfg.XDSCA),
					MatchTypedSubjectAltNames: []*envoy_extensions_transport_sockets_tls_v3.SubjectAltNameMatcher{san},
				},
			}
		}
		c.TransportSocket = &envoy_config_core_v3.TransportSocket{
			Name:       "envoy.transport_sockets.tls",
			ConfigType: &envoy_config_core_v3.TransportSocket_TypedConfig{TypedConfig: mustAny(tls)},
		}
	}
	return c
}

// limiterCluster is the cluster of the limiter that Envoy's external
// processing filter asks about requests of routes with limit-connections
// (wire.LimiterCluster): the one at cfg.LimiterAddress, else rukou
// itself. Each request in flight holds one stream, so the cluster admits
// as many as Envoy may have connections.
func limiterCluster(cfg BootstrapConfig, xdsHost string, xdsPort uint32) (*envoy_config_cluster_v3.Cluster, error) {
	c := xdsCluster(cfg, xdsHost, xdsPort)
	if cfg.LimiterAddress != "" {
		host, port, err := splitHostPort(cfg.LimiterAddress)
		if err != nil {
			return nil, fmt.Errorf("limiter address: %w", err)
		}
		c = xdsCluster(BootstrapConfig{}, host, port)
	}
	c.Name = wire.LimiterCluster
	c.LoadAssignment.ClusterName = wire.LimiterCluster
	many := wrapperspb.UInt32(math.MaxUint32)
	c.CircuitBreakers = &envoy_config_cluster_v3.CircuitBreakers{Thresholds: []*envoy_config_cluster_v3.CircuitBreakers_Thresholds{{
		MaxConnections: many, MaxPendingRequests: many, MaxRequests: many,
	}}}
	return c, nil
}

// MarshalYAML renders a bootstrap as YAML, the form `envoy -c` reads.
func MarshalYAML(b *envoy_config_bootstrap_v3.Bootstrap) ([]byte, error) {
	j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

func fileSource(path string) *envoy_config_core_v3.DataSource {
	return &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_Filename{Filename: path}}
}

func splitHostPort(addr string) (string, uint32, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("port %q is not a port number", p)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, uint32(port), nil
}

// oneEndpoint is the load assignment of a cluster of one address (an IP, or
// a DNS name for a STRICT_DNS cluster).
func oneEndpoint(cluster, host string, port uint32) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	return &envoy_config_endpoint_v3.ClusterLoadAssignment{
		ClusterName: cluster,
		Endpoints: []*envoy_config_endpoint_v3.LocalityLbEndpoints{{
			LbEndpoints: []*envoy_config_endpoint_v3.LbEndpoint{{
				HostIdentifier: &envoy_config_endpoint_v3.LbEndpoint_Endpoint{Endpoint: &envoy_config_endpoint_v3.Endpoint{
					Address: socketAddress(host, port),
				}},
			}},
		}},
	}
}

func socketAddress(host string, port uint32) *envoy_config_core_v3.Address {
	return &envoy_config_core_v3.Address{
		Address: &envoy_config_core_v3.Address_SocketAddress{SocketAddress: &envoy_config_core_v3.SocketAddress{
			Address:       host,
			PortSpecifier: &envoy_config_core_v3.SocketAddress_PortValue{PortValue: port},
		}},
	}
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}
