package ingress

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// corsPolicy is the CORS check of the actual requests of a route with
// listed origins: a request from one of them gets its origin back, the
// others get no CORS header. "*." in an origin stands for exactly one
// label, as in ingress-nginx.
func corsPolicy(c *nginx.CORS) *ir.CORS {
	p := &ir.CORS{
		AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders, ExposeHeaders: c.ExposeHeaders,
		AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge,
	}
	for _, o := range c.AllowOrigins {
		m := ir.StringMatch{Exact: o, IgnoreCase: true}
		if strings.Contains(o, "*") {
			m = ir.StringMatch{Regex: `(?i)` + originPattern(o)}
		}
		p.AllowOrigins = append(p.AllowOrigins, m)
	}
	return p
}

// originPattern matches one origin; "*." stands for exactly one label.
func originPattern(origin string) string {
	return strings.Replace(regexp.QuoteMeta(origin), `\*`, `[A-Za-z0-9-]+`, 1)
}

// corsPreflight answers an OPTIONS request from an allowed origin with 204
// and the CORS headers, as ingress-nginx does.
func corsPreflight(c *nginx.CORS, match ir.Match, source string) *ir.Route {
	m := cloneMatch(match)
	m.Headers = append(m.Headers, ir.HeaderMatch{Name: ":method", Exact: "OPTIONS"})
	origin := ir.Header{Value: "*"}
	if !c.AllOrigins() {
		var alts []string
		for _, o := range c.AllowOrigins {
			alts = append(alts, originPattern(o))
		}
		m.Headers = append(m.Headers, ir.HeaderMatch{Name: "origin", Regex: `(?i)(?:` + strings.Join(alts, "|") + `)`})
		// The request's own Origin, which the match above has allowed.
		origin = ir.Header{FromRequest: "origin"}
	}
	return &ir.Route{
		Match:           m,
		Direct:          &ir.Direct{Status: 204},
		ResponseHeaders: append(corsHeaders(c, origin), ir.Header{Name: "Content-Type", Value: "text/plain charset=UTF-8"}),
		Source:          source,
	}
}

// corsHeaders are ingress-nginx's CORS response headers, with origin as
// Access-Control-Allow-Origin.
func corsHeaders(c *nginx.CORS, origin ir.Header) []ir.Header {
	origin.Name = "Access-Control-Allow-Origin"
	out := []ir.Header{origin}
	if c.AllowCredentials {
		out = append(out, ir.Header{Name: "Access-Control-Allow-Credentials", Value: "true"})
	}
	out = append(out,
		ir.Header{Name: "Access-Control-Allow-Methods", Value: c.AllowMethods},
		ir.Header{Name: "Access-Control-Allow-Headers", Value: c.AllowHeaders})
	if c.ExposeHeaders != "" {
		out = append(out, ir.Header{Name: "Access-Control-Expose-Headers", Value: c.ExposeHeaders})
	}
	return append(out, ir.Header{Name: "Access-Control-Max-Age", Value: fmt.Sprint(c.MaxAge)})
}
