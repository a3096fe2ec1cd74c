package ingress

import (
	"regexp"

	"github.com/rukou/rukou/translator/ir"
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
		cookie := func(v string) ir.HeaderMatch {
			// One cookie among others, in one Cookie header or several
			// that Envoy joined.
			return ir.HeaderMatch{Name: "cookie", Regex: `(.*[;,]\s*)?` + regexp.QuoteMeta(c.Cookie) + `=` + v + `(\s*[;,].*)?`}
		}
		out = append(out, canaryChoice{cookie("always"), canary}, canaryChoice{cookie("never"), primary})
	}
	return out
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
