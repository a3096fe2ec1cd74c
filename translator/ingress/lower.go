package ingress

import (
	"cmp"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// The names of the listeners, which are also the names of their route
// tables.
const (
	// HTTPListener is the plain HTTP listener.
	HTTPListener = "http"
	// HTTPSListener is the TLS listener, present while any host has TLS.
	HTTPSListener = "https"
)

// streamIdleTimeout is the listeners' stream idle timeout, which rukou
// leaves at Envoy's default: a stream with no bytes in either direction
// for this long is closed, unless its route says otherwise.
const streamIdleTimeout = 5 * time.Minute

// Lower turns the frontend's model into the generic routing model: the
// plain HTTP listener, where the routes of TLS hosts redirect; the TLS
// listener with a filter chain per certificate, while any host has TLS;
// one cluster per backend and the certificates in use.
func Lower(m *Model, diags []ir.Diagnostic, opts Options) *ir.Config {
	cfg := &ir.Config{Diagnostics: diags}
	s := &m.Settings
	plain := edgeListener(HTTPListener, opts.ListenAddress, opts.HTTPPort, "http", publicHTTPPort, s)
	edgeSettings(plain, m, nil)
	cfg.Listeners = []*ir.Listener{plain}
	lw := &lowering{httpsPort: opts.HTTPSRedirectPort, settings: s, done: map[loweredKey][]*ir.Route{}, labels: printsLabels(plain.AccessLog),
		credentials: map[string]*ir.Credentials{}}
	plain.VirtualHosts = lw.hosts(m, true)
	if len(m.Certificates) > 0 || len(m.Passthrough) > 0 {
		https := edgeListener(HTTPSListener, opts.ListenAddress, opts.HTTPSPort, "https", opts.HTTPSRedirectPort, s)
		https.TLS, https.TLSParams = hostChains(m, filterChains(m)), tlsParams(s)
		https.Passthrough = passthroughChains(m)
		https.VirtualHosts = lw.hosts(m, false)
		// ingress-nginx sends Strict-Transport-Security on every HTTPS
		// response unless the ConfigMap's hsts is "false".
		var hsts []ir.Header
		if v := s.HSTSValue(); v != "" {
			hsts = []ir.Header{{Name: "Strict-Transport-Security", Value: v}}
		}
		edgeSettings(https, m, hsts)
		if s.RealIP.ProxyProtocol {
			// A load balancer that terminated TLS says so with the PROXY
			// header's port 443: ingress-nginx then takes the scheme as
			// https, so such plain connections get the TLS routes.
			cfg.Listeners[0].PortRoutes = []ir.PortRoutes{{Port: 443, Routes: HTTPSListener}}
		}
		shareRoutes(plain, https)
		cfg.Listeners = append(cfg.Listeners, https)
	}
	internalHost(cfg.Listeners, m, opts)
	cfg.Credentials = credentials(lw.credentials)
	cfg.Streams = lowerStreams(m, opts)
	cfg.Clusters = make([]*ir.Cluster, 0, len(m.Backends))
	for _, be := range m.Backends {
		if be.Stream != "" {
			cfg.Clusters = append(cfg.Clusters, lowerStreamBackend(be))
			continue
		}
		cfg.Clusters = append(cfg.Clusters, lowerBackend(be, s))
	}
	for _, c := range m.Certificates {
		if n := len(cfg.Secrets); n > 0 && cfg.Secrets[n-1].Name == c.Secret {
			continue // certificates are sorted by Secret
		}
		cfg.Secrets = append(cfg.Secrets, &ir.Secret{Name: c.Secret, Chain: c.Chain, Key: c.Key})
	}
	if upstream := proxySSLSecrets(m.Backends); len(upstream) > 0 {
		cfg.Secrets = append(cfg.Secrets, upstream...)
	}
	if len(m.Certificates) > 0 {
		cfg.Secrets = append(cfg.Secrets, clientCASecrets(m)...)
	}
	slices.SortStableFunc(cfg.Secrets, func(x, y *ir.Secret) int { return strings.Compare(x.Name, y.Name) })
	lowerTracing(cfg, s)
	lowerRateLimitService(cfg, opts, s)
	return cfg
}

// edgeListener is a listener without its routes: what every listener
// does, whatever the Ingresses say, with the ConfigMap's settings s.
// scheme and port are the ones clients use, told to backends.
func edgeListener(name, address string, port uint32, scheme string, publicPort uint32, s *nginx.Settings) *ir.Listener {
	l := &ir.Listener{
		Name: name, Address: address, Port: port, Scheme: scheme,
		RequestHeaders:              forwardedHeaders(scheme, publicPort, &s.RealIP),
		RemoveRequestHeaders:        []string{"proxy"},
		AllowHeadersWithUnderscores: s.UnderscoresInHeaders,
		MaxBodyBytes:                listenerBodyLimit(s),
		Clients:                     clientConnections(&s.Clients),
		BackendServer:               s.Clients.BackendServerHeader,
		RealIP:                      lowerRealIP(&s.RealIP),
		Block:                       lowerBlock(&s.Block),
		LocalReplies:                localReplies(s),
		// nginx answers 502 when the TLS handshake with a backend fails.
		UpstreamTLSFailureStatus: http.StatusBadGateway,
	}
	// server_tokens off, as ingress-nginx has it by default, clears the
	// Server header; on, nginx names itself, and rukou names its proxy.
	if s.Clients.ServerTokens {
		l.Server = "envoy"
	}
	// ngx_brotli comes before gzip among nginx's filters: a client that
	// accepts both as much gets brotli.
	for _, c := range []struct {
		method ir.CompressionMethod
		conf   *nginx.Compression
	}{{ir.Brotli, &s.Brotli}, {ir.Gzip, &s.Gzip}} {
		if c.conf.On {
			l.Compression = append(l.Compression, compression(c.method, c.conf))
		}
	}
	return l
}

// clientConnections lowers the ConfigMap's client settings. nginx's
// keep-alive 0 serves one request per connection; so does
// keep-alive-requests 0. A connection that has not sent its first
// request yet is then bounded by the time allowed for headers, as nginx
// bounds it by client-header-timeout.
func clientConnections(c *nginx.Clients) ir.ClientConnections {
	out := ir.ClientConnections{
		IdleTimeout:          ir.Duration(c.KeepAlive),
		MaxRequests:          c.KeepAliveRequests,
		HeadersTimeout:       ir.Duration(c.HeaderTimeout),
		MaxHeaderBytes:       c.MaxHeaderBytes,
		MaxConcurrentStreams: c.MaxConcurrentStreams,
		HTTP1Only:            !c.HTTP2,
	}
	if c.KeepAlive == 0 || c.KeepAliveRequests == 0 {
		out.IdleTimeout, out.MaxRequests = out.HeadersTimeout, 1
	}
	return out
}

// compression lowers gzip or brotli; nginx's "*" compresses every type.
func compression(method ir.CompressionMethod, c *nginx.Compression) *ir.Compression {
	out := &ir.Compression{Method: method, Level: c.Level, MinLength: c.MinLength, SkipUserAgent: c.DisableUserAgent}
	if len(c.Types) != 1 || c.Types[0] != "*" {
		out.MediaTypes = c.Types
	}
	return out
}

// publicHTTPPort is the port clients reach the plain listener on, behind
// the Service's port 80, which X-Forwarded-Port tells backends.
const publicHTTPPort = 80

// edgeSettings gives a listener what every request or response through it
// gets from the ConfigMap's header and log keys: the request headers (the
// forwarded ones, then X-Original-URI and proxy-set-headers's, each
// replacing one of the same name), the response headers (response's, then
// add-headers's), the headers hidden, the request ID and the access log.
func edgeSettings(l *ir.Listener, m *Model, response []ir.Header) {
	s := &m.Settings
	l.NoRequestID = s.Headers.NoRequestID
	if s.Headers.OriginalURI {
		l.RequestHeaders = setHeader(l.RequestHeaders, ir.Header{Name: "X-Original-URI", Fields: []ir.LogField{{Value: ir.LogPath}}})
	}
	l.RequestHeaders, l.RemoveRequestHeaders = setHeaders(l.RequestHeaders, l.RemoveRequestHeaders, m.SetHeaders)
	l.ResponseHeaders, l.RemoveResponseHeaders = setHeaders(response, slices.Clone(s.Headers.Hide), m.AddHeaders)
	l.AccessLog = accessLog(&s.AccessLog)
}

// setHeaders sets each header of add on top of headers, or, when its
// value is empty, removes it (nginx sends no header whose value is empty).
func setHeaders(headers []ir.Header, remove []string, add []ir.Header) ([]ir.Header, []string) {
	for _, h := range add {
		if h.Value == "" && h.Fields == nil {
			headers = slices.DeleteFunc(headers, func(o ir.Header) bool { return strings.EqualFold(o.Name, h.Name) })
			remove = append(remove, strings.ToLower(h.Name))
			continue
		}
		headers = setHeader(headers, h)
	}
	return headers, remove
}

// setHeader replaces the header of h's name in headers, or appends h.
func setHeader(headers []ir.Header, h ir.Header) []ir.Header {
	if i := slices.IndexFunc(headers, func(o ir.Header) bool { return strings.EqualFold(o.Name, h.Name) }); i >= 0 {
		headers = slices.Clone(headers)
		headers[i] = h
		return headers
	}
	return append(headers, h)
}

// accessLog is the access log line the ConfigMap asks for
// (log-format-upstream, ingress-nginx's default when unset), which every
// request gets, or nil when disable-access-log is set. Requests that no
// rule serves are logged with enable-access-log-for-default-backend only.
func accessLog(s *nginx.AccessLogSettings) *ir.AccessLog {
	if s.Off {
		return nil
	}
	l := &ir.AccessLog{Fields: s.Fields, JSON: s.JSON, Stderr: s.Stderr, Unrouted: s.DefaultBackend, Skip: s.Skip}
	if l.Fields == nil && l.JSON == nil {
		l.Fields = nginx.DefaultLogFields()
	}
	return l
}

// tlsParams are the ConfigMap's ssl-protocols, ssl-ciphers and
// ssl-ecdh-curve, which every certificate's chain offers alike, as nginx
// sets them once for all its servers.
func tlsParams(s *nginx.Settings) *ir.TLSParams {
	p := s.TLS
	p.CipherSuites, p.Curves = slices.Clone(p.CipherSuites), slices.Clone(p.Curves)
	return &p
}

// filterChains gives each certificate its chain, chosen by the SNI of its
// hosts; the default certificate's chain takes the other clients.
func filterChains(m *Model) []*ir.FilterChain {
	var out []*ir.FilterChain
	for _, c := range m.Certificates {
		fc := &ir.FilterChain{Name: c.Secret, ServerNames: c.Hosts, Secret: c.Secret}
		if len(c.Hosts) == 0 {
			fc.Name = "default/" + c.Secret
		}
		out = append(out, fc)
	}
	return out
}

// passthroughChains hand each passthrough host's TLS connections, chosen
// by SNI, to its TCP backend.
func passthroughChains(m *Model) []*ir.PassthroughChain {
	var out []*ir.PassthroughChain
	for _, p := range m.Passthrough {
		out = append(out, &ir.PassthroughChain{Name: "passthrough/" + p.Host, ServerNames: []string{p.Host}, Cluster: p.Backend})
	}
	return out
}

// lowerBackend is the cluster of a Service port: an ExternalName Service's
// name is resolved by Envoy, its address used as it is; backend-protocol picks
// HTTP/2 for gRPC and TLS (not verified, as ingress-nginx does by default)
// for HTTPS and GRPCS; session affinity balances by the cookie's hash.
// The ConfigMap's settings s give the connect timeout (which the
// annotation overrides) and the keepalive of the connections.
func lowerBackend(be *Backend, s *nginx.Settings) *ir.Cluster {
	c := &ir.Cluster{
		Name: be.Name, Protocol: ir.HTTP1, ConnectTimeout: ir.Duration(s.ConnectTimeout),
		LoadBalancer: ir.RoundRobin, Endpoints: be.Endpoints,
		AlternativeName: be.AlternativeName, Pool: connectionPool(s.Keepalive),
	}
	if be.ConnectTimeout != 0 {
		c.ConnectTimeout = ir.Duration(be.ConnectTimeout)
	}
	c.MaxResponseHeaderKiB = cmp.Or(be.HeaderKiB, s.ResponseHeaderKiB)
	switch {
	case be.Affinity, be.Hash:
		c.LoadBalancer = ir.RingHash
	case be.Balance == nginx.BalanceEWMA:
		c.LoadBalancer = ir.LeastRequest
	}
	if be.ExternalName != "" {
		c.Discovery = ir.DiscoveryDNS
		if _, err := netip.ParseAddr(be.ExternalName); err == nil {
			c.Discovery = ir.DiscoveryStatic
		}
	}
	switch be.Protocol {
	case nginx.ProtocolHTTPS:
		c.TLS = &ir.UpstreamTLS{}
	case nginx.ProtocolGRPC:
		c.Protocol = ir.HTTP2
	case nginx.ProtocolGRPCS:
		c.Protocol, c.TLS = ir.HTTP2, &ir.UpstreamTLS{ALPN: []string{"h2"}}
	}
	if c.TLS != nil && be.ProxySSL != nil {
		lowerProxySSL(c.TLS, be.ProxySSL)
	}
	return c
}

// connectionPool is nginx's upstream keepalive: idle connections close
// after the keepalive timeout, any connection after its requests or its
// time; without keepalive connections, after each request.
func connectionPool(k nginx.Keepalive) *ir.ConnectionPool {
	p := &ir.ConnectionPool{IdleTimeout: ir.Duration(k.Timeout), MaxRequests: k.Requests, MaxLifetime: ir.Duration(k.Time)}
	if k.Connections == 0 {
		p.MaxRequests = 1
	}
	return p
}

// lowering lowers the virtual hosts of both listeners. A model route
// appears in several places (a hostless rule in every named host, a route
// on both listeners); where it lowers to the same routes, they are lowered
// once and shared, and the backend renders them once.
type lowering struct {
	httpsPort uint32
	settings  *nginx.Settings
	done      map[loweredKey][]*ir.Route
	// labels is set when the access log prints route labels, which the
	// routes then carry.
	labels bool
	// credentials are the users of the routes' basic authentication, by
	// name.
	credentials map[string]*ir.Credentials
}

// loweredKey is what the lowered routes of a model route depend on.
type loweredKey struct {
	route *Route
	// authority is the wildcard host whose one label the routes check,
	// or "".
	authority string
	// httpsHost is the host that the redirect to HTTPS names, when the
	// routes redirect there and the virtual host is one exact name.
	httpsHost string
	toHTTPS   bool
	// overTLS is set for the routes of the TLS listener when they differ
	// from the plain listener's (a backend of the client's scheme).
	overTLS bool
	// secure is set when the session cookie must be Secure because the
	// listener is TLS (and not already because the annotation says so).
	secure bool
}

// hosts lowers the virtual hosts for the plain listener (plain set), where
// the routes of TLS hosts redirect to HTTPS, or for the TLS one.
func (lw *lowering) hosts(m *Model, plain bool) []*ir.VirtualHost {
	out := make([]*ir.VirtualHost, 0, len(m.VirtualHosts))
	for _, vh := range m.VirtualHosts {
		out = append(out, lw.host(vh, plain))
	}
	return out
}

func (lw *lowering) host(vh *VirtualHost, plain bool) *ir.VirtualHost {
	out := &ir.VirtualHost{Name: vh.Host, Domains: []string{vh.Host}, Routes: make([]*ir.Route, 0, len(vh.Routes))}
	// A request of the hosts no rule names that no hostless rule serves
	// reaches ingress-nginx's default backend, which logs it only with
	// enable-access-log-for-default-backend.
	out.NoAccessLog = vh.NoAccessLog || vh.Host == WildcardHost && !lw.settings.AccessLog.DefaultBackend
	if vh.RedirectTo != "" {
		// from-to-www-redirect: the same URL on the other name, with 308
		// as ingress-nginx answers. The scheme is kept; the port is not.
		out.Routes = []*ir.Route{{
			Match:    ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
			Redirect: &ir.Redirect{Host: vh.RedirectTo, Code: 308},
			Source:   vh.Source,
		}}
		return out
	}
	wildcard := len(vh.Host) > 2 && vh.Host[:2] == "*."
	if vh.AppRoot != "" {
		// app-root answers "/" before any rule, as ingress-nginx's server
		// block does, without the query.
		match := ir.Match{Path: ir.PathMatch{Kind: ir.PathExact, Value: "/"}}
		if wildcard {
			match.Headers = append(match.Headers, oneLabelAuthority(vh.Host))
		}
		out.Routes = append(out.Routes, &ir.Route{
			Match: match, Redirect: &ir.Redirect{Path: vh.AppRoot, StripQuery: true, Code: 302}, Source: vh.Source,
		})
	}
	for _, r := range vh.Routes {
		key := loweredKey{route: r, toHTTPS: plain && (vh.TLS && !r.NoSSLRedirect || r.ForceSSLRedirect)}
		// An Ingress wildcard covers exactly one label, and the domain
		// "*.foo.com" matches any number, so the host's own rules (and its
		// own default backend) also check the authority. Hostless rules
		// and the catch-all apply to any host.
		if wildcard && !r.FromHostless && !r.CatchAll {
			key.authority = vh.Host
		}
		if key.toHTTPS && !wildcard && vh.Host != WildcardHost {
			key.httpsHost = vh.Host
		}
		key.overTLS = !plain && r.BackendOverTLS != ""
		if aff := affinityOf(r); !plain && aff != nil && !aff.Secure {
			key.secure = true
		}
		routes, ok := lw.done[key]
		if !ok {
			match := routeMatch(r)
			if key.authority != "" {
				match.Headers = append(match.Headers, oneLabelAuthority(key.authority))
			}
			routes = lowerRoute(r, match, lw.toHTTPS(key), !plain, lw.settings)
			for _, lr := range routes {
				lr.UpstreamName = r.UpstreamName
				if lw.labels {
					lr.LogLabels = logLabels(r)
				}
				lr.NoAccessLog = r.Policy != nil && r.Policy.NoAccessLog
				traceRoute(lr, r.Policy, lw.settings)
			}
			lw.protect(routes, r, vh.Host)
			lw.done[key] = routes
		}
		out.Routes = append(out.Routes, routes...)
	}
	if vh.ClientCert != nil {
		out.Routes = clientCertRoutes(vh, out.Routes, plain)
	}
	return out
}

// toHTTPS is the redirect of the plain listener's routes of a TLS host, or
// nil: 308, which keeps the method and body, to the same path and query,
// as ingress-nginx redirects. An exact host is named with the HTTPS port
// clients use, left out when it is 443; under a wildcard the request's
// own host stays, with the port always named.
func (lw *lowering) toHTTPS(key loweredKey) *ir.Redirect {
	if !key.toHTTPS {
		return nil
	}
	rd := &ir.Redirect{Scheme: "https", Host: key.httpsHost, Port: lw.httpsPort, Code: 308}
	if rd.Host != "" && rd.Port == 443 {
		rd.Port = 0
	}
	return rd
}

// printsLabels reports whether an access log prints route labels.
func printsLabels(l *ir.AccessLog) bool {
	if l == nil {
		return false
	}
	var members func([]ir.LogMember) bool
	fields := func(fs []ir.LogField) bool {
		return slices.ContainsFunc(fs, func(f ir.LogField) bool { return f.Value == ir.LogRouteLabel })
	}
	members = func(ms []ir.LogMember) bool {
		return slices.ContainsFunc(ms, func(m ir.LogMember) bool { return fields(m.Fields) || members(m.Object) })
	}
	return fields(l.Fields) || members(l.JSON)
}

// logLabels are the values ingress-nginx sets in an Ingress path's
// location for its log ($namespace, $ingress_name, $service_name,
// $service_port), nil for routes of no Ingress path.
func logLabels(r *Route) map[string]string {
	ns, name, ok := strings.Cut(r.Source, "/")
	if !ok || r.Service == "" {
		return nil
	}
	return map[string]string{
		nginx.LabelNamespace: ns, nginx.LabelIngressName: name,
		nginx.LabelServiceName: r.Service, nginx.LabelServicePort: r.ServicePort,
	}
}

func affinityOf(r *Route) *nginx.Affinity {
	if r.Policy == nil {
		return nil
	}
	return r.Policy.Affinity
}
