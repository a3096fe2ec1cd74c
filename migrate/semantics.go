package migrate

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rukou/rukou/translator/nginx"
)

// semantics are the differences an Ingress's spec makes, whatever its
// annotations: where ingress-nginx's nginx and rukou's Envoy read the same
// field differently (docs/ingress.md). Hostless rules, default backends,
// Prefix and Exact paths and regex mode are read as ingress-nginx reads
// them, and say nothing here. regex holds the hosts in regex mode.
func semantics(ing *networkingv1.Ingress, regex map[string]bool) []Semantic {
	out := []Semantic{}
	for i, rule := range ing.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		if strings.HasPrefix(rule.Host, "*.") {
			out = append(out, Semantic{Field: field + ".host", Note: fmt.Sprintf(
				"%s matches exactly one label, as the Ingress API says; nginx also matched deeper names (a.b%s)", rule.Host, rule.Host[1:])})
		}
		if rule.Host != "" && len(ing.Spec.TLS) > 0 && !tlsNames(ing, rule.Host) {
			out = append(out, Semantic{Field: field + ".host", Note: fmt.Sprintf(
				"no spec.tls entry names %s: rukou serves it over HTTPS only when one of this Ingress's certificates covers it, never with a default certificate (ingress-nginx falls back to its own)", rule.Host)})
		}
		if rule.HTTP == nil || regex[strings.ToLower(rule.Host)] {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			if p.PathType != nil && *p.PathType == networkingv1.PathTypeImplementationSpecific && !strings.HasSuffix(p.Path, "/") {
				out = append(out, Semantic{Field: fmt.Sprintf("%s.http.paths[%d].path", field, j), Note: fmt.Sprintf(
					"ImplementationSpecific %s matches as Prefix, element by element; nginx matched it as a string prefix (%s also matched %s-v2)", p.Path, p.Path, p.Path)})
			}
		}
	}
	return out
}

// regexHosts are the hosts (lowercase; "" for rules without one) that an
// Ingress puts in regex mode with use-regex or rewrite-target: in both
// controllers, every path of such a host is a regular expression, on
// every Ingress that names it.
func regexHosts(ings []*networkingv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, ing := range ings {
		if ing.Annotations[nginx.Prefix+"use-regex"] != "true" && ing.Annotations[nginx.Prefix+"rewrite-target"] == "" {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			out[strings.ToLower(rule.Host)] = true
		}
	}
	return out
}

// tlsNames says whether a spec.tls entry of ing names host, exactly or by
// a one-label wildcard.
func tlsNames(ing *networkingv1.Ingress, host string) bool {
	wildcard := ""
	if _, rest, ok := strings.Cut(host, "."); ok {
		wildcard = "*." + rest
	}
	for _, t := range ing.Spec.TLS {
		if slices.Contains(t.Hosts, host) || (wildcard != "" && slices.Contains(t.Hosts, wildcard)) {
			return true
		}
	}
	return false
}
