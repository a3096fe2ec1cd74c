package envoy

import (
	_ "embed" // the response rewriting script

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_filters_http_lua_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/structpb"
)

// Envoy has no native way to rewrite part of a backend's response header
// (header_mutation sets whole values, from format strings that cannot
// take a prefix off), so nginx's proxy_redirect and proxy_cookie_* run in
// the Lua filter, with one constant script, rewrite.lua. The filter is
// disabled on the listener; a route that asks for a rewrite enables it with
// its LuaPerRoute, whose filter context carries the route's values as
// strings. The script reads them as data: no value ever becomes code.

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

// responseRewrite is a route's LuaPerRoute: the script above with the
// route's values in its filter context, under the keys the script reads.
func responseRewrite(rw *ir.ResponseRewrite) *envoy_extensions_filters_http_lua_v3.LuaPerRoute {
	fields := map[string]*structpb.Value{}
	put := func(prefix string, t *ir.TextRewrite) {
		if t != nil {
			fields[prefix+"_from"] = structpb.NewStringValue(t.From)
			fields[prefix+"_to"] = structpb.NewStringValue(t.To)
		}
	}
	put("location", rw.Location)
	put("cookie_domain", rw.CookieDomain)
	put("cookie_path", rw.CookiePath)
	return &envoy_extensions_filters_http_lua_v3.LuaPerRoute{FilterContext: &structpb.Struct{Fields: fields}}
}
