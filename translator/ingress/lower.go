package ingress

import (
	"net/netip"
	"strconv"
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
	cfg.Listeners = []*ir.Listener{{
		Name: HTTPListener, Address: opts.ListenAddress, Port: opts.HTTPPort,
		RequestHeaders:              forwardedHeaders("http", publicHTTPPort),
		RemoveRequestHeaders:        []string{"proxy"},
		AllowHeadersWithUnderscores: s.UnderscoresInHeaders,
		AccessLog:                   accessLog(),
	}}
	lw := &lowering{httpsPort: opts.HTTPSRedirectPort, settings: s, done: map[loweredKey][]*ir.Route{}}
	cfg.Listeners[0].VirtualHosts = lw.hosts(m, true)
	if len(m.Certificates) > 0 {
		https := &ir.Listener{
			Name: HTTPSListener, Address: opts.ListenAddress, Port: opts.HTTPSPort,
			TLS:                         filterChains(m),
			VirtualHosts:                lw.hosts(m, false),
			RequestHeaders:              forwardedHeaders("https", opts.HTTPSRedirectPort),
			RemoveRequestHeaders:        []string{"proxy"},
			AllowHeadersWithUnderscores: s.UnderscoresInHeaders,
			AccessLog:                   accessLog(),
		}
		// ingress-nginx sends Strict-Transport-Security on every HTTPS
		// response unless the ConfigMap's hsts is "false".
		if v := s.HSTSValue(); v != "" {
			https.ResponseHeaders = []ir.Header{{Name: "Strict-Transport-Security", Value: v}}
		}
		cfg.Listeners = append(cfg.Listeners, https)
	}
	cfg.Clusters = make([]*ir.Cluster, 0, len(m.Backends))
	for _, be := range m.Backends {
		cfg.Clusters = append(cfg.Clusters, lowerBackend(be, s))
	}
	for _, c := range m.Certificates {
		if n := len(cfg.Secrets); n > 0 && cfg.Secrets[n-1].Name == c.Secret {
			continue // certificates are sorted by Secret
		}
		cfg.Secrets = append(cfg.Secrets, &ir.Secret{Name: c.Secret, Chain: c.Chain, Key: c.Key})
	}
	return cfg
}

// publicHTTPPort is the port clients reach the plain listener on, behind
// the Service's port 80, which X-Forwarded-Port tells backends.
const publicHTTPPort = 80

// forwardedHeaders are the headers ingress-nginx sets on every proxied
// request by default: the client's address replaces any X-Forwarded-For
// the client sent (which goes on as X-Original-Forwarded-For), so that a
// backend trusting the header gets the real peer; the Host, port and
// scheme the client used. (The Proxy header is removed, against httpoxy.)
func forwardedHeaders(scheme string, port uint32) []ir.Header {
	return []ir.Header{
		{Name: "X-Original-Forwarded-For", FromRequest: "x-forwarded-for"},
		{Name: "X-Original-Forwarded-Host", FromRequest: "x-forwarded-host"},
		{Name: "X-Forwarded-For", FromConnection: ir.ClientAddress},
		{Name: "X-Real-IP", FromConnection: ir.ClientAddress},
		{Name: "X-Forwarded-Host", FromRequest: ":authority"},
		{Name: "X-Forwarded-Port", Value: strconv.FormatUint(uint64(port), 10)},
		{Name: "X-Forwarded-Proto", Value: scheme},
		{Name: "X-Forwarded-Scheme", Value: scheme},
		{Name: "X-Scheme", Value: scheme},
	}
}

// accessLog is ingress-nginx's default access log line
// (log-format-upstream), which it writes for every request.
func accessLog() *ir.AccessLog {
	fields, err := nginx.ParseLogFormat(nginx.DefaultLogFormat)
	if err != nil {
		// The default is a constant that translator/nginx's tests parse.
		panic(err)
	}
	return &ir.AccessLog{Fields: fields}
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
	if be.Affinity {
		c.LoadBalancer = ir.RingHash
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
			}
			lw.done[key] = routes
		}
		out.Routes = append(out.Routes, routes...)
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

func affinityOf(r *Route) *nginx.Affinity {
	if r.Policy == nil {
		return nil
	}
	return r.Policy.Affinity
}
