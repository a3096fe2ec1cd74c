package nginx

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// Redirect is a redirect to a fixed URL (permanent-redirect,
// temporal-redirect), which nginx answers with return CODE URL: the URL
// goes to Location as written, absolute or relative.
type Redirect struct {
	// Code is 301, 302, 303, 307 or 308.
	Code uint32
	// Scheme is "http" or "https"; Host a DNS name or an IP address; Port
	// zero when the URL names none. Scheme and Host are empty for a
	// relative URL.
	Scheme string
	Host   string
	Port   uint32
	// PathAndQuery is the URL's path and query as written: empty when the
	// URL ends at its host.
	PathAndQuery string
	// KeepRequestURI appends the request's own path and query to the URL
	// (nginx's $request_uri after the host).
	KeepRequestURI bool
	// A relative URL goes to Location as written when Relative is set
	// (relative-redirects, nginx's absolute_redirect off); otherwise nginx
	// makes it absolute with the request's scheme and host, and with the
	// port only when KeepPort is set (use-port-in-redirects).
	Relative, KeepPort bool
}

// Location is the URL as it goes to the Location header, without the
// request's path and query that KeepRequestURI adds.
func (rd *Redirect) Location() string {
	if rd.Host == "" {
		return rd.PathAndQuery
	}
	host := rd.Host
	if rd.Port != 0 {
		host += ":" + strconv.FormatUint(uint64(rd.Port), 10)
	}
	return rd.Scheme + "://" + host + rd.PathAndQuery
}

func readSSLRedirect(r *reader, a *Annotations) {
	a.SSLRedirect = r.boolean("ssl-redirect", a.SSLRedirect)
}

func readForceSSLRedirect(r *reader, a *Annotations) {
	a.ForceSSLRedirect = r.boolean("force-ssl-redirect", false)
}

// readPreserveTrailingSlash only checks the value: rukou's HTTPS redirect
// always keeps the path as sent, which is what "true" asks.
func readPreserveTrailingSlash(r *reader, _ *Annotations) {
	r.boolean("preserve-trailing-slash", false)
}

func readUseRegex(r *reader, a *Annotations) { a.UseRegex = r.boolean("use-regex", false) }

func readFromToWWW(r *reader, a *Annotations) {
	a.FromToWWW = r.boolean("from-to-www-redirect", false)
}

// readAppRoot reads app-root, which may carry a query.
func readAppRoot(r *reader, a *Annotations) {
	a.AppRoot = r.pathValue("app-root", "/?", "no app-root redirect")
}

// readRewriteTarget reads rewrite-target: a path in which $1 to $9 stand
// for the groups the rule's path captures. Anything else that nginx would
// read as a variable is refused, and the Ingress's rules are not served.
func readRewriteTarget(r *reader, a *Annotations) {
	v, set := r.get("rewrite-target")
	if !set {
		return
	}
	plain := strings.NewReplacer("$1", "", "$2", "", "$3", "", "$4", "", "$5", "", "$6", "", "$7", "", "$8", "", "$9", "").Replace(v)
	if !strings.HasPrefix(v, "/") || strings.Contains(plain, "$") || !valid.URIChars(plain, "/") {
		r.invalid("rewrite-target", "is not a path starting with / (with $1 to $9 for the path's groups, and no query)",
			"the Ingress's rules are not served")
		a.BadRewrite = true
		return
	}
	a.RewriteTarget = v
}

// readRedirect reads temporal-redirect and permanent-redirect; the
// temporal one wins when both are set, as in ingress-nginx.
func readRedirect(r *reader, a *Annotations) {
	temporal := r.redirectTo("temporal-redirect", "temporal-redirect-code", 302)
	if temporal != nil {
		if _, ok := r.get("permanent-redirect"); ok {
			r.issue("permanent-redirect", ir.ReasonAnnotationIgnored, "ignored: temporal-redirect is set and takes precedence")
		}
		a.Redirect = temporal
		return
	}
	a.Redirect = r.redirectTo("permanent-redirect", "permanent-redirect-code", 301)
}

// redirectTo reads a redirect URL and its code annotation. ingress-nginx
// accepts codes from 300 to 308; Envoy can send 301, 302, 303, 307 and 308.
func (r *reader) redirectTo(name, codeName string, def uint32) *Redirect {
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

// readRedirectForm reads relative-redirects (the ConfigMap's by default)
// and use-port-in-redirects, which change how nginx writes the relative
// URL of a redirect it makes itself: those of permanent-redirect and
// temporal-redirect, the only ones rukou makes from a relative URL
// (app-root, from-to-www-redirect and the HTTPS redirect give nginx an
// absolute URL).
func readRedirectForm(r *reader, a *Annotations) {
	relative := r.boolean("relative-redirects", r.defaults.RelativeRedirects)
	keepPort := r.boolean("use-port-in-redirects", false)
	if a.Redirect != nil {
		a.Redirect.Relative, a.Redirect.KeepPort = relative, keepPort
	}
}

// requestURI is the one nginx variable a redirect URL may use, at its end
// and after the host: the request's own path and query.
const requestURI = "$request_uri"

// parseRedirectURL checks an absolute http or https URL, or a path (with
// a query), and splits it.
func parseRedirectURL(v string) (*Redirect, error) {
	base, keep := strings.CutSuffix(v, requestURI)
	if strings.Contains(base, "$") {
		return nil, fmt.Errorf("uses an nginx variable; rukou knows only %s, at the end, after the host", requestURI)
	}
	if strings.HasPrefix(base, "/") && !strings.HasPrefix(base, "//") {
		if keep {
			return nil, fmt.Errorf("has %s after a path; it must follow a host", requestURI)
		}
		if !valid.URIChars(base, "/?") {
			return nil, fmt.Errorf("has characters that are not allowed in a URL")
		}
		return &Redirect{PathAndQuery: base}, nil
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
	} else if !valid.Host(host) || strings.HasPrefix(host, "*.") {
		return nil, fmt.Errorf("has no valid host")
	}
	if keep && (u.EscapedPath() != "" || u.RawQuery != "" || u.ForceQuery) {
		return nil, fmt.Errorf("has a path or query before %s; it must follow the host", requestURI)
	}
	rd := &Redirect{Scheme: u.Scheme, Host: host, PathAndQuery: u.EscapedPath(), KeepRequestURI: keep}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("has an invalid port")
		}
		rd.Port = uint32(n)
	}
	if u.RawQuery != "" || u.ForceQuery {
		rd.PathAndQuery += "?" + u.RawQuery
	}
	if rd.PathAndQuery != "" && !valid.URIChars(rd.PathAndQuery, "/?") {
		return nil, fmt.Errorf("has characters that are not allowed in a URL")
	}
	return rd, nil
}

// pathValue reads an annotation whose value is a path starting with "/":
// the characters of a URI path and of extra, and no nginx variable.
func (r *reader) pathValue(name, extra, fallback string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	if !strings.HasPrefix(v, "/") || strings.Contains(v, "$") || !valid.URIChars(v, extra) {
		r.invalid(name, "is not a path starting with /", fallback)
		return ""
	}
	return v
}

// readServerAlias reads server-alias: host names separated by commas. A
// name that is not a host name is reported and left out; the others stay.
func readServerAlias(r *reader, a *Annotations) {
	v, ok := r.get("server-alias")
	if !ok {
		return
	}
	for _, name := range strings.Split(v, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "":
		case !valid.Host(name):
			r.issue("server-alias", ir.ReasonInvalidAnnotation, "%q is not a host name; the other aliases are served", name)
		case !slices.Contains(a.ServerAliases, name):
			a.ServerAliases = append(a.ServerAliases, name)
		}
	}
	slices.Sort(a.ServerAliases)
}
