package ingress

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// lowerRoute lowers one route of the model: a single redirect or direct
// answer, or the routes that proxy it (a CORS preflight answer, the canary
// choices, and the route itself), which all share its match. toHTTPS is
// the redirect of a TLS host's routes on the plain listener; overTLS is set
// for the routes of the TLS listener; s holds the ConfigMap's defaults.
func lowerRoute(r *Route, match ir.Match, toHTTPS *ir.Redirect, overTLS bool, s *nginx.Settings) []*ir.Route {
	var out []*ir.Route
	if r.Policy != nil && r.Policy.CORS != nil && r.DirectStatus == 0 {
		// A preflight is answered before any redirect, as ingress-nginx's
		// CORS block returns before its redirects do.
		out = append(out, corsPreflight(r.Policy.CORS, match, r.Source))
	}
	switch {
	case r.Redirect != nil:
		// A fixed redirect answers before the HTTPS redirect, as
		// ingress-nginx's return comes before its TLS redirect.
		return append(out, fixedRedirect(r.Redirect, match, r.Source))
	case toHTTPS != nil && !s.RealIP.UseForwardedHeaders:
		return append(out, &ir.Route{Match: match, Redirect: toHTTPS, Source: r.Source})
	case toHTTPS != nil:
		out = append(out, schemeRedirect(match, toHTTPS, r.Source))
	}
	if r.DirectStatus != 0 {
		return append(out, &ir.Route{Match: match, Direct: &ir.Direct{Status: r.DirectStatus}, Source: r.Source})
	}
	if c := r.Canary; c != nil {
		for _, choice := range stickyChoices(r.Backend, c, affinityOf(r)) {
			m := cloneMatch(match)
			m.Headers = append(m.Headers, choice.when)
			out = append(out, proxyRoute(r, m, choice.cluster, overTLS, s))
		}
		for _, choice := range canaryChoices(r.Backend, c) {
			m := cloneMatch(match)
			m.Headers = append(m.Headers, choice.when)
			out = append(out, issueSideCookies(proxyRoute(r, m, choice.cluster, overTLS, s), c))
		}
	}
	return append(out, issueSideCookies(proxyRoute(r, match, "", overTLS, s), r.Canary))
}

// schemeRedirect is the redirect to HTTPS behind a proxy whose forwarded
// headers are trusted (use-forwarded-headers): only a request whose
// X-Forwarded-Proto is "http" (which Envoy sets when the header is absent)
// is redirected, as ingress-nginx redirects when the scheme it passes on
// is http; one that a proxy in front received over TLS goes on to the
// routes after it.
func schemeRedirect(match ir.Match, toHTTPS *ir.Redirect, source string) *ir.Route {
	m := cloneMatch(match)
	m.Headers = append(m.Headers, ir.HeaderMatch{Name: "x-forwarded-proto", Exact: "http"})
	return &ir.Route{Match: m, Redirect: toHTTPS, Source: source}
}

// routeMatch is the path match of a route. In regex mode the rule's path
// matches case-insensitively from the start of the path, as ingress-nginx's
// location ~* "^path" does; a route match holds the whole path.
func routeMatch(r *Route) ir.Match {
	switch r.Match {
	case PathExact:
		return ir.Match{Path: ir.PathMatch{Kind: ir.PathExact, Value: r.Path}}
	case PathRegex:
		return ir.Match{Path: ir.PathMatch{Kind: ir.PathRegex, Value: `(?i)(?:` + r.Path + `).*`}}
	}
	return ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: r.Path}}
}

// oneLabelAuthority matches an authority that is exactly one label in front
// of the wildcard's suffix, with or without a port, in any letter case.
func oneLabelAuthority(wildcard string) ir.HeaderMatch {
	suffix := regexp.QuoteMeta(strings.TrimPrefix(wildcard, "*"))
	return ir.HeaderMatch{Name: ":authority", Regex: `(?i)[^.:]+` + suffix + `(:[0-9]+)?`}
}

func cloneMatch(m ir.Match) ir.Match {
	m.Headers = slices.Clone(m.Headers)
	return m
}

// fixedRedirect lowers permanent-redirect or temporal-redirect as nginx's
// return CODE URL: a direct answer whose Location is the URL as written,
// followed by the request's path and query where the URL keeps them. A
// relative URL is made absolute, as nginx does unless relative-redirects
// says otherwise: a redirect to the path on the request's scheme and host,
// without the port unless use-port-in-redirects keeps it.
func fixedRedirect(rd *nginx.Redirect, match ir.Match, source string) *ir.Route {
	if rd.Host == "" && !rd.Relative {
		to := &ir.Redirect{Code: rd.Code, Path: rd.PathAndQuery, StripQuery: true, DropPort: !rd.KeepPort}
		return &ir.Route{Match: match, Redirect: to, Source: source}
	}
	location := ir.Header{Name: "Location", Value: rd.Location()}
	if rd.KeepRequestURI {
		location.FromRequest = ":path"
	}
	return &ir.Route{Match: match, Direct: &ir.Direct{Status: rd.Code}, ResponseHeaders: []ir.Header{location}, Source: source}
}

// proxyRoute lowers a route that proxies to cluster, or, when cluster is
// empty, to the route's backend and any canary by weight. The ConfigMap's
// settings s give the timeouts and retries that annotations do not.
func proxyRoute(r *Route, match ir.Match, cluster string, overTLS bool, s *nginx.Settings) *ir.Route {
	fw := &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: r.Backend}}}
	switch {
	case cluster != "":
		fw.Backends = []ir.WeightedCluster{{Cluster: cluster}}
	case r.Canary != nil:
		fw.Backends = canaryWeights(r.Backend, r.Canary)
	case overTLS && r.BackendOverTLS != "":
		// A route with a canary keeps its clusters in clear text: the
		// canary's backends follow the primary's HTTP kind.
		fw.Backends = []ir.WeightedCluster{{Cluster: r.BackendOverTLS}}
	}
	if rw := r.Rewrite; rw != nil {
		fw.PathRewrite = &ir.RegexRewrite{Pattern: `(?i)^(?:` + rw.Pattern + `).*`, Substitution: substitution(rw)}
	}
	route := &ir.Route{Match: match, Forward: fw, Source: r.Source}
	p := r.Policy
	if p == nil {
		p = &nginx.Policy{}
	}
	applyPolicy(route, p, r, overTLS, s)
	return route
}

// applyPolicy lowers what an Ingress's annotations ask of a proxied route,
// with the ConfigMap's defaults s where they ask nothing.
func applyPolicy(route *ir.Route, p *nginx.Policy, r *Route, overTLS bool, s *nginx.Settings) {
	fw := route.Forward
	read, send := cmp.Or(p.ReadTimeout, s.ReadTimeout), cmp.Or(p.SendTimeout, s.SendTimeout)
	fw.IdleTimeout = ir.Duration(read)
	if send != 0 || read > streamIdleTimeout {
		// Envoy's closest setting to the send timeout is the stream idle
		// timeout, which also runs while the backend thinks; it is never
		// shorter than the read timeout, so that a response arriving in
		// time is never cut. A read timeout longer than the listener's
		// stream idle timeout raises it too: the read timeout stops at a
		// WebSocket upgrade, and long-lived streams are then bounded by
		// the idle timeout alone.
		fw.StreamIdleTimeout = ir.Duration(max(send, read))
	}
	fw.HostRewrite = p.UpstreamHost
	fw.Mirrors = mirrors(p)
	if fw.HostRewrite == "" && s.RealIP.UseForwardedHeaders {
		// ingress-nginx sends the Host the forwarded headers give
		// (its $best_http_host).
		fw.HostFromRequest = "x-forwarded-host"
	}
	retry := s.Retry
	if p.Retry != nil {
		retry = *p.Retry
	}
	fw.Retry, fw.Timeout = lowerRetry(retry, s.RetryNonIdempotent), ir.Duration(retry.Timeout)
	if aff := p.Affinity; aff != nil {
		fw.SessionCookie = sessionCookie(aff, r, overTLS)
		if r.Canary != nil {
			// Envoy's stateful session cookie names an endpoint, and
			// cannot say which side issued it: with a canary, the
			// cookie's hash keeps the endpoint.
			fw.SessionCookie.Persistent = false
		}
	} else {
		fw.HashBy = p.HashBy
	}
	if c := p.Tuning.ConnectionHeader; c != "" {
		route.RequestHeaders = append(route.RequestHeaders, ir.Header{Name: "Connection", Value: c})
	}
	if p.ForwardedPrefix != "" && r.Rewrite != nil {
		route.RequestHeaders = append(route.RequestHeaders, ir.Header{Name: "X-Forwarded-Prefix", Value: p.ForwardedPrefix})
	}
	route.Policy = routePolicy(p, s)
	if r.ErrorPages != nil {
		if route.Policy == nil {
			route.Policy = &ir.Policy{}
		}
		route.Policy.ErrorPages = errorPages(r)
		route.RequestHeaders = append(route.RequestHeaders, originalURI)
	}
	route.ResponseHeaders = append(route.ResponseHeaders, p.ResponseHeaders...)
	if p.CORS != nil && p.CORS.AllOrigins() {
		route.ResponseHeaders = append(route.ResponseHeaders, corsHeaders(p.CORS, ir.Header{Value: "*"})...)
	}
}

// lowerRetry lowers nginx's proxy_next_upstream: "error" and "timeout"
// retry failed connections (for every method, as the request was never
// sent) and, after the request was sent, dropped connections and read
// timeouts; "invalid_header" the latter; http_NNN their statuses.
// proxy_next_upstream_tries counts the first try. nil when nothing
// retries.
func lowerRetry(r nginx.Retry, nonIdempotent bool) *ir.Retry {
	if r.On.Off() || r.Tries < 2 {
		return nil
	}
	return &ir.Retry{
		Attempts:       r.Tries - 1,
		ConnectFailure: r.On.Error || r.On.Timeout,
		Reset:          r.On.Error || r.On.Timeout || r.On.InvalidHeader,
		Statuses:       r.On.Statuses,
		NonIdempotent:  r.On.NonIdempotent || nonIdempotent,
	}
}

// routePolicy is what a route's filters check, or nil when nothing.
func routePolicy(p *nginx.Policy, s *nginx.Settings) *ir.Policy {
	out := &ir.Policy{Access: p.Access, ResponseKiBps: s.LimitRate, ResponseRewrite: p.ResponseRewrite}
	if p.Tuning.LimitRate != nil {
		out.ResponseKiBps = *p.Tuning.LimitRate
	}
	// The listener holds the default limit; a route states only another.
	if limit := routeBodyLimit(p, s); limit != listenerBodyLimit(s) {
		out.MaxBodyBytes = &limit
	}
	if p.CORS != nil && !p.CORS.AllOrigins() {
		out.CORS = corsPolicy(p.CORS)
	}
	if rl := p.RateLimit; rl != nil && (rl.RPS != 0 || rl.RPM != 0) {
		out.RateLimit = &ir.RateLimit{PerSecond: rl.RPS, PerMinute: rl.RPM, BurstMultiplier: rl.BurstMultiplier, Exempt: rl.Exempt}
		if s.LimitReqStatus != http.StatusServiceUnavailable {
			out.RateLimit.Status = s.LimitReqStatus
		}
	}
	if g := p.GlobalRateLimit; g != nil {
		out.GlobalRateLimit = &ir.GlobalRateLimit{ID: g.ID, Limit: g.Limit, Unit: g.Unit, Key: g.Key, Ignored: g.Ignored}
	}
	if rl := p.RateLimit; rl != nil && rl.Connections != 0 {
		out.ConnectionLimit = &ir.ConnectionLimit{Max: rl.Connections, Scope: rl.Scope, Exempt: rl.Exempt}
		if s.LimitConnStatus != http.StatusServiceUnavailable {
			out.ConnectionLimit.Status = s.LimitConnStatus
		}
	}
	if *out == (ir.Policy{}) {
		return nil
	}
	return out
}

// listenerBodyLimit is the body size limit of routes that set none of
// their own: a body streamed (proxy-request-buffering: off) cannot be
// counted, so it has none.
func listenerBodyLimit(s *nginx.Settings) uint64 {
	if !s.RequestBuffering {
		return 0
	}
	return s.MaxBodyBytes
}

// routeBodyLimit is the body size limit of a route, zero when its body
// streams.
func routeBodyLimit(p *nginx.Policy, s *nginx.Settings) uint64 {
	limit, buffered := s.MaxBodyBytes, s.RequestBuffering
	if p.MaxBodyBytes != nil {
		limit = *p.MaxBodyBytes
	}
	if p.Tuning.RequestBuffering != nil {
		buffered = *p.Tuning.RequestBuffering
	}
	if !buffered {
		return 0
	}
	return limit
}

// sessionCookie keeps a client on one endpoint with a cookie. Over TLS the
// cookie is always Secure, as ingress-nginx makes it.
func sessionCookie(aff *nginx.Affinity, r *Route, overTLS bool) *ir.SessionCookie {
	// Envoy's stateful session sets the cookie again whenever another
	// endpoint answered, a retry after a failure included: what
	// change-on-failure asks. Its cookie names the endpoint, so sessions
	// then stay where they are when endpoints join, as in persistent mode.
	c := &ir.SessionCookie{Name: aff.CookieName, TTL: ir.Duration(aff.MaxAge), Expires: ir.Duration(aff.Expires), Path: aff.CookiePath, Persistent: aff.Persistent || aff.ChangeOnFailure}
	if c.Path == "" {
		// The rule's path, as ingress-nginx sets it, or "/" for a
		// regular expression.
		c.Path = r.Path
		if r.Match == PathRegex {
			c.Path = "/"
		}
	}
	if aff.Domain != "" {
		c.Attributes = append(c.Attributes, ir.CookieAttribute{Name: "Domain", Value: aff.Domain})
	}
	if aff.SameSite != "" {
		c.Attributes = append(c.Attributes, ir.CookieAttribute{Name: "SameSite", Value: aff.SameSite})
	}
	if aff.Secure || overTLS {
		c.Attributes = append(c.Attributes, ir.CookieAttribute{Name: "Secure"})
	}
	if aff.Partitioned {
		c.Attributes = append(c.Attributes, ir.CookieAttribute{Name: "Partitioned"})
	}
	return c
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
