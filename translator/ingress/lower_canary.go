package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// canaryChoice is a route, before the canary's main route, that decides by
// a header or a cookie: to the canary backend, or to the primary's.
type canaryChoice struct {
	when    ir.HeaderMatch
	cluster string
}

// canaryChoices lists the header and cookie decisions in ingress-nginx's
// order: the header, then the cookie. Requests they leave undecided go to
// the weighted main route.
func canaryChoices(primary string, c *Canary) []canaryChoice {
	canary := c.Backend
	var out []canaryChoice
	if c.Header != "" {
		switch {
		case c.HeaderValue != "":
			out = append(out, canaryChoice{ir.HeaderMatch{Name: c.Header, Exact: c.HeaderValue}, canary})
		case c.BadHeaderPattern:
			// ingress-nginx stops at the pattern's error: the primary
			// answers, and the cookie and the weight are not consulted.
			out = append(out, canaryChoice{ir.HeaderMatch{Name: c.Header, Regex: `.*`}, primary})
		case c.HeaderPattern != "":
			// ingress-nginx searches the value for the pattern; a header
			// match holds the whole value.
			out = append(out, canaryChoice{ir.HeaderMatch{Name: c.Header, Regex: `.*(?:` + c.HeaderPattern + `).*`}, canary})
		default:
			out = append(out,
				canaryChoice{ir.HeaderMatch{Name: c.Header, Exact: "always"}, canary},
				canaryChoice{ir.HeaderMatch{Name: c.Header, Exact: "never"}, primary})
		}
	}
	if c.Cookie != "" {
		out = append(out, canaryChoice{cookieMatch(c.Cookie, "always"), canary}, canaryChoice{cookieMatch(c.Cookie, "never"), primary})
	}
	return out
}

// cookieMatch matches a request with the cookie name whose value the
// regular expression v matches: one cookie among others, in one Cookie
// header or several that Envoy joined.
func cookieMatch(name, v string) ir.HeaderMatch {
	return ir.HeaderMatch{Name: "cookie", Regex: `(.*[;,]\s*)?` + regexp.QuoteMeta(name) + `=` + v + `(\s*[;,].*)?`}
}

// stickyChoices are the routes, before every other canary decision, that
// keep a client with a session cookie on the side that issued it, as
// ingress-nginx's balancer looks at the affinity cookie first: its value
// ends with the tag of the backend that issued it. Under legacy only the
// primary's cookie keeps a client, as the canary then issues none.
func stickyChoices(primary string, c *Canary, aff *nginx.Affinity) []canaryChoice {
	if aff == nil {
		return nil
	}
	side := func(cluster string) canaryChoice {
		return canaryChoice{cookieMatch(aff.CookieName, `[^;,]*\|`+sideTag(cluster)), cluster}
	}
	if c.Legacy {
		return []canaryChoice{side(primary)}
	}
	return []canaryChoice{side(c.Backend), side(primary)}
}

// issueSideCookies makes a route of a canary with session affinity issue
// the session cookie tagged with the backend that answers (under legacy,
// the primary only), for stickyChoices to find. Envoy's own session
// cookie cannot say which backend of a weighted route answered.
func issueSideCookies(route *ir.Route, c *Canary) *ir.Route {
	fw := route.Forward
	if c == nil || fw == nil || fw.SessionCookie == nil {
		return route
	}
	for i, b := range fw.Backends {
		if b.Cluster != c.Backend || !c.Legacy {
			fw.Backends[i].CookieTag = sideTag(b.Cluster)
		}
	}
	return route
}

// sideTag names a backend in a session cookie's value: a digest of its
// cluster's name, as ingress-nginx's cookie carries a digest of its
// backend's name.
func sideTag(cluster string) string {
	sum := sha256.Sum256([]byte(cluster))
	return hex.EncodeToString(sum[:6])
}

// canaryWeights are the backends of the requests that no header or cookie
// decided: the primary and the canary by weight.
func canaryWeights(primary string, c *Canary) []ir.WeightedCluster {
	switch c.Weight {
	case 0:
		return []ir.WeightedCluster{{Cluster: primary}}
	case c.WeightTotal:
		return []ir.WeightedCluster{{Cluster: c.Backend}}
	}
	return []ir.WeightedCluster{
		{Cluster: primary, Weight: c.WeightTotal - c.Weight},
		{Cluster: c.Backend, Weight: c.Weight},
	}
}
