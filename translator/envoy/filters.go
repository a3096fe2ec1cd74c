package envoy

import (
	"math"
	"slices"

	envoy_extensions_filters_http_buffer_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	envoy_extensions_filters_http_cors_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	envoy_extensions_filters_http_custom_response_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/custom_response/v3"
	envoy_extensions_filters_http_local_ratelimit_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	envoy_extensions_filters_http_rbac_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	envoy_extensions_filters_http_router_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	envoy_extensions_filters_http_stateful_session_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/stateful_session/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The HTTP filters of every listener. Each does nothing on a route without
// its per-route configuration, so the filter list never changes and a
// route's policy never touches a listener. Those configured only by routes
// are disabled by default: Envoy then leaves them out of the chain of a
// request whose route does not configure them (a route's typed per-filter
// configuration enables them), so a route that uses nothing pays for none.
const (
	corsFilter      = "envoy.filters.http.cors"
	rateLimitFilter = "envoy.filters.http.local_ratelimit"
	rbacFilter      = "envoy.filters.http.rbac"
	connLimitFilter = "envoy.filters.http.ext_proc"
	extAuthFilter   = "envoy.filters.http.ext_authz"
	bufferFilter    = "envoy.filters.http.buffer"
	routerFilter    = "envoy.filters.http.router"
)

// rateLimitStatPrefix names the local rate limit's statistics.
const rateLimitStatPrefix = "rukou_rate_limit"

// httpFilters is the filter chain of every HTTP connection manager, in
// ingress-nginx's order: the block lists (nginx's server-wide checks),
// CORS, the global rate limit (ingress-nginx's Lua, in the rewrite phase),
// rate limits (nginx's preaccess phase), client address ranges and
// external authentication (its access phase), the body size limit, then
// the router. The response rate limit and the compressors, when the
// listener compresses, come first, so that they see every response last,
// Envoy's own answers included, as nginx's output filters do; the rate
// limit first of all, pacing the bytes the client gets. The Lua filter is
// there only when rewrites is set (see lua.go).
func httpFilters(l *ir.Listener, rewrites bool) []*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
	filter := func(name string, disabled bool, config proto.Message) *envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
		return &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
			Name:       name,
			Disabled:   disabled,
			ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(config)},
		}
	}
	out := append(append([]*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
		// Only the routes left out of the access log run it, first, so
		// that it marks whatever answers them (accesslog.go).
		{
			Name:       unloggedFilter,
			Disabled:   true,
			ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: unloggedMark},
		},
		bandwidthLimit(),
	}, compressors(l.Compression)...),
		// Without rules the filter enforces nothing; the route
		// configuration brings the listener's block lists, so that
		// changing them never rebuilds the listener. Its per-filter
		// configuration there enables it for every route of that
		// configuration; without block lists no route runs it.
		filter(blockFilterName, true, &envoy_extensions_filters_http_rbac_v3.RBAC{}),
		// Only routes with a CORS policy run it.
		filter(corsFilter, true, &envoy_extensions_filters_http_cors_v3.Cors{}))
	if l.RateLimitService != nil {
		// Only routes with a global rate limit run it (they bring its
		// descriptors); it is there only when rukou serve names a rate
		// limit service, since it refers to the service's cluster.
		out = append(out, filter(globalRateLimitFilter, true, globalRateLimit(l.RateLimitService)))
	}
	out = append(out,
		// Without a token bucket the filter limits nothing; only routes
		// that bring their own run it.
		filter(rateLimitFilter, true, &envoy_extensions_filters_http_local_ratelimit_v3.LocalRateLimit{StatPrefix: rateLimitStatPrefix}),
		// Disabled unless a route configures it: it asks rukou's limiter
		// about each request.
		filter(connLimitFilter, true, connectionLimiter()),
		// Without rules the filter enforces nothing; only routes with
		// address ranges run it.
		filter(rbacFilter, true, &envoy_extensions_filters_http_rbac_v3.RBAC{}),
		// Disabled unless a route configures it: it asks rukou's limiter,
		// which asks the route's auth service (nginx's auth_request, in
		// the access phase after the address ranges).
		filter(extAuthFilter, true, externalAuth()),
		// It holds the body until it is whole, and answers 413 once it
		// grows past the limit; without a listener-wide limit, only routes
		// that bring their own run it.
		bodyLimit(l.MaxBodyBytes),
		// It comes last, so that it sees the backend's response first.
		// Only the routes with error pages run it, and the internal
		// virtual host their pages come from (internalHostFilters): the
		// page's request, redirected inside Envoy, needs it on its way
		// back to keep the original status. Enabled everywhere, it cost
		// every request about 4,000 instructions (docs/benchmarks.md).
		filter(customResponseFilter, true, &envoy_extensions_filters_http_custom_response_v3.CustomResponse{}),
	)
	if rewrites {
		// Disabled unless a route asks for it; next to the router, so
		// that it rewrites the backend's response before any other
		// filter sees it, but before the stateful session filter, which
		// sets its cookie on the way back: the script adds that
		// cookie's Expires.
		out = append(out, filter(luaFilter, true, responseRewriteFilter()))
	}
	return append(out,
		// Without a route's session it keeps none; only routes with a
		// session run it.
		filter(sessionFilter, true, &envoy_extensions_filters_http_stateful_session_v3.StatefulSession{}),
		// Next to the router, which reads the retry conditions it adds.
		replay(),
		filter(routerFilter, false, &envoy_extensions_filters_http_router_v3.Router{}))
}

// bodyLimit is the buffer filter with the listener's body size limit; the
// buffer filter counts in 32 bits, so a limit of 4 GiB or more, like zero,
// is none.
func bodyLimit(maxBodyBytes uint64) *envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
	limited := maxBodyBytes != 0 && maxBodyBytes <= math.MaxUint32
	limit := uint32(math.MaxUint32)
	if limited {
		limit = uint32(maxBodyBytes)
	}
	return &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
		Name:       bufferFilter,
		Disabled:   !limited,
		ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_http_buffer_v3.Buffer{MaxRequestBytes: wrapperspb.UInt32(limit)})},
	}
}

// upgradeFilters is the filter chain of upgraded (WebSocket) streams:
// httpFilters without the buffer filter, and without compressors, which
// have nothing to compress in an upgraded stream.
func upgradeFilters(l *ir.Listener, rewrites bool) []*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
	return slices.DeleteFunc(httpFilters(&ir.Listener{RateLimitService: l.RateLimitService}, rewrites), func(f *envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter) bool {
		return f.Name == bufferFilter
	})
}

// filterConfigs returns the per-route filter configurations of a policy,
// or nil when it needs none.
func filterConfigs(p *ir.Policy) map[string]*anypb.Any {
	out := map[string]*anypb.Any{}
	if p.CORS != nil {
		out[corsFilter] = mustAny(corsPolicy(p.CORS))
	}
	if p.RateLimit != nil {
		out[rateLimitFilter] = mustAny(localRateLimit(p.RateLimit))
	}
	if p.GlobalRateLimit != nil {
		out[globalRateLimitFilter] = mustAny(globalRateLimitRoute(p.GlobalRateLimit))
	}
	if p.ConnectionLimit != nil {
		out[connLimitFilter] = mustAny(connectionLimit(p.ConnectionLimit))
	}
	if p.Access != nil && !accessByAuth(p) {
		out[rbacFilter] = mustAny(&envoy_extensions_filters_http_rbac_v3.RBACPerRoute{Rbac: &envoy_extensions_filters_http_rbac_v3.RBAC{Rules: accessRules(p.Access)}})
	}
	if p.ExternalAuth != nil || p.BasicAuth != nil {
		out[extAuthFilter] = mustAny(externalAuthRoute(p))
	}
	if p.ErrorPages != nil {
		out[customResponseFilter] = mustAny(customResponse(p.ErrorPages))
	}
	if p.MaxBodyBytes != nil {
		out[bufferFilter] = mustAny(routeBodyLimit(*p.MaxBodyBytes))
	}
	if p.ResponseKiBps != 0 {
		out[bandwidthFilter] = mustAny(routeBandwidth(p.ResponseKiBps))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// routeBodyLimit is a route's own body size limit; a limit the buffer
// filter cannot count (zero, or 4 GiB and more) turns the filter off.
func routeBodyLimit(maxBodyBytes uint64) *envoy_extensions_filters_http_buffer_v3.BufferPerRoute {
	if maxBodyBytes == 0 || maxBodyBytes > math.MaxUint32 {
		return &envoy_extensions_filters_http_buffer_v3.BufferPerRoute{Override: &envoy_extensions_filters_http_buffer_v3.BufferPerRoute_Disabled{Disabled: true}}
	}
	return &envoy_extensions_filters_http_buffer_v3.BufferPerRoute{
		Override: &envoy_extensions_filters_http_buffer_v3.BufferPerRoute_Buffer{Buffer: &envoy_extensions_filters_http_buffer_v3.Buffer{
			MaxRequestBytes: wrapperspb.UInt32(uint32(maxBodyBytes)),
		}},
	}
}
