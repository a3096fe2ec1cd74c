package translator

import (
	"fmt"
	"regexp"
	"strings"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_http_cors_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// allOrigins reports whether CORS allows every origin ("*"): ingress-nginx
// then answers every request with Access-Control-Allow-Origin: *.
func allOrigins(c *CORS) bool {
	return len(c.AllowOrigins) == 1 && c.AllowOrigins[0] == "*"
}

// corsPolicy is the CORS filter's configuration for the actual requests of
// a route with listed origins: a request from one of them gets its origin
// back, the others get no CORS header.
func corsPolicy(c *CORS) *envoy_extensions_filters_http_cors_v3.CorsPolicy {
	p := &envoy_extensions_filters_http_cors_v3.CorsPolicy{
		AllowMethods:     c.AllowMethods,
		AllowHeaders:     c.AllowHeaders,
		ExposeHeaders:    c.ExposeHeaders,
		MaxAge:           fmt.Sprint(c.MaxAge),
		AllowCredentials: wrapperspb.Bool(c.AllowCredentials),
	}
	for _, o := range c.AllowOrigins {
		m := &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: o}, IgnoreCase: true}
		if strings.Contains(o, "*") {
			m = &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_SafeRegex{
				SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: originRegex(o)},
			}}
		}
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, m)
	}
	return p
}

// originRegex matches an origin case-insensitively; "*." stands for exactly
// one label, as in ingress-nginx.
func originRegex(origin string) string {
	return `(?i)` + strings.Replace(regexp.QuoteMeta(origin), `\*`, `[A-Za-z0-9-]+`, 1)
}

// corsPreflight answers an OPTIONS request from an allowed origin with 204
// and the CORS headers, as ingress-nginx does. (Envoy's CORS filter would
// answer 200.)
func corsPreflight(c *CORS, match *envoy_config_route_v3.RouteMatch) *envoy_config_route_v3.Route {
	m := cloneMatch(match)
	m.Headers = append(m.Headers, exactHeader(":method", "OPTIONS"))
	origin := "*"
	if !allOrigins(c) {
		var alts []string
		for _, o := range c.AllowOrigins {
			alts = append(alts, originRegex(o)[len("(?i)"):])
		}
		m.Headers = append(m.Headers, regexHeader("origin", `(?i)(?:`+strings.Join(alts, "|")+`)`))
		// Envoy's header formatter: the request's own Origin, which the
		// match above has allowed.
		origin = "%REQ(origin)%"
	}
	return &envoy_config_route_v3.Route{
		Match: m,
		Action: &envoy_config_route_v3.Route_DirectResponse{
			DirectResponse: &envoy_config_route_v3.DirectResponseAction{Status: 204},
		},
		ResponseHeadersToAdd: append(corsHeaders(c, origin), header("Content-Type", "text/plain charset=UTF-8")),
	}
}

// corsHeaders are ingress-nginx's CORS response headers. Every value was
// checked against ingress-nginx's forms, which hold no "%", so Envoy's
// header formatter reads them literally.
func corsHeaders(c *CORS, origin string) []*envoy_config_core_v3.HeaderValueOption {
	out := []*envoy_config_core_v3.HeaderValueOption{header("Access-Control-Allow-Origin", origin)}
	if c.AllowCredentials {
		out = append(out, header("Access-Control-Allow-Credentials", "true"))
	}
	out = append(out,
		header("Access-Control-Allow-Methods", c.AllowMethods),
		header("Access-Control-Allow-Headers", c.AllowHeaders))
	if c.ExposeHeaders != "" {
		out = append(out, header("Access-Control-Expose-Headers", c.ExposeHeaders))
	}
	return append(out, header("Access-Control-Max-Age", fmt.Sprint(c.MaxAge)))
}

func header(name, value string) *envoy_config_core_v3.HeaderValueOption {
	return &envoy_config_core_v3.HeaderValueOption{
		Header:       &envoy_config_core_v3.HeaderValue{Key: name, Value: value},
		AppendAction: envoy_config_core_v3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}
