package ingress

import (
	"fmt"
	"regexp/syntax"
	"strings"

	"github.com/rukou/rukou/translator/nginx"
	networkingv1 "k8s.io/api/networking/v1"
)

// regexHosts returns the hosts whose paths are regular expressions: ingress-
// nginx matches every path of a host case-insensitively as a regular
// expression, on every Ingress of the host, once one Ingress of the host
// sets use-regex or rewrites a path. Rules without a host form the host "".
// Canary Ingresses take their paths from their primary and do not count.
func regexHosts(ings []*ingressRef) map[string]bool {
	out := map[string]bool{}
	for _, ing := range ings {
		if ing.ann.Canary != nil {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if ing.ann.UseRegex || ing.ann.Rewrites(p.Path) {
					out[strings.ToLower(rule.Host)] = true
				}
			}
		}
	}
	return out
}

// regexPath checks a rule path for regex mode: it must start with "/" and
// be a regular expression that Envoy's RE2 accepts. It returns the number
// of groups the expression captures.
func regexPath(p string) (int, error) {
	if !strings.HasPrefix(p, "/") {
		return 0, fmt.Errorf("path %q must start with /", p)
	}
	// Go's regexp/syntax is RE2's syntax. PCRE-only constructs that nginx
	// accepts (lookarounds, backreferences) fail here and are reported.
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return 0, fmt.Errorf("path %q is not a regular expression RE2 accepts: %v", p, err)
	}
	return re.MaxCap(), nil
}

// pathMatch maps an Ingress path to a model match. On a regex host every
// path is a regular expression; elsewhere ImplementationSpecific behaves as
// Prefix.
func pathMatch(p networkingv1.HTTPIngressPath, regex bool) (PathMatch, string, error) {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if regex {
		if _, err := regexPath(path); err != nil {
			return "", "", err
		}
		return PathRegex, path, nil
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", fmt.Errorf("path %q must start with /", p.Path)
	}
	// Envoy matches paths without the query string, and refuses a
	// path_separated_prefix that holds "?" or "#".
	if strings.ContainsAny(path, "?#") {
		return "", "", fmt.Errorf("path %q must not contain ? or #", p.Path)
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return PathExact, path, nil
	}
	// A trailing slash in a Prefix rule is ignored: "/foo/" matches as "/foo".
	if trimmed := strings.TrimRight(path, "/"); trimmed != "" {
		path = trimmed
	} else {
		path = "/"
	}
	return PathPrefix, path, nil
}

// rewriteFor returns the Rewrite of a rule path, or nil when its Ingress
// does not rewrite it.
func rewriteFor(a *nginx.Annotations, path string) *Rewrite {
	if !a.Rewrites(path) {
		return nil
	}
	groups, err := regexPath(path)
	if err != nil {
		return nil // reported by pathMatch; the rule is not served
	}
	return &Rewrite{Pattern: path, Target: a.RewriteTarget, Groups: groups}
}
