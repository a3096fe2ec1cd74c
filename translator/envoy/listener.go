package envoy

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_extensions_filters_listener_tls_inspector_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_extensions_filters_network_tcp_proxy_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	envoy_extensions_request_id_uuid_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/request_id/uuid/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// listener renders a listener that reads its routes over RDS, from the
// route configuration of its name. Any change to a listener makes Envoy
// drain its connections, so routes arrive over RDS and certificates over
// SDS, and the listener itself depends only on its address and on which
// certificates exist. A TLS listener has a filter chain per certificate;
// Envoy updates filter chains in place, so adding a TLS host drains no
// connection of another.
func listener(l *ir.Listener, rewrites bool) *envoy_config_listener_v3.Listener {
	out := &envoy_config_listener_v3.Listener{Name: l.Name, Address: socketAddress(l.Address, l.Port), Metadata: listenerVars(l.Vars)}
	hcm := httpConnectionManager(l, rewrites)
	hcm.AccessLog = httpAccessLogs(l.AccessLog)
	if listenerMatchesSubject(l) {
		hcm.EarlyHeaderMutationExtensions = []*envoy_config_core_v3.TypedExtensionConfig{clientSubjectMutation()}
	}
	hcmAny := mustAny(hcm)
	if l.RealIP != nil && l.RealIP.ProxyProtocol {
		out.ListenerFilters = append(out.ListenerFilters, proxyProtocolFilter())
	}
	if len(l.TLS) == 0 && len(l.Passthrough) == 0 {
		out.FilterChains = []*envoy_config_listener_v3.FilterChain{{Filters: httpChainFilters(l, hcmAny)}}
		out.FilterChains = append(out.FilterChains, portChains(hcm, l)...)
		return out
	}
	// The TLS inspector reads the SNI that picks a filter chain.
	out.ListenerFilters = append(out.ListenerFilters, &envoy_config_listener_v3.ListenerFilter{
		Name:       "envoy.filters.listener.tls_inspector",
		ConfigType: &envoy_config_listener_v3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_listener_tls_inspector_v3.TlsInspector{})},
	})
	for _, c := range l.TLS {
		fc := &envoy_config_listener_v3.FilterChain{
			Name:    c.Name,
			Filters: chainFilters(c, httpChainFilters(l, hcmAny)),
			TransportSocket: &envoy_config_core_v3.TransportSocket{
				Name:       "envoy.transport_sockets.tls",
				ConfigType: &envoy_config_core_v3.TransportSocket_TypedConfig{TypedConfig: mustAny(downstreamTLS(c, l))},
			},
		}
		if len(c.ServerNames) == 0 {
			out.DefaultFilterChain = fc
			continue
		}
		fc.FilterChainMatch = &envoy_config_listener_v3.FilterChainMatch{ServerNames: c.ServerNames}
		out.FilterChains = append(out.FilterChains, fc)
	}
	out.FilterChains = append(out.FilterChains, passthroughChains(l.Passthrough)...)
	return out
}

// passthroughChains proxy the connections whose SNI they name to their
// cluster as bytes: the TLS inspector read the SNI from the ClientHello
// without consuming it, so the backend gets the whole handshake and
// answers with its own certificate. Envoy refuses (NACKs) two chains with
// the same server name, so the frontend never names a host in both a TLS
// chain and a passthrough chain.
func passthroughChains(chains []*ir.PassthroughChain) []*envoy_config_listener_v3.FilterChain {
	var out []*envoy_config_listener_v3.FilterChain
	for _, c := range chains {
		tcp := &envoy_extensions_filters_network_tcp_proxy_v3.TcpProxy{
			StatPrefix:       c.Name,
			ClusterSpecifier: &envoy_extensions_filters_network_tcp_proxy_v3.TcpProxy_Cluster{Cluster: c.Cluster},
		}
		out = append(out, &envoy_config_listener_v3.FilterChain{
			Name:             c.Name,
			FilterChainMatch: &envoy_config_listener_v3.FilterChainMatch{ServerNames: c.ServerNames, TransportProtocol: "tls"},
			Filters: []*envoy_config_listener_v3.Filter{{
				Name:       "envoy.filters.network.tcp_proxy",
				ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: mustAny(tcp)},
			}},
		})
	}
	return out
}

// portChains are the filter chains of connections to l's other
// destination ports (after the PROXY protocol) that take another
// listener's routes: the same connection manager, reading that route
// table, after the record of l's scheme (the connection's, which nginx's
// $scheme is, whatever the port says).
func portChains(hcm *envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager, l *ir.Listener) []*envoy_config_listener_v3.FilterChain {
	var out []*envoy_config_listener_v3.FilterChain
	for _, p := range l.PortRoutes {
		other := proto.Clone(hcm).(*envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager)
		other.GetRds().RouteConfigName = p.Routes
		out = append(out, &envoy_config_listener_v3.FilterChain{
			Name:             p.Routes + "-on-" + strconv.FormatUint(uint64(p.Port), 10),
			FilterChainMatch: &envoy_config_listener_v3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(p.Port)},
			Filters:          httpChainFilters(l, mustAny(other)),
		})
	}
	return out
}

// httpChainFilters are the network filters of one of l's HTTP filter
// chains: the record of l's scheme (schemeKey), when l has one, and the
// connection manager hcm.
func httpChainFilters(l *ir.Listener, hcm *anypb.Any) []*envoy_config_listener_v3.Filter {
	hcmFilter := &envoy_config_listener_v3.Filter{
		Name:       "envoy.filters.network.http_connection_manager",
		ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: hcm},
	}
	if l.Scheme == "" {
		return []*envoy_config_listener_v3.Filter{hcmFilter}
	}
	return []*envoy_config_listener_v3.Filter{connectionValue(schemeKey, l.Scheme), hcmFilter}
}

// downstreamTLS terminates TLS with a certificate from SDS, with the
// listener's versions, suites and curves, offering HTTP/2 first in ALPN
// unless the listener is HTTP/1.1 only. Envoy picks the cipher suite in
// the server's order of preference (as nginx's ssl_prefer_server_ciphers
// on, which ingress-nginx sets).
func downstreamTLS(c *ir.FilterChain, l *ir.Listener) *envoy_extensions_transport_sockets_tls_v3.DownstreamTlsContext {
	alpn := []string{"h2", "http/1.1"}
	if l.Clients.HTTP1Only {
		alpn = alpn[1:]
	}
	out := &envoy_extensions_transport_sockets_tls_v3.DownstreamTlsContext{
		CommonTlsContext: &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext{
			TlsParams:     tlsParameters(l.TLSParams),
			AlpnProtocols: alpn,
			TlsCertificateSdsSecretConfigs: []*envoy_extensions_transport_sockets_tls_v3.SdsSecretConfig{{
				Name:      c.Secret,
				SdsConfig: adsConfigSource(),
			}},
		},
	}
	if c.Clients != nil {
		out.CommonTlsContext.ValidationContextType = clientValidation(c.Clients)
		out.RequireClientCertificate = wrapperspb.Bool(false)
	}
	if c.CipherSuites != nil {
		out.CommonTlsContext.TlsParams.CipherSuites = c.CipherSuites
	}
	out.PreferClientCiphers = c.PreferClientCiphers
	return out
}

// secret renders a certificate, or CAs that verify clients, for SDS.
func secret(s *ir.Secret) *envoy_extensions_transport_sockets_tls_v3.Secret {
	if s.CA != nil {
		return validationSecret(s)
	}
	return &envoy_extensions_transport_sockets_tls_v3.Secret{
		Name: s.Name,
		Type: &envoy_extensions_transport_sockets_tls_v3.Secret_TlsCertificate{TlsCertificate: &envoy_extensions_transport_sockets_tls_v3.TlsCertificate{
			CertificateChain: &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineBytes{InlineBytes: s.Chain}},
			PrivateKey:       &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineBytes{InlineBytes: s.Key}},
		}},
	}
}

// httpConnectionManager is the edge configuration every listener shares,
// reading the routes named as the listener. docs/edge.md explains each
// choice.
func httpConnectionManager(l *ir.Listener, rewrites bool) *envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager {
	// As nginx's underscores_in_headers off: a header whose name holds an
	// underscore is dropped, not refused, unless the listener allows it.
	underscores := envoy_config_core_v3.HttpProtocolOptions_DROP_HEADER
	if l.AllowHeadersWithUnderscores {
		underscores = envoy_config_core_v3.HttpProtocolOptions_ALLOW
	}
	hcm := &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager{
		StatPrefix: l.Name,
		RouteSpecifier: &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_Rds{
			Rds: &envoy_extensions_filters_network_http_connection_manager_v3.Rds{
				RouteConfigName: cmp.Or(l.Routes, l.Name),
				ConfigSource:    adsConfigSource(),
			},
		},
		HttpFilters: httpFilters(l, rewrites),
		// The routing model sets the forwarded headers itself (it
		// replaces X-Forwarded-For, as ingress-nginx does); a request ID
		// the client sent is kept, as ingress-nginx keeps it, to the
		// letter: Envoy would otherwise write its tracing decision into
		// the version digit of an ID that looks like a UUID (a version 7
		// UUID came back as version 4 from an error page's request).
		PreserveExternalRequestId: true,
		RequestIdExtension:        keptRequestID,
		// Routes match the path as nginx matches its locations: dot
		// segments resolved ("/public/../admin" is "/admin"), slashes
		// merged ("//admin" is "/admin"), and escaped slashes decoded, so
		// that no policy of a path can be bypassed by how the path is
		// spelled. Envoy forwards the path it routed on; a request whose
		// path held %2F or %5C is redirected to the decoded path instead,
		// so that the client, Envoy and the backend agree on it.
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		CommonHttpProtocolOptions: &envoy_config_core_v3.HttpProtocolOptions{
			IdleTimeout:                  optionalDuration(l.Clients.IdleTimeout),
			MaxRequestsPerConnection:     optionalUInt32(l.Clients.MaxRequests),
			HeadersWithUnderscoresAction: underscores,
		},
		RequestHeadersTimeout:      optionalDuration(l.Clients.HeadersTimeout),
		MaxRequestHeadersKb:        headersKB(l.Clients.MaxHeaderBytes),
		Http2ProtocolOptions:       downstreamHTTP2(l.Clients.MaxConcurrentStreams),
		ServerHeaderTransformation: serverHeader(l),
		ServerName:                 l.Server,
		LocalReplyConfig:           withTLSFailure(localReplyConfig(l.LocalReplies), l.LocalReplies, l.UpstreamTLSFailureStatus),
		// WebSockets upgrade on every route, as nginx proxies them; without
		// this Envoy answers an upgrade request with 403. An upgrade has
		// its own filter chain: the same, without the body size limit,
		// whose buffer would hold the upgrade request until a body that
		// never ends (nginx's client_max_body_size counts no upgraded
		// bytes either).
		UpgradeConfigs: []*envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_UpgradeConfig{{
			UpgradeType: "websocket",
			Filters:     upgradeFilters(l, rewrites),
		}},
	}
	if l.NoRequestID {
		// A request without X-Request-ID gets none, as nginx's $req_id
		// stays empty with generate-request-id: "false".
		hcm.GenerateRequestId = wrapperspb.Bool(false)
	}
	detectClient(hcm, l.RealIP)
	tracing(hcm, l.Tracing)
	return hcm
}

// keptRequestID is Envoy's UUID request ID that never writes the tracing
// decision into the ID. (Envoy still decides sampling from the ID's
// first eight hex digits, as it did before.)
var keptRequestID = &envoy_extensions_filters_network_http_connection_manager_v3.RequestIDExtension{
	TypedConfig: mustAny(&envoy_extensions_request_id_uuid_v3.UuidRequestIdConfig{PackTraceReason: wrapperspb.Bool(false)}),
}

// listenerVars are a listener's own values as its metadata, which headers
// read with Envoy's %METADATA(LISTENER:...)%.
func listenerVars(vars map[string]string) *envoy_config_core_v3.Metadata {
	kv := make([]string, 0, 2*len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		kv = append(kv, k, vars[k])
	}
	return logMetadata(false, kv...)
}

// serverHeader says how Envoy treats the Server response header. Without
// a name of its own Envoy passes the backend's header through (the route
// configuration removes it unless the listener keeps it) and adds none;
// with one, it replaces the backend's, or only fills in where the backend
// sent none.
func serverHeader(l *ir.Listener) envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_ServerHeaderTransformation {
	switch {
	case l.Server == "":
		return envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_PASS_THROUGH
	case l.BackendServer:
		return envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_APPEND_IF_ABSENT
	}
	return envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_OVERWRITE
}

// headersKB is a limit on request headers in Envoy's unit, KiB rounded
// up, at most the 8 MiB Envoy accepts; nil (Envoy's default, 60 KiB) for
// none.
func headersKB(n uint64) *wrapperspb.UInt32Value {
	if n == 0 {
		return nil
	}
	return wrapperspb.UInt32(uint32(min((n+1023)/1024, 8192)))
}

// downstreamHTTP2 bounds the concurrent streams of a client's HTTP/2
// connection; nil leaves Envoy's default.
func downstreamHTTP2(streams uint32) *envoy_config_core_v3.Http2ProtocolOptions {
	if streams == 0 {
		return nil
	}
	return &envoy_config_core_v3.Http2ProtocolOptions{MaxConcurrentStreams: wrapperspb.UInt32(streams)}
}

// optionalDuration is d, or nil for zero: a zero duration in Envoy's
// protos often means "no timeout", not "the default".
func optionalDuration(d ir.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(time.Duration(d))
}

// optionalUInt32 is n, or nil for zero (Envoy's default).
func optionalUInt32(n uint32) *wrapperspb.UInt32Value {
	if n == 0 {
		return nil
	}
	return wrapperspb.UInt32(n)
}

func adsConfigSource() *envoy_config_core_v3.ConfigSource {
	return &envoy_config_core_v3.ConfigSource{
		ResourceApiVersion:    envoy_config_core_v3.ApiVersion_V3,
		ConfigSourceSpecifier: &envoy_config_core_v3.ConfigSource_Ads{Ads: &envoy_config_core_v3.AggregatedConfigSource{}},
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

// mustAny packs a message into an Any. Marshalling a generated message into
// memory cannot fail, so a failure is a programming error.
func mustAny(m proto.Message) *anypb.Any {
	// Deterministic: a message with a map (a Struct, say) would otherwise
	// be new bytes on each translation, and a new version for Envoy.
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic(err)
	}
	return a
}

// tlsVersions are Envoy's names of the TLS versions.
var tlsVersions = map[ir.TLSVersion]envoy_extensions_transport_sockets_tls_v3.TlsParameters_TlsProtocol{
	ir.TLS10: envoy_extensions_transport_sockets_tls_v3.TlsParameters_TLSv1_0,
	ir.TLS11: envoy_extensions_transport_sockets_tls_v3.TlsParameters_TLSv1_1,
	ir.TLS12: envoy_extensions_transport_sockets_tls_v3.TlsParameters_TLSv1_2,
	ir.TLS13: envoy_extensions_transport_sockets_tls_v3.TlsParameters_TLSv1_3,
}

// tlsParameters renders a listener's versions, suites and curves; nil
// offers TLS 1.2 and 1.3 with Envoy's suites and curves. The model names
// suites and curves as BoringSSL does (ir.CipherSuites, ir.Curves), each
// of which Envoy accepts: one it refused would fail the whole listener.
func tlsParameters(p *ir.TLSParams) *envoy_extensions_transport_sockets_tls_v3.TlsParameters {
	out := &envoy_extensions_transport_sockets_tls_v3.TlsParameters{
		TlsMinimumProtocolVersion: envoy_extensions_transport_sockets_tls_v3.TlsParameters_TLSv1_2,
	}
	if p == nil {
		return out
	}
	if v, ok := tlsVersions[p.MinVersion]; ok {
		out.TlsMinimumProtocolVersion = v
	}
	if v, ok := tlsVersions[p.MaxVersion]; ok {
		out.TlsMaximumProtocolVersion = v
	}
	out.CipherSuites, out.EcdhCurves = p.CipherSuites, p.Curves
	return out
}
