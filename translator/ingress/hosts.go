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
		if _, taken := b.aliasOf[alias]; taken {
			continue // a server-alias serves it
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

// serverAliases are the server-alias names of one host, from the oldest
// Ingress that names the host with aliases.
type serverAliases struct {
	names []string
	ing   *ingressRef
}

// addServerAliases records an Ingress's server-alias for the hosts it
// names, as ingress-nginx does: the first Ingress with aliases for a host
// sets them; a later one's are reported and left out. Rules without a
// host already serve every name no rule names, so their aliases change
// nothing.
func (b *builder) addServerAliases(ing *ingressRef, hosts []string) {
	if len(ing.ann.ServerAliases) == 0 {
		return
	}
	for _, h := range hosts {
		if prev, ok := b.serverAliases[h]; ok {
			b.reportField(ing.Ingress, nginx.Field("server-alias"), ir.ReasonConflict,
				"server-alias for host %q ignored: Ingress %s is older and sets the host's aliases", h, prev.ing.source)
			continue
		}
		b.serverAliases[h] = serverAliases{ing.ann.ServerAliases, ing}
	}
}

// serverAliasHosts returns a virtual host for each server alias of the
// named hosts, with its host's routes. As in ingress-nginx, an alias that
// a rule names as its host is left out (the rule's host is served on its
// own); rukou reports it. An alias two hosts claim goes to the first host
// by name, whose nginx server comes first. An alias is served over HTTPS
// when its host's certificate is valid for it.
func (b *builder) serverAliasHosts(named []*VirtualHost) []*VirtualHost {
	var out []*VirtualHost
	for _, vh := range named {
		set, ok := b.serverAliases[vh.Host]
		if !ok {
			continue
		}
		for _, alias := range set.names {
			if _, served := b.firstNamer[alias]; served {
				if alias != vh.Host {
					b.reportField(set.ing.Ingress, nginx.Field("server-alias"), ir.ReasonAnnotationIgnored,
						"alias %q of host %q left out: a rule names it as its host, which is served on its own", alias, vh.Host)
				}
				continue
			}
			if owner, dup := b.aliasOf[alias]; dup {
				b.reportField(set.ing.Ingress, nginx.Field("server-alias"), ir.ReasonConflict,
					"alias %q of host %q left out: host %q has it too and comes first", alias, vh.Host, owner)
				continue
			}
			b.aliasOf[alias] = vh.Host
			if c := b.tls.certificateOf(vh.Host); c != nil && c.leaf != nil && !b.tls.covers(alias) && certCovers(c.leaf, alias) {
				b.tls.byHost[alias] = c
			}
			out = append(out, &VirtualHost{Host: alias, Routes: vh.Routes, TLS: b.tls.covers(alias), NoAccessLog: vh.NoAccessLog,
				AppRoot: vh.AppRoot, Source: vh.Source})
		}
	}
	return out
}
