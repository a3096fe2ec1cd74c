package envoy

import (
	"slices"
	"strconv"
	"strings"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_retry_host_previous_hosts_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// routeConfiguration renders a listener's virtual hosts as the route
// configuration of the listener's name, which it reads over RDS.
func routeConfiguration(l *ir.Listener, sh *shared) *envoy_config_route_v3.RouteConfiguration {
	rc := &envoy_config_route_v3.RouteConfiguration{
		Name: l.Name,
		// Hosts match without the port of the Host header.
		IgnorePortInHostMatching: true,
		VirtualHosts:             make([]*envoy_config_route_v3.VirtualHost, 0, len(l.VirtualHosts)),
		RequestHeadersToRemove:   l.RemoveRequestHeaders,
		ResponseHeadersToRemove:  l.RemoveResponseHeaders,
	}
	if readsHeader(l.RealIP) {
		rc.InternalOnlyHeaders = envoyRequestHeaders
	}
	if listenerMatchesSubject(l) {
		rc.RequestHeadersToRemove = append(slices.Clone(rc.RequestHeadersToRemove), clientSubjectHeader)
	}
	if !l.Block.Empty() {
		rc.TypedPerFilterConfig = map[string]*anypb.Any{blockFilterName: mustAny(blockRules(l.Block))}
	}
	// A listener that names no server sends no Server header at all: its
	// HTTP connection manager adds none, and here the backend's goes.
	if l.Server == "" && !l.BackendServer {
		rc.ResponseHeadersToRemove = []string{"server"}
	}
	for _, h := range l.RequestHeaders {
		if ownForwardedProto(l, h) {
			continue
		}
		rc.RequestHeadersToAdd = append(rc.RequestHeadersToAdd, header(h))
	}
	for _, h := range l.ResponseHeaders {
		rc.ResponseHeadersToAdd = append(rc.ResponseHeadersToAdd, header(h))
	}
	sh.table = l.Name
	for _, vh := range l.VirtualHosts {
		rc.VirtualHosts = append(rc.VirtualHosts, sh.virtualHost(vh))
	}
	return rc
}

// ownForwardedProto says whether h is an X-Forwarded-Proto that Envoy
// sets itself: as the edge (use_remote_address, no trusted hop), its
// connection manager replaces the client's with the scheme of the
// connection before any filter runs. Leaving it out of the route table
// saves every request a header to format and set (docs/benchmarks.md);
// what the Ingresses' own headers and auth-response-headers set it to
// then stands.
func ownForwardedProto(l *ir.Listener, h ir.Header) bool {
	return l.RealIP == nil && h.FromConnection == ir.Scheme && strings.EqualFold(h.Name, "x-forwarded-proto") &&
		h.Value == "" && h.Else == nil && h.OnPort == 0
}

// routeMetadata is what the access log reads of a route besides its name
// (the upstream's name): its labels and whether it logs at all. Most
// routes have neither, and Envoy builds no metadata for them, a third of
// what a plain route costs it (docs/benchmarks.md).
func routeMetadata(r *ir.Route) *envoy_config_core_v3.Metadata {
	kv := make([]string, 0, 2*len(r.LogLabels))
	for k, v := range r.LogLabels {
		kv = append(kv, k, v)
	}
	return logMetadata(r.NoAccessLog, kv...)
}

// renderRoutes renders a model route: one Envoy route, whose retry
// policy holds what every method may retry while the replay filter adds
// the rest for the methods nginx sends twice (replay.go). A route that
// does not retry after resets (no retry, statuses alone, or
// non_idempotent without resets) turns the filter off; statuses alone
// then take two routes: first for every method but POST, PATCH and LOCK,
// with its statuses, and then for those three, retrying only failed
// connections. Three exact matches, inverted, say "not one of the
// three": Envoy builds them in a fraction of the time of a regex, and a
// GET is three comparisons, not a regex run (docs/benchmarks.md).
func (sh *shared) renderRoutes(r *ir.Route) []*envoy_config_route_v3.Route {
	main := sh.route(r)
	if r.Forward == nil || replayAdded(r.Forward.Retry) {
		return []*envoy_config_route_v3.Route{main}
	}
	replayOff(main)
	rt := r.Forward.Retry
	if rt == nil || rt.NonIdempotent || len(rt.Statuses) == 0 {
		return []*envoy_config_route_v3.Route{main}
	}
	safe := *rt
	safe.Statuses = nil
	fw := *r.Forward
	fw.Retry = &safe
	if !safe.ConnectFailure {
		fw.Retry = nil
	}
	idempotent := r.Match
	idempotent.Headers = slices.Clone(r.Match.Headers)
	for _, m := range nonIdempotentMethods {
		idempotent.Headers = append(idempotent.Headers, ir.HeaderMatch{Name: ":method", Exact: m, Invert: true})
	}
	rest := sh.variant(main, main.Match, &fw)
	main.Match = sh.routeMatch(idempotent)
	return []*envoy_config_route_v3.Route{main, rest}
}

// nonIdempotentMethods are the methods that nginx does not send again once
// the request may have reached the backend.
var nonIdempotentMethods = []string{"POST", "PATCH", "LOCK"}

// variant is the rendered route main with another match and forward; the
// rest (metadata, headers, filter configurations) is shared with main,
// which saves rendering them again for every proxied path
// (docs/benchmarks.md); TestVariantIsTheRouteRendered checks that nothing
// is missed.
func (sh *shared) variant(main *envoy_config_route_v3.Route, m *envoy_config_route_v3.RouteMatch, f *ir.Forward) *envoy_config_route_v3.Route {
	return &envoy_config_route_v3.Route{
		Name:                   main.Name,
		Match:                  m,
		Metadata:               main.Metadata,
		Action:                 &envoy_config_route_v3.Route_Route{Route: sh.routeAction(f)},
		RequestHeadersToAdd:    main.RequestHeadersToAdd,
		RequestHeadersToRemove: main.RequestHeadersToRemove,
		ResponseHeadersToAdd:   main.ResponseHeadersToAdd,
		TypedPerFilterConfig:   main.TypedPerFilterConfig,
		Tracing:                main.Tracing,
		Decorator:              main.Decorator,
	}
}

// route renders one model route as one Envoy route.
func (sh *shared) route(r *ir.Route) *envoy_config_route_v3.Route {
	out := &envoy_config_route_v3.Route{Name: r.UpstreamName, Match: sh.routeMatch(r.Match), Metadata: routeMetadata(r)}
	switch {
	case r.Forward != nil:
		out.Action = &envoy_config_route_v3.Route_Route{Route: sh.routeAction(r.Forward)}
	case r.Redirect != nil && r.Redirect.DropPort:
		var lua *anypb.Any
		var location *envoy_config_core_v3.HeaderValueOption
		out.Action, lua, location = portlessRedirect(r.Redirect)
		out.TypedPerFilterConfig = map[string]*anypb.Any{luaFilter: lua}
		out.ResponseHeadersToAdd = append(out.ResponseHeadersToAdd, location)
	case r.Redirect != nil:
		out.Action = redirect(r.Redirect)
	case r.Direct != nil:
		d := &envoy_config_route_v3.DirectResponseAction{Status: r.Direct.Status}
		if r.Direct.Body != "" {
			d.Body = &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: r.Direct.Body}}
		}
		out.Action = &envoy_config_route_v3.Route_DirectResponse{DirectResponse: d}
	}
	for _, h := range r.RequestHeaders {
		out.RequestHeadersToAdd = append(out.RequestHeadersToAdd, header(h))
	}
	for _, h := range r.ResponseHeaders {
		out.ResponseHeadersToAdd = append(out.ResponseHeadersToAdd, header(h))
	}
	out.RequestHeadersToRemove = r.RemoveRequestHeaders
	routeTracing(out, r)
	if r.Policy != nil {
		for name, config := range filterConfigs(r.Policy) {
			perFilter(out, name, config)
		}
		out.ResponseHeadersToAdd = append(out.ResponseHeadersToAdd, authCookieHeaders(r.Policy.ExternalAuth)...)
	}
	if lua := responseLua(r); lua != nil {
		perFilter(out, luaFilter, lua)
	}
	if r.NoAccessLog {
		perFilter(out, unloggedFilter, unloggedMark)
	}
	if f := r.Forward; f != nil && len(f.Backends) == 1 {
		req, resp := cookieHeaders(f, 0)
		out.RequestHeadersToAdd = append(out.RequestHeadersToAdd, req...)
		out.ResponseHeadersToAdd = append(out.ResponseHeadersToAdd, resp...)
	}
	if f := r.Forward; f != nil && f.SessionCookie != nil && f.SessionCookie.Persistent {
		perFilter(out, sessionFilter, persistentSession(f.SessionCookie))
	}
	return out
}

// perFilter sets the route's configuration of the named filter.
func perFilter(r *envoy_config_route_v3.Route, name string, config *anypb.Any) {
	if r.TypedPerFilterConfig == nil {
		r.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	r.TypedPerFilterConfig[name] = config
}

func (sh *shared) routeMatch(m ir.Match) *envoy_config_route_v3.RouteMatch {
	out := &envoy_config_route_v3.RouteMatch{}
	switch p := m.Path; {
	case p.Kind == ir.PathExact:
		out.PathSpecifier = &envoy_config_route_v3.RouteMatch_Path{Path: p.Value}
	case p.Kind == ir.PathRegex:
		out.PathSpecifier = &envoy_config_route_v3.RouteMatch_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: p.Value}}
	case p.Value == "/":
		// path_separated_prefix must not end with "/"; "/" matches everything.
		out.PathSpecifier = &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}
	default:
		out.PathSpecifier = &envoy_config_route_v3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: p.Value}
	}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, sh.headerMatcherOf(h))
	}
	if m.ClientCert != nil {
		certMatch(out, m.ClientCert)
	}
	if m.ServerName != nil {
		out.FilterState = append(out.FilterState, serverNameMatch(m.ServerName))
	}
	if m.Scheme != "" {
		out.FilterState = append(out.FilterState, sh.schemeMatch(m.Scheme))
	}
	return out
}

func headerMatcher(h ir.HeaderMatch) *envoy_config_route_v3.HeaderMatcher {
	sm := &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: h.Exact}}
	if h.Regex != "" {
		sm.MatchPattern = &envoy_type_matcher_v3.StringMatcher_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: h.Regex}}
	}
	return &envoy_config_route_v3.HeaderMatcher{
		Name:                 h.Name,
		HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: sm},
		InvertMatch:          h.Invert,
	}
}

// routeAction renders a forward. A request has no overall timeout, as
// nginx has none, unless the forward sets one (proxy-next-upstream-timeout);
// the idle timeout bounds each silence of the backend instead.
func (sh *shared) routeAction(f *ir.Forward) *envoy_config_route_v3.RouteAction {
	a := &envoy_config_route_v3.RouteAction{Timeout: sh.duration(0)}
	if len(f.Backends) == 1 {
		a.ClusterSpecifier = &envoy_config_route_v3.RouteAction_Cluster{Cluster: f.Backends[0].Cluster}
	} else {
		wc := &envoy_config_route_v3.WeightedCluster{}
		for i, b := range f.Backends {
			cw := &envoy_config_route_v3.WeightedCluster_ClusterWeight{Name: b.Cluster, Weight: wrapperspb.UInt32(b.Weight)}
			cw.RequestHeadersToAdd, cw.ResponseHeadersToAdd = cookieHeaders(f, i)
			wc.Clusters = append(wc.Clusters, cw)
		}
		a.ClusterSpecifier = &envoy_config_route_v3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	if f.IdleTimeout != 0 || f.Retry != nil {
		a.RetryPolicy = sh.retryPolicyOf(f)
	}
	if f.Timeout != 0 {
		a.Timeout = sh.duration(time.Duration(f.Timeout))
	}
	if f.StreamIdleTimeout != 0 {
		a.IdleTimeout = sh.duration(time.Duration(f.StreamIdleTimeout))
	}
	if rw := f.PathRewrite; rw != nil {
		a.RegexRewrite = &envoy_type_matcher_v3.RegexMatchAndSubstitute{
			Pattern:      &envoy_type_matcher_v3.RegexMatcher{Regex: rw.Pattern},
			Substitution: rw.Substitution,
		}
	}
	switch {
	case f.HostRewrite != "":
		a.HostRewriteSpecifier = &envoy_config_route_v3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: f.HostRewrite}
	case f.HostFromRequest != "":
		// Envoy leaves the Host alone when the header is absent.
		a.HostRewriteSpecifier = &envoy_config_route_v3.RouteAction_HostRewriteHeader{HostRewriteHeader: f.HostFromRequest}
	}
	if c := f.SessionCookie; c != nil && !c.Persistent {
		a.HashPolicy = []*envoy_config_route_v3.RouteAction_HashPolicy{sessionCookie(c, !issuesCookie(f))}
	}
	for _, k := range f.HashBy {
		a.HashPolicy = append(a.HashPolicy, hashPolicy(k))
	}
	a.RequestMirrorPolicies = mirrorPolicies(f.Mirrors)
	return a
}

// mirrorPolicies send each mirror a copy of the request. Envoy sends the
// copy without waiting for it and drops its answer; by default it would
// append "-shadow" to the copy's Host, which the literal Host (or the
// flag, without one) keeps from happening.
func mirrorPolicies(mirrors []ir.Mirror) []*envoy_config_route_v3.RouteAction_RequestMirrorPolicy {
	var out []*envoy_config_route_v3.RouteAction_RequestMirrorPolicy
	for _, m := range mirrors {
		out = append(out, &envoy_config_route_v3.RouteAction_RequestMirrorPolicy{
			Cluster:                       m.Cluster,
			HostRewriteLiteral:            m.Host,
			DisableShadowHostSuffixAppend: m.Host == "",
		})
	}
	return out
}

// retryPolicy holds the forward's idle timeout and retries. The idle
// timeout is the router's per-try idle timeout, which runs from the
// request's last byte sent upstream to the response's first, and between
// any two bytes, and answers 504 when the response has not started. Each
// retry goes to an endpoint not tried yet, when there is one.
func retryPolicy(f *ir.Forward) *envoy_config_route_v3.RetryPolicy {
	p := &envoy_config_route_v3.RetryPolicy{NumRetries: wrapperspb.UInt32(0)}
	if f.IdleTimeout != 0 {
		p.PerTryIdleTimeout = durationpb.New(time.Duration(f.IdleTimeout))
	}
	rt := f.Retry
	if rt == nil {
		return p
	}
	p.NumRetries = wrapperspb.UInt32(rt.Attempts)
	p.RetryOn = retryOn(rt)
	p.RetriableStatusCodes = rt.Statuses
	p.RetryHostPredicate = []*envoy_config_route_v3.RetryPolicy_RetryHostPredicate{{
		Name:       "envoy.retry_host_predicates.previous_hosts",
		ConfigType: &envoy_config_route_v3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: previousHosts},
	}}
	// The predicate may pick a tried endpoint again. A ring hash (session
	// affinity, upstream-hash-by) picks again from the next entry of the
	// ring, one entry further each time, and an endpoint holds runs of
	// entries: with two endpoints, five picks all landed on the failed
	// one for about one session in thirty (a 503 for every request of that
	// session). Twenty make it about one in a million; the picks cost
	// nothing until a retry.
	p.HostSelectionRetryMaxAttempts = 20
	// nginx moves to the next endpoint at once; Envoy waits a jittered
	// back-off before each retry, 25 ms at most by default, so it gets
	// its least base interval.
	p.RetryBackOff = &envoy_config_route_v3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(time.Millisecond), MaxInterval: durationpb.New(4 * time.Millisecond)}
	return p
}

// retryOn is Envoy's retry_on for a retry: connect-failure,
// refused-stream and reset-before-request are the failures before the
// request reached the endpoint; reset also covers the failures after it
// was sent, a response that is not HTTP and a per-try idle timeout. A
// retry after resets that only idempotent methods make holds neither
// reset nor its statuses' condition: the replay filter adds both to
// those methods' requests (replay.go).
func retryOn(rt *ir.Retry) string {
	var on []string
	if rt.ConnectFailure {
		on = append(on, "connect-failure", "refused-stream", "reset-before-request")
	}
	if replayAdded(rt) && !rt.NonIdempotent {
		return strings.Join(on, ",")
	}
	if rt.Reset {
		on = append(on, "reset")
	}
	if len(rt.Statuses) > 0 {
		on = append(on, "retriable-status-codes")
	}
	return strings.Join(on, ",")
}

// previousHosts is the retry host predicate that skips tried endpoints.
var previousHosts = mustAny(&envoy_extensions_retry_host_previous_hosts_v3.PreviousHostsPredicate{})

// sessionCookie is a cookie hash policy: Envoy hashes the cookie to pick
// an endpoint and, since the TTL is set (zero makes a session cookie),
// sets it on the response when the request has none.
// When the route issues the cookie itself, Envoy only hashes it (no TTL).
func sessionCookie(c *ir.SessionCookie, envoySets bool) *envoy_config_route_v3.RouteAction_HashPolicy {
	cookie := &envoy_config_route_v3.RouteAction_HashPolicy_Cookie{Name: c.Name}
	if !envoySets {
		return &envoy_config_route_v3.RouteAction_HashPolicy{PolicySpecifier: &envoy_config_route_v3.RouteAction_HashPolicy_Cookie_{Cookie: cookie}}
	}
	cookie.Ttl, cookie.Path = durationpb.New(time.Duration(c.TTL)), c.Path
	for _, at := range c.Attributes {
		cookie.Attributes = append(cookie.Attributes, &envoy_config_route_v3.RouteAction_HashPolicy_CookieAttribute{Name: at.Name, Value: at.Value})
	}
	return &envoy_config_route_v3.RouteAction_HashPolicy{
		PolicySpecifier: &envoy_config_route_v3.RouteAction_HashPolicy_Cookie_{Cookie: cookie},
	}
}

// hashPolicy hashes one part of the request; Envoy combines the hashes of
// a route's policies into one, so equal parts give equal hashes.
func hashPolicy(k ir.HashKey) *envoy_config_route_v3.RouteAction_HashPolicy {
	p := &envoy_config_route_v3.RouteAction_HashPolicy{}
	switch {
	case k.Header != "":
		p.PolicySpecifier = &envoy_config_route_v3.RouteAction_HashPolicy_Header_{Header: &envoy_config_route_v3.RouteAction_HashPolicy_Header{HeaderName: k.Header}}
	case k.Cookie != "":
		// No TTL: Envoy hashes the cookie and never sets it.
		p.PolicySpecifier = &envoy_config_route_v3.RouteAction_HashPolicy_Cookie_{Cookie: &envoy_config_route_v3.RouteAction_HashPolicy_Cookie{Name: k.Cookie}}
	case k.Query != "":
		p.PolicySpecifier = &envoy_config_route_v3.RouteAction_HashPolicy_QueryParameter_{QueryParameter: &envoy_config_route_v3.RouteAction_HashPolicy_QueryParameter{Name: k.Query}}
	default:
		p.PolicySpecifier = &envoy_config_route_v3.RouteAction_HashPolicy_ConnectionProperties_{ConnectionProperties: &envoy_config_route_v3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}
	}
	return p
}

// redirectCodes are the codes Envoy can redirect with.
var redirectCodes = map[uint32]envoy_config_route_v3.RedirectAction_RedirectResponseCode{
	301: envoy_config_route_v3.RedirectAction_MOVED_PERMANENTLY,
	302: envoy_config_route_v3.RedirectAction_FOUND,
	303: envoy_config_route_v3.RedirectAction_SEE_OTHER,
	307: envoy_config_route_v3.RedirectAction_TEMPORARY_REDIRECT,
	308: envoy_config_route_v3.RedirectAction_PERMANENT_REDIRECT,
}

func redirect(rd *ir.Redirect) *envoy_config_route_v3.Route_Redirect {
	a := &envoy_config_route_v3.RedirectAction{HostRedirect: rd.Host, PortRedirect: rd.Port, ResponseCode: redirectCodes[rd.Code]}
	if rd.Scheme != "" {
		a.SchemeRewriteSpecifier = &envoy_config_route_v3.RedirectAction_SchemeRedirect{SchemeRedirect: rd.Scheme}
	}
	if rd.Path != "" {
		a.PathRewriteSpecifier = &envoy_config_route_v3.RedirectAction_PathRedirect{PathRedirect: rd.Path}
	}
	a.StripQuery = rd.StripQuery
	return &envoy_config_route_v3.Route_Redirect{Redirect: a}
}

// header renders a header to set.
func header(h ir.Header) *envoy_config_core_v3.HeaderValueOption {
	return &envoy_config_core_v3.HeaderValueOption{
		Header:       &envoy_config_core_v3.HeaderValue{Key: h.Name, Value: headerValue(h)},
		AppendAction: envoy_config_core_v3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// headerValue is a header's value as an Envoy format string, in which
// "%%" is a literal "%"; a value from the request is the formatter's
// %REQ(name)%, with %REQ(name?other)% for a fallback to another request
// header. A literal fallback or a value that depends on the port is a CEL
// expression (Envoy's built-in %CEL(...)%).
func headerValue(h ir.Header) string {
	if h.OnPort != 0 || h.Else != nil && !onlyFromRequest(h.Else) {
		return "%CEL(" + celValue(h) + ")%"
	}
	v := formatLiteral(h.Value)
	switch {
	case h.FromListener != "":
		v += "%METADATA(LISTENER:" + metadataNamespace + ":" + h.FromListener + ")%"
	case h.FromRequest != "" && h.Else != nil:
		v += "%REQ(" + h.FromRequest + "?" + h.Else.FromRequest + ")%"
	case h.FromRequest != "":
		v += "%REQ(" + h.FromRequest + ")%"
	case h.FromConnection == ir.ClientAddress:
		v += "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
	case h.Fields != nil:
		v += logFormat(h.Fields)
	case h.FromConnection == ir.DestinationPort:
		v += "%DOWNSTREAM_LOCAL_PORT%"
	case h.FromConnection == ir.Scheme:
		// What the listener recorded of the connection (listener.go):
		// not X-Forwarded-Proto, which an auth service's answer or a
		// header of the ConfigMap may have changed since Envoy set it.
		v += "%FILTER_STATE(" + schemeKey + ":PLAIN)%"
	case h.FromConnection == ir.ClientCertSubject:
		v += "%DOWNSTREAM_PEER_SUBJECT%"
	case h.FromConnection == ir.ClientCertIssuer:
		v += "%DOWNSTREAM_PEER_ISSUER%"
	case h.FromConnection == ir.ClientCertPEM:
		v += "%DOWNSTREAM_PEER_CERT%"
	}
	return v
}

// onlyFromRequest says whether a header's value is a request header's and
// nothing else.
func onlyFromRequest(h *ir.Header) bool {
	return h.FromRequest != "" && h.Value == "" && h.Else == nil && h.OnPort == 0
}

// celValue is a header's value as a CEL expression. The client address
// never needs one: the model gives it no fallback.
func celValue(h ir.Header) string {
	var parts []string
	if h.Value != "" {
		parts = append(parts, strconv.Quote(h.Value))
	}
	switch key := strconv.Quote(h.FromRequest); {
	case h.FromRequest != "":
		orElse := `""`
		if h.Else != nil {
			orElse = celValue(*h.Else)
		}
		parts = append(parts, "("+key+" in request.headers ? request.headers["+key+"] : "+orElse+")")
	case h.FromListener != "":
		md, key := "xds.listener_metadata.filter_metadata", strconv.Quote(h.FromListener)
		parts = append(parts, "(has("+md+"."+metadataNamespace+") && "+key+" in "+md+"."+metadataNamespace+" ? "+md+"."+metadataNamespace+"["+key+"] : \"\")")
	case h.FromConnection == ir.DestinationPort:
		// Envoy's CEL has no string(int): the port is printed as a
		// number, so it cannot follow a literal.
		parts = []string{"destination.port"}
	}
	v := strings.Join(parts, " + ")
	if v == "" {
		v = `""`
	}
	if h.OnPort != 0 {
		v = "destination.port == " + strconv.FormatUint(uint64(h.OnPort), 10) + " ? " + strconv.Quote(h.OnPortValue) + " : " + v
	}
	return v
}
