package ingress

import (
	"crypto/x509"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// hostSetting is a per-host value that one Ingress sets for its hosts.
type hostSetting struct {
	value  string
	source string
}

// addHostRedirects records the app-root and from-to-www-redirect of an
// Ingress for its hosts. The oldest Ingress that sets a host's app-root
// wins; the others are reported.
func (b *builder) addHostRedirects(ing *ingressRef, hosts []string) {
	a := ing.ann
	if a.AppRoot != "" {
		for _, h := range hosts {
			prev, ok := b.appRoots[h]
			switch {
			case !ok:
				b.appRoots[h] = hostSetting{a.AppRoot, ing.source}
			case prev.value != a.AppRoot:
				b.reportField(ing.Ingress, nginx.Field("app-root"), ir.ReasonConflict,
					"app-root for host %q ignored: Ingress %s is older and sets %q", h, prev.source, prev.value)
			}
		}
	}
	if !a.FromToWWW {
		return
	}
	for _, h := range hosts {
		if h == WildcardHost || strings.HasPrefix(h, "*.") {
			continue
		}
		alias := "www." + h
		if bare, ok := strings.CutPrefix(h, "www."); ok {
			alias = bare
		}
		if _, taken := b.aliases[alias]; !taken && valid.Host(alias) {
			b.aliases[alias] = hostSetting{h, ing.source}
		}
	}
}

// aliasHosts returns the virtual hosts that redirect to their www (or
// bare) counterpart, leaving out names that rules serve themselves, as
// ingress-nginx does. An alias is served over HTTPS too when its target's
// certificate is valid for it.
func (b *builder) aliasHosts() []*VirtualHost {
	var out []*VirtualHost
	for alias, set := range b.aliases {
		if _, served := b.firstNamer[alias]; served {
			continue
		}
		if c := b.tls.certificateOf(set.value); c != nil && c.leaf != nil && !b.tls.covers(alias) && certCovers(c.leaf, alias) {
			b.tls.byHost[alias] = c
		}
		out = append(out, &VirtualHost{Host: alias, RedirectTo: set.value, Source: set.source, TLS: b.tls.covers(alias)})
	}
	return out
}

// certificateLeaf is the parsed first certificate of a chain, or nil.
func certificateLeaf(chain [][]byte) *x509.Certificate {
	if len(chain) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil
	}
	return leaf
}
