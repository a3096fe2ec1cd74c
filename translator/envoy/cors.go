package envoy

import (
	"fmt"

	envoy_extensions_filters_http_cors_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// corsPolicy is the CORS filter's configuration for the actual requests of
// a route.
func corsPolicy(c *ir.CORS) *envoy_extensions_filters_http_cors_v3.CorsPolicy {
	p := &envoy_extensions_filters_http_cors_v3.CorsPolicy{
		AllowMethods:     c.AllowMethods,
		AllowHeaders:     c.AllowHeaders,
		ExposeHeaders:    c.ExposeHeaders,
		MaxAge:           fmt.Sprint(c.MaxAge),
		AllowCredentials: wrapperspb.Bool(c.AllowCredentials),
	}
	for _, o := range c.AllowOrigins {
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, stringMatcher(o))
	}
	return p
}

func stringMatcher(m ir.StringMatch) *envoy_type_matcher_v3.StringMatcher {
	if m.Regex != "" {
		return &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_SafeRegex{
			SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: m.Regex},
		}}
	}
	return &envoy_type_matcher_v3.StringMatcher{MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: m.Exact}, IgnoreCase: m.IgnoreCase}
}
