package translator

import (
	"regexp"
	"strings"
	"time"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// readTimeout is ingress-nginx's default proxy-read-timeout: how long the
// backend may stay silent, before its response starts or between two of
// its reads. It bounds no whole request: a download or a stream that keeps
// sending runs as long as it does.
const readTimeout = 60 * time.Second

// streamIdleTimeout is the connection manager's stream idle timeout, which
// rukou leaves at Envoy's default: a stream with no bytes in either
// direction for this long is closed, unless its route says otherwise.
const streamIdleTimeout = 5 * time.Minute

// routeConfiguration renders the virtual hosts. On the plain HTTP listener
// (plain set) the routes of TLS hosts redirect to HTTPS.
func routeConfiguration(name string, m *Model, plain bool, httpsPort uint32) *envoy_config_route_v3.RouteConfiguration {
	rc := &envoy_config_route_v3.RouteConfiguration{
		Name: name,
		// Hosts match without the port of the Host header.
		IgnorePortInHostMatching: true,
	}
	for _, vh := range m.VirtualHosts {
		rc.VirtualHosts = append(rc.VirtualHosts, virtualHost(vh, plain, httpsPort))
	}
	return rc
}

func virtualHost(vh *VirtualHost, plain bool, httpsPort uint32) *envoy_config_route_v3.VirtualHost {
	out := &envoy_config_route_v3.VirtualHost{Name: vh.Host, Domains: []string{vh.Host}}
	if vh.RedirectTo != "" {
		// from-to-www-redirect: the same URL on the other name, with 308
		// as ingress-nginx answers. The scheme is kept; the port is not.
		out.Routes = []*envoy_config_route_v3.Route{{
			Match: &envoy_config_route_v3.RouteMatch{PathSpecifier: &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}},
			Action: &envoy_config_route_v3.Route_Redirect{Redirect: &envoy_config_route_v3.RedirectAction{
				HostRedirect: vh.RedirectTo,
				ResponseCode: envoy_config_route_v3.RedirectAction_PERMANENT_REDIRECT,
			}},
		}}
		return out
	}
	if vh.AppRoot != "" {
		// app-root answers "/" before any rule, as ingress-nginx's server
		// block does, without the query.
		match := &envoy_config_route_v3.RouteMatch{PathSpecifier: &envoy_config_route_v3.RouteMatch_Path{Path: "/"}}
		if strings.HasPrefix(vh.Host, "*.") {
			match.Headers = append(match.Headers, oneLabelAuthority(vh.Host))
		}
		out.Routes = append(out.Routes, &envoy_config_route_v3.Route{
			Match: match,
			Action: &envoy_config_route_v3.Route_Redirect{Redirect: &envoy_config_route_v3.RedirectAction{
				PathRewriteSpecifier: &envoy_config_route_v3.RedirectAction_PathRedirect{PathRedirect: vh.AppRoot},
				StripQuery:           true,
				ResponseCode:         envoy_config_route_v3.RedirectAction_FOUND,
			}},
		})
	}
	for _, r := range vh.Routes {
		match := routeMatch(r)
		// Envoy's "*.foo.com" also matches "a.b.foo.com", but an Ingress
		// wildcard covers exactly one label, so the host's own rules (and
		// its own default backend) also check the authority. Hostless rules
		// and the catch-all apply to any host.
		if strings.HasPrefix(vh.Host, "*.") && !r.FromHostless && !r.CatchAll {
			match.Headers = append(match.Headers, oneLabelAuthority(vh.Host))
		}
		out.Routes = append(out.Routes, routes(r, match, plain && (vh.TLS && !r.NoSSLRedirect || r.ForceSSLRedirect), !plain, httpsPort)...)
	}
	return out
}

// routes renders one model route: a single redirect or direct answer, or
// the routes that proxy it (a CORS preflight answer, canary choices, and
// the route itself), which all share its match. overTLS is set for the
// routes of the HTTPS listener.
func routes(r *Route, match *envoy_config_route_v3.RouteMatch, toHTTPS, overTLS bool, httpsPort uint32) []*envoy_config_route_v3.Route {
	var out []*envoy_config_route_v3.Route
	if r.Policy != nil && r.Policy.CORS != nil && r.DirectStatus == 0 {
		// A preflight is answered before any redirect, as ingress-nginx's
		// CORS block returns before its redirects do.
		out = append(out, corsPreflight(r.Policy.CORS, match))
	}
	switch {
	case r.Redirect != nil:
		// A fixed redirect answers before the HTTPS redirect, as
		// ingress-nginx's return comes before its TLS redirect.
		return append(out, &envoy_config_route_v3.Route{Match: match, Action: fixedRedirect(r.Redirect)})
	case toHTTPS:
		// 308 keeps the method and body, and the path and query stay as
		// they were, as ingress-nginx redirects.
		return append(out, &envoy_config_route_v3.Route{Match: match, Action: &envoy_config_route_v3.Route_Redirect{Redirect: &envoy_config_route_v3.RedirectAction{
			SchemeRewriteSpecifier: &envoy_config_route_v3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
			// The port clients use for HTTPS (443 behind a load balancer,
			// the NodePort otherwise), never the port of the plain HTTP
			// request.
			PortRedirect: httpsPort,
			ResponseCode: envoy_config_route_v3.RedirectAction_PERMANENT_REDIRECT,
		}}})
	case r.DirectStatus != 0:
		return []*envoy_config_route_v3.Route{{Match: match, Action: &envoy_config_route_v3.Route_DirectResponse{
			DirectResponse: &envoy_config_route_v3.DirectResponseAction{Status: r.DirectStatus},
		}}}
	}
	if c := r.Canary; c != nil {
		for _, choice := range canaryChoices(r.Backend, c) {
			m := cloneMatch(match)
			m.Headers = append(m.Headers, choice.when)
			out = append(out, proxyRoute(r, m, choice.cluster, overTLS))
		}
	}
	return append(out, proxyRoute(r, match, nil, overTLS))
}

// proxyRoute renders a route that proxies to cluster, or, when cluster is
// nil, to the route's backend and any canary by weight.
func proxyRoute(r *Route, match *envoy_config_route_v3.RouteMatch, cluster *string, overTLS bool) *envoy_config_route_v3.Route {
	action := &envoy_config_route_v3.RouteAction{
		ClusterSpecifier: &envoy_config_route_v3.RouteAction_Cluster{Cluster: r.Backend},
		// No bound on the whole request, as nginx has none; the read
		// timeout bounds each silence of the backend instead.
		Timeout:     durationpb.New(0),
		RetryPolicy: readTimeoutPolicy(readTimeout),
	}
	switch {
	case cluster != nil:
		action.ClusterSpecifier = &envoy_config_route_v3.RouteAction_Cluster{Cluster: *cluster}
	case r.Canary != nil:
		setClusters(action, r.Backend, r.Canary)
	}
	if rw := r.Rewrite; rw != nil {
		action.RegexRewrite = &envoy_type_matcher_v3.RegexMatchAndSubstitute{
			Pattern:      &envoy_type_matcher_v3.RegexMatcher{Regex: `(?i)^(?:` + rw.Pattern + `).*`},
			Substitution: substitution(rw),
		}
	}
	route := &envoy_config_route_v3.Route{Match: match, Action: &envoy_config_route_v3.Route_Route{Route: action}}
	if p := r.Policy; p != nil {
		applyPolicy(route, action, p, r, overTLS)
	}
	return route
}

// applyPolicy renders what a Policy asks of a proxied route.
func applyPolicy(route *envoy_config_route_v3.Route, action *envoy_config_route_v3.RouteAction, p *Policy, r *Route, overTLS bool) {
	read := readTimeout
	if p.ReadTimeout != 0 {
		read = p.ReadTimeout
		action.RetryPolicy = readTimeoutPolicy(read)
	}
	if p.SendTimeout != 0 || read > streamIdleTimeout {
		// Envoy's closest setting to the send timeout is the stream idle
		// timeout, which also runs while the backend thinks; it is never
		// shorter than the read timeout, so that a response arriving in
		// time is never cut. A read timeout longer than the connection
		// manager's stream idle timeout raises it too: the per-try idle
		// timer stops at a WebSocket upgrade, and long-lived streams are
		// then bounded by the idle timeout alone.
		action.IdleTimeout = durationpb.New(max(p.SendTimeout, read))
	}
	if p.UpstreamHost != "" {
		action.HostRewriteSpecifier = &envoy_config_route_v3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: p.UpstreamHost}
	}
	if aff := p.Affinity; aff != nil {
		action.HashPolicy = []*envoy_config_route_v3.RouteAction_HashPolicy{sessionCookie(aff, r, overTLS)}
		if wc := action.GetWeightedClusters(); wc != nil && r.Canary != nil && !r.Canary.Legacy {
			// The cookie, not chance, picks between the canary and the
			// primary, so a client that has it stays on one side.
			wc.RandomValueSpecifier = &envoy_config_route_v3.WeightedCluster_UseHashPolicy{UseHashPolicy: wrapperspb.Bool(true)}
		}
	}
	if p.ForwardedPrefix != "" && r.Rewrite != nil {
		// Envoy reads the values of headers it adds as format strings, in
		// which "%%" is a literal "%" (of a %-escape in the path).
		route.RequestHeadersToAdd = append(route.RequestHeadersToAdd,
			header("X-Forwarded-Prefix", strings.ReplaceAll(p.ForwardedPrefix, "%", "%%")))
	}
	route.TypedPerFilterConfig = filterConfigs(p)
	if p.CORS != nil && allOrigins(p.CORS) {
		route.ResponseHeadersToAdd = append(route.ResponseHeadersToAdd, corsHeaders(p.CORS, "*")...)
	}
}

// sessionCookie is the hash policy of session affinity: Envoy hashes the
// cookie to pick an endpoint, and sets it on the response when the request
// has none. Over TLS the cookie is always Secure, as ingress-nginx makes it.
func sessionCookie(aff *Affinity, r *Route, overTLS bool) *envoy_config_route_v3.RouteAction_HashPolicy {
	path := aff.CookiePath
	if path == "" {
		path = cookiePath(r)
	}
	cookie := &envoy_config_route_v3.RouteAction_HashPolicy_Cookie{
		Name: aff.CookieName,
		// A TTL makes Envoy set the cookie when the request has none; zero
		// makes it a session cookie.
		Ttl:  durationpb.New(aff.MaxAge),
		Path: path,
	}
	attribute := func(name, value string) {
		cookie.Attributes = append(cookie.Attributes, &envoy_config_route_v3.RouteAction_HashPolicy_CookieAttribute{Name: name, Value: value})
	}
	if aff.Domain != "" {
		attribute("Domain", aff.Domain)
	}
	if aff.SameSite != "" {
		attribute("SameSite", aff.SameSite)
	}
	if aff.Secure || overTLS {
		attribute("Secure", "")
	}
	if aff.Partitioned {
		attribute("Partitioned", "")
	}
	return &envoy_config_route_v3.RouteAction_HashPolicy{
		PolicySpecifier: &envoy_config_route_v3.RouteAction_HashPolicy_Cookie_{Cookie: cookie},
	}
}

// cookiePath is the default Path of a session cookie: the rule's path, as
// ingress-nginx sets it, or "/" for a regular expression.
func cookiePath(r *Route) string {
	if r.Match == PathRegex {
		return "/"
	}
	return r.Path
}

// substitution turns a rewrite target into RE2's substitution syntax: $n
// becomes \n, and a group the pattern does not have becomes nothing, as an
// unset capture does in nginx. The target holds no backslash.
func substitution(rw *Rewrite) string {
	var b strings.Builder
	t := rw.Target
	for i := 0; i < len(t); i++ {
		if t[i] == '$' && i+1 < len(t) && '1' <= t[i+1] && t[i+1] <= '9' {
			if int(t[i+1]-'0') <= rw.Groups {
				b.WriteByte('\\')
				b.WriteByte(t[i+1])
			}
			i++
			continue
		}
		b.WriteByte(t[i])
	}
	return b.String()
}

// fixedRedirect renders permanent-redirect or temporal-redirect: the URL as
// given, without the request's path or query.
func fixedRedirect(rd *Redirect) *envoy_config_route_v3.Route_Redirect {
	codes := map[uint32]envoy_config_route_v3.RedirectAction_RedirectResponseCode{
		301: envoy_config_route_v3.RedirectAction_MOVED_PERMANENTLY,
		302: envoy_config_route_v3.RedirectAction_FOUND,
		303: envoy_config_route_v3.RedirectAction_SEE_OTHER,
		307: envoy_config_route_v3.RedirectAction_TEMPORARY_REDIRECT,
		308: envoy_config_route_v3.RedirectAction_PERMANENT_REDIRECT,
	}
	action := &envoy_config_route_v3.RedirectAction{
		SchemeRewriteSpecifier: &envoy_config_route_v3.RedirectAction_SchemeRedirect{SchemeRedirect: rd.Scheme},
		HostRedirect:           rd.Host,
		PortRedirect:           rd.Port,
		ResponseCode:           codes[rd.Code],
	}
	if rd.PathAndQuery != "" {
		action.PathRewriteSpecifier = &envoy_config_route_v3.RedirectAction_PathRedirect{PathRedirect: rd.PathAndQuery}
		action.StripQuery = true
	}
	return &envoy_config_route_v3.Route_Redirect{Redirect: action}
}

func routeMatch(r *Route) *envoy_config_route_v3.RouteMatch {
	m := &envoy_config_route_v3.RouteMatch{}
	switch {
	case r.Match == PathExact:
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_Path{Path: r.Path}
	case r.Match == PathRegex:
		// ingress-nginx's location ~* "^path": case-insensitive, from the
		// start of the path; Envoy matches the whole path (without query).
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{
			Regex: `(?i)(?:` + r.Path + `).*`,
		}}
	case r.Path == "/":
		// path_separated_prefix must not end with "/"; "/" matches everything.
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}
	default:
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: r.Path}
	}
	return m
}

// oneLabelAuthority matches an authority that is exactly one label in front
// of the wildcard's suffix, with or without a port, in any letter case.
func oneLabelAuthority(wildcard string) *envoy_config_route_v3.HeaderMatcher {
	suffix := regexp.QuoteMeta(strings.TrimPrefix(wildcard, "*"))
	return regexHeader(":authority", `(?i)[^.:]+`+suffix+`(:[0-9]+)?`)
}

func cloneMatch(m *envoy_config_route_v3.RouteMatch) *envoy_config_route_v3.RouteMatch {
	return proto.Clone(m).(*envoy_config_route_v3.RouteMatch)
}

// regexHeader matches a header whose whole value matches re.
func regexHeader(name, re string) *envoy_config_route_v3.HeaderMatcher {
	return &envoy_config_route_v3.HeaderMatcher{
		Name: name,
		HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: &envoy_type_matcher_v3.StringMatcher{
			MatchPattern: &envoy_type_matcher_v3.StringMatcher_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: re}},
		}},
	}
}

// exactHeader matches a header whose value is exactly v.
func exactHeader(name, v string) *envoy_config_route_v3.HeaderMatcher {
	return &envoy_config_route_v3.HeaderMatcher{
		Name: name,
		HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: &envoy_type_matcher_v3.StringMatcher{
			MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: v},
		}},
	}
}

// readTimeoutPolicy is nginx's proxy_read_timeout in Envoy's terms: the
// router's per-try idle timeout, which runs from the request's last byte
// sent upstream to the response's first, and between any two bytes, and
// answers 504 when the response has not started. It retries nothing.
func readTimeoutPolicy(d time.Duration) *envoy_config_route_v3.RetryPolicy {
	return &envoy_config_route_v3.RetryPolicy{PerTryIdleTimeout: durationpb.New(d), NumRetries: wrapperspb.UInt32(0)}
}
