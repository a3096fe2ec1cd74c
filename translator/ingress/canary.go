package ingress

import (
	"fmt"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// addCanary joins the paths of a canary Ingress to the primary routes with
// the same host, path and type. Canaries are added after every primary, so
// the primary's age does not matter; of two canaries for one route, the
// older wins.
func (b *builder) addCanary(ing *ingressRef) {
	if ing.Spec.DefaultBackend != nil {
		b.reportField(ing.Ingress, "spec.defaultBackend", ir.ReasonCanaryUnused, "a canary Ingress's defaultBackend is not used; only its rules join primary routes")
	}
	for i, rule := range ing.Spec.Rules {
		host := strings.ToLower(rule.Host)
		if rule.HTTP == nil || (host != "" && !valid.Host(host)) {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			match, path, err := pathMatch(p, b.regex[host])
			if err != nil {
				b.reportField(ing.Ingress, field+".path", ir.ReasonInvalidPath, "host %q: %v", host, err)
				continue
			}
			primary, ok := b.claimed[routeKey{host: host, match: match, path: path}]
			switch {
			case !ok:
				b.reportField(ing.Ingress, field, ir.ReasonCanaryUnused, "no primary Ingress serves host %q path %q (%s); the canary is not used", host, p.Path, match)
				continue
			case primary.Canary != nil:
				b.reportField(ing.Ingress, field, ir.ReasonConflict, "host %q path %q already has the older canary Ingress %s", host, p.Path, primary.Canary.Source)
				continue
			case primary.Backend == "":
				b.reportField(ing.Ingress, field, ir.ReasonCanaryUnused, "the primary route of host %q path %q does not proxy (it redirects, or its backend cannot be used); the canary is not used", host, p.Path)
				continue
			}
			kind := b.kinds[primary]
			// The route's session cookie, the primary's or else the
			// canary's, keeps clients on one endpoint on either side, and
			// Envoy sets it from either.
			kind.affinity = kind.affinity || ing.ann.Policy != nil && ing.ann.Policy.Affinity != nil
			// The canary is a cluster of its own, which the access log
			// names as the alternative upstream when it answers.
			kind.canary = true
			name, ok := b.backendFor(ing.Ingress, field+".backend", p.Backend, kind, "the canary is not used")
			if !ok {
				continue
			}
			c := ing.ann.Canary
			primary.Canary = &Canary{Canary: *c, Backend: name, Source: ing.source}
			if ing.ann.Policy != nil && (primary.Policy == nil || primary.Policy.Affinity == nil) {
				// The canary's session affinity applies when the primary
				// has none of its own. Routes of one Ingress share their
				// Policy, so this route gets a copy.
				p := nginx.Policy{}
				if primary.Policy != nil {
					p = *primary.Policy
				}
				p.Affinity = ing.ann.Policy.Affinity
				primary.Policy = &p
			}
		}
	}
}
