package translator

import (
	"fmt"
	"math"
	"regexp/syntax"
	"strings"
)

// canaryAnnotations are the annotations of a canary Ingress, which joins the
// routes of the primary Ingress with the same host and path.
var canaryAnnotations = []string{
	"affinity-canary-behavior", "canary", "canary-by-cookie", "canary-by-header", "canary-by-header-pattern",
	"canary-by-header-value", "canary-weight", "canary-weight-total",
}

// canarySpec is how a canary Ingress splits the traffic of its paths.
type canarySpec struct {
	header, headerValue, headerPattern, cookie string
	weight, weightTotal                        uint32
	legacy                                     bool
}

// canary reads the canary-* annotations of an Ingress marked as a canary.
func (r *annotationReader) canary() *canarySpec {
	c := &canarySpec{weightTotal: 100}
	if v, ok := r.get("canary-by-header"); ok {
		if isToken(v) {
			c.header = strings.ToLower(v)
		} else {
			r.invalid("canary-by-header", "is not a header name", "no routing by header")
		}
	}
	if v, ok := r.get("canary-by-header-value"); ok && c.header != "" {
		if v != "" && printable(v) {
			c.headerValue = v
		} else {
			r.invalid("canary-by-header-value", "is not a printable header value", `"always" and "never" apply`)
		}
	}
	if v, ok := r.get("canary-by-header-pattern"); ok && c.header != "" && c.headerValue == "" {
		if _, err := syntax.Parse(v, syntax.Perl); err == nil && v != "" && printable(v) {
			c.headerPattern = v
		} else {
			r.invalid("canary-by-header-pattern", "is not a regular expression RE2 accepts", `"always" and "never" apply`)
		}
	}
	if v, ok := r.get("canary-by-cookie"); ok {
		if isToken(v) {
			c.cookie = v
		} else {
			r.invalid("canary-by-cookie", "is not a cookie name", "no routing by cookie")
		}
	}
	// Read on the canary, as ingress-nginx reads it; it matters only
	// when the route has session affinity.
	if v, ok := r.get("affinity-canary-behavior"); ok {
		switch v {
		case "sticky":
		case "legacy":
			c.legacy = true
		default:
			r.invalid("affinity-canary-behavior", `is not "sticky" or "legacy"`, "sticky applies")
		}
	}
	if n, ok := r.number("canary-weight-total", 1, math.MaxInt32); ok {
		c.weightTotal = uint32(n)
	}
	if n, ok := r.number("canary-weight", 0, math.MaxInt32); ok {
		c.weight = uint32(n)
		if c.weight > c.weightTotal {
			r.invalid("canary-weight", fmt.Sprintf("is more than the total weight %d", c.weightTotal), "every request goes to the canary")
			c.weight = c.weightTotal
		}
	}
	return c
}

// printable reports whether s holds only printable ASCII.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// addCanary joins the paths of a canary Ingress to the primary routes with
// the same host, path and type. Canaries are added after every primary, so
// the primary's age does not matter; of two canaries for one route, the
// older wins.
func (b *builder) addCanary(ing *ingressRef) {
	if ing.Spec.DefaultBackend != nil {
		b.reportField(ing.Ingress, "spec.defaultBackend", ReasonCanaryUnused, "a canary Ingress's defaultBackend is not used; only its rules join primary routes")
	}
	for i, rule := range ing.Spec.Rules {
		host := strings.ToLower(rule.Host)
		if rule.HTTP == nil || (host != "" && !validHost(host)) {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			match, path, err := pathMatch(p, b.regex[host])
			if err != nil {
				b.reportField(ing.Ingress, field+".path", ReasonInvalidPath, "host %q: %v", host, err)
				continue
			}
			primary, ok := b.claimed[routeKey{host: host, match: match, path: path}]
			switch {
			case !ok:
				b.reportField(ing.Ingress, field, ReasonCanaryUnused, "no primary Ingress serves host %q path %q (%s); the canary is not used", host, p.Path, match)
				continue
			case primary.Canary != nil:
				b.reportField(ing.Ingress, field, ReasonConflict, "host %q path %q already has the older canary Ingress %s", host, p.Path, primary.Canary.Source)
				continue
			case primary.Backend == "":
				b.reportField(ing.Ingress, field, ReasonCanaryUnused, "the primary route of host %q path %q does not proxy (it redirects, or its backend cannot be used); the canary is not used", host, p.Path)
				continue
			}
			kind := b.kinds[primary]
			// The route's session cookie, the primary's or else the
			// canary's, keeps clients on one endpoint on either side, and
			// Envoy sets it from either.
			kind.affinity = kind.affinity || ing.ann.policy != nil && ing.ann.policy.Affinity != nil
			name, ok := b.backendFor(ing.Ingress, field+".backend", p.Backend, kind, "the canary is not used")
			if !ok {
				continue
			}
			c := ing.ann.canary
			primary.Canary = &Canary{
				Backend: name, Header: c.header, HeaderValue: c.headerValue, HeaderPattern: c.headerPattern,
				Cookie: c.cookie, Weight: c.weight, WeightTotal: c.weightTotal, Legacy: c.legacy, Source: ing.source,
			}
			if ing.ann.policy != nil && (primary.Policy == nil || primary.Policy.Affinity == nil) {
				// The canary's session affinity applies when the primary
				// has none of its own. Routes of one Ingress share their
				// Policy, so this route gets a copy.
				p := Policy{}
				if primary.Policy != nil {
					p = *primary.Policy
				}
				p.Affinity = ing.ann.policy.Affinity
				primary.Policy = &p
			}
		}
	}
}
