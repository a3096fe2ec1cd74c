package envoy

import (
	"cmp"
	_ "embed" // the response rewriting script
	"slices"
	"strconv"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_http_lua_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Envoy has no native way to rewrite part of a backend's response header
// (header_mutation sets whole values, from format strings that cannot
// take a prefix off), so nginx's proxy_redirect and proxy_cookie_* run in
// the Lua filter, with one constant script, rewrite.lua. The filter is
// disabled on the listener; a route that asks for a rewrite enables it with
// its LuaPerRoute, whose filter context carries the route's values as
// strings. The script reads them as data: no value ever becomes code.
//
// The script also answers the redirects whose Location must leave out the
// request's port (ir.Redirect.DropPort, nginx's port_in_redirect off):
// Envoy's RedirectAction keeps the Host header's port, and port_redirect
// 80 writes ":80" rather than none. And it adds the Expires attribute of a
// route's session cookie (ir.SessionCookie.Expires), which Envoy's cookies
// lack.

// Envoy makes a Lua state for each Lua filter of each connection manager
// on each worker (about 120 KB each, measured on Envoy 1.40: +70 MB for 200
// connection managers at --concurrency 2), and the HTTPS listener has one
// connection manager per certificate, twice (WebSocket upgrades have their
// own chain). So the filter is in a listener's chains only when one of the
// routes it serves asks for it: the first such route changes the listener
// once (Envoy drains its connections), and listeners without one pay
// nothing.

// rewritingListeners are the names of the listeners whose connection
// managers need the Lua filter: those with a route that asks for it, and
// those that serve such a listener's routes on another port.
func rewritingListeners(ls []*ir.Listener) map[string]bool {
	own := map[string]bool{}
	for _, l := range ls {
		own[l.Name] = slices.ContainsFunc(l.VirtualHosts, func(vh *ir.VirtualHost) bool {
			return slices.ContainsFunc(vh.Routes, usesLua)
		})
	}
	out := map[string]bool{}
	for _, l := range ls {
		out[l.Name] = own[l.Name] || slices.ContainsFunc(l.PortRoutes, func(p ir.PortRoutes) bool { return own[p.Routes] })
	}
	return out
}

// usesLua reports whether a route needs the Lua filter.
func usesLua(r *ir.Route) bool {
	return r.Policy != nil && r.Policy.ResponseRewrite != nil || r.Redirect != nil && r.Redirect.DropPort || expiringCookie(r.Forward) != nil
}

// expiringCookie is the forward's session cookie when it takes an Expires
// attribute, or nil.
func expiringCookie(f *ir.Forward) *ir.SessionCookie {
	if f == nil || f.SessionCookie == nil || f.SessionCookie.Expires == 0 {
		return nil
	}
	return f.SessionCookie
}

// luaFilter is the Lua filter's name in the listeners' filter chain.
const luaFilter = "envoy.filters.http.lua"

//go:embed rewrite.lua
var rewriteScript string

// responseRewriteFilter is the Lua filter of every listener, with the
// rewriting script as its default source.
func responseRewriteFilter() *envoy_extensions_filters_http_lua_v3.Lua {
	return &envoy_extensions_filters_http_lua_v3.Lua{
		DefaultSourceCode: &envoy_config_core_v3.DataSource{
			Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: rewriteScript},
		},
	}
}

// responseLua is a forwarding route's LuaPerRoute, or nil when its
// responses need no script: the script above with the route's values in
// its filter context, under the keys the script reads. Envoy's session
// cookies carry Max-Age only (its header formatters have no clock
// arithmetic either), so the script adds the session cookie's Expires.
func responseLua(r *ir.Route) *anypb.Any {
	fields := map[string]*structpb.Value{}
	put := func(prefix string, t *ir.TextRewrite) {
		if t != nil {
			fields[prefix+"_from"] = structpb.NewStringValue(t.From)
			fields[prefix+"_to"] = structpb.NewStringValue(t.To)
		}
	}
	if r.Policy != nil && r.Policy.ResponseRewrite != nil {
		rw := r.Policy.ResponseRewrite
		put("location", rw.Location)
		put("cookie_domain", rw.CookieDomain)
		put("cookie_path", rw.CookiePath)
	}
	if c := expiringCookie(r.Forward); c != nil {
		fields["cookie_expires_name"] = structpb.NewStringValue(c.Name)
		fields["cookie_expires_seconds"] = structpb.NewNumberValue(float64(time.Duration(c.Expires) / time.Second))
	}
	if len(fields) == 0 {
		return nil
	}
	return mustAny(&envoy_extensions_filters_http_lua_v3.LuaPerRoute{FilterContext: &structpb.Struct{Fields: fields}})
}

// portlessRedirect renders a redirect without the request's port: the
// route's direct response with the path alone as Location (what answers
// if the filter does not) and the LuaPerRoute with which the script
// answers it. Only the scheme, the path and the query of rd apply.
func portlessRedirect(rd *ir.Redirect) (*envoy_config_route_v3.Route_DirectResponse, *anypb.Any, *envoy_config_core_v3.HeaderValueOption) {
	fields := map[string]*structpb.Value{"redirect_code": structpb.NewStringValue(strconv.FormatUint(uint64(rd.Code), 10))}
	if rd.Path != "" {
		fields["redirect_path"] = structpb.NewStringValue(rd.Path)
	}
	if rd.Scheme != "" {
		fields["redirect_scheme"] = structpb.NewStringValue(rd.Scheme)
	}
	if !rd.StripQuery {
		fields["redirect_keep_query"] = structpb.NewBoolValue(true)
	}
	direct := &envoy_config_route_v3.Route_DirectResponse{DirectResponse: &envoy_config_route_v3.DirectResponseAction{Status: rd.Code}}
	location := header(ir.Header{Name: "Location", Value: cmp.Or(rd.Path, "/")})
	return direct, mustAny(&envoy_extensions_filters_http_lua_v3.LuaPerRoute{FilterContext: &structpb.Struct{Fields: fields}}), location
}
