package translator

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// routingAnnotations are the annotations that decide where a request goes:
// redirects (this file) and rewrites (rewrite.go).
var routingAnnotations = []string{
	"app-root", "force-ssl-redirect", "from-to-www-redirect",
	"permanent-redirect", "permanent-redirect-code", "preserve-trailing-slash", "rewrite-target", "ssl-redirect",
	"temporal-redirect", "temporal-redirect-code", "use-regex",
}

// routing reads the routing annotations into a.
func (r *annotationReader) routing(a *annotations) {
	a.sslRedirect = r.boolean("ssl-redirect", true)
	a.forceSSLRedirect = r.boolean("force-ssl-redirect", false)
	// rukou's HTTPS redirect always keeps the path as sent, which is what
	// preserve-trailing-slash: "true" asks; the value is only checked.
	r.boolean("preserve-trailing-slash", false)
	a.useRegex = r.boolean("use-regex", false)
	target, ok := r.rewriteTarget()
	a.rewriteTarget, a.badRewrite = target, !ok
	// app-root may carry a query.
	a.appRoot = r.pathValue("app-root", "/?", "no app-root redirect")
	a.fromToWWW = r.boolean("from-to-www-redirect", false)
	a.redirect = r.redirect()
}

// redirect reads temporal-redirect and permanent-redirect; the temporal one
// wins when both are set, as in ingress-nginx.
func (r *annotationReader) redirect() *Redirect {
	temporal := r.redirectTo("temporal-redirect", "temporal-redirect-code", 302)
	if temporal != nil {
		if _, ok := r.get("permanent-redirect"); ok {
			r.issue("permanent-redirect", ReasonAnnotationIgnored, "ignored: temporal-redirect is set and takes precedence")
		}
		return temporal
	}
	return r.redirectTo("permanent-redirect", "permanent-redirect-code", 301)
}

// redirectTo reads a redirect URL and its code annotation. ingress-nginx
// accepts codes from 300 to 308; Envoy can send 301, 302, 303, 307 and 308.
func (r *annotationReader) redirectTo(name, codeName string, def uint32) *Redirect {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	rd, err := parseRedirectURL(v)
	if err != nil {
		r.invalid(name, err.Error(), "no redirect")
		return nil
	}
	rd.Code = def
	if c, ok := r.get(codeName); ok {
		switch c {
		case "301", "302", "303", "307", "308":
			n, _ := strconv.Atoi(c)
			rd.Code = uint32(n)
		default:
			r.invalid(codeName, "is not 301, 302, 303, 307 or 308", fmt.Sprintf("using %d", def))
		}
	}
	return rd
}

// requestURI is the one nginx variable a redirect URL may use, at its end
// and after the host: the request's own path and query.
const requestURI = "$request_uri"

// parseRedirectURL checks an absolute http or https URL and splits it.
func parseRedirectURL(v string) (*Redirect, error) {
	base, keep := strings.CutSuffix(v, requestURI)
	if strings.Contains(base, "$") {
		return nil, fmt.Errorf("uses an nginx variable; rukou knows only %s, at the end, after the host", requestURI)
	}
	u, err := url.Parse(base)
	if err != nil || u.Opaque != "" {
		return nil, fmt.Errorf("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("is not an http or https URL")
	}
	if u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("must have no user information and no fragment")
	}
	host := strings.ToLower(u.Hostname())
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Is6() {
			host = "[" + addr.String() + "]"
		}
	} else if !validHost(host) || strings.HasPrefix(host, "*.") {
		return nil, fmt.Errorf("has no valid host")
	}
	if keep && (u.EscapedPath() != "" || u.RawQuery != "" || u.ForceQuery) {
		return nil, fmt.Errorf("has a path or query before %s; it must follow the host", requestURI)
	}
	rd := &Redirect{Scheme: u.Scheme, Host: host, PathAndQuery: u.EscapedPath()}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("has an invalid port")
		}
		rd.Port = uint32(n)
	}
	if keep {
		return rd, nil
	}
	if rd.PathAndQuery == "" {
		rd.PathAndQuery = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		rd.PathAndQuery += "?" + u.RawQuery
	}
	if !validURIChars(rd.PathAndQuery, "/?") {
		return nil, fmt.Errorf("has characters that are not allowed in a URL")
	}
	return rd, nil
}

// pathValue reads an annotation whose value is a path starting with "/":
// the characters of a URI path and of extra, and no nginx variable.
func (r *annotationReader) pathValue(name, extra, fallback string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	if !strings.HasPrefix(v, "/") || strings.Contains(v, "$") || !validURIChars(v, extra) {
		r.invalid(name, "is not a path starting with /", fallback)
		return ""
	}
	return v
}

// validURIChars reports whether s holds only characters of a URI path
// segment (RFC 3986 pchar, with %-escapes) and those of extra.
func validURIChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0, strings.IndexByte(extra, c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

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
	if a.appRoot != "" {
		for _, h := range hosts {
			prev, ok := b.appRoots[h]
			switch {
			case !ok:
				b.appRoots[h] = hostSetting{a.appRoot, ing.source}
			case prev.value != a.appRoot:
				b.reportField(ing.Ingress, "metadata.annotations["+annotationPrefix+"app-root]", ReasonConflict,
					"app-root for host %q ignored: Ingress %s is older and sets %q", h, prev.source, prev.value)
			}
		}
	}
	if !a.fromToWWW {
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
		if _, taken := b.aliases[alias]; !taken && validHost(alias) {
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
		if _, served := b.hosts[alias]; served {
			continue
		}
		if _, served := b.hostDefaults[alias]; served {
			continue
		}
		if c := b.tls.certificateOf(set.value); c != nil && c.leaf != nil && !b.tls.covers(alias) && c.leaf.VerifyHostname(alias) == nil {
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
