package nginx

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// The readers of what an Ingress asks of its backends' responses: the
// rewriting of Location, Refresh and Set-Cookie (proxy-redirect-from and
// -to, proxy-cookie-domain, proxy-cookie-path) and the custom-headers
// ConfigMap.

// The forms ingress-nginx accepts: a URL's characters for proxy_redirect
// and proxy_cookie_path, fewer for proxy_cookie_domain, and the custom
// headers' names and values.
var (
	rewriteURLChars    = regexp.MustCompile(`^[\-._~a-zA-Z0-9/:,?&=]+$`)
	rewriteDomainChars = regexp.MustCompile(`^[\-._~a-zA-Z0-9/:]+$`)
	configMapRef       = regexp.MustCompile(`^[\-._~a-zA-Z0-9:]+/[\-._~a-zA-Z0-9:]+$`)
	customHeaderName   = regexp.MustCompile(`^[a-zA-Z\d\-_]+$`)
	customHeaderValue  = regexp.MustCompile(`^[a-zA-Z\d_ :;.,\\/"'?!(){}\[\]@<>=\-+*#$&\x60|~^%]+$`)
)

// rewriteOff is the value that turns a rewrite off, ingress-nginx's
// default.
const rewriteOff = "off"

// rewrite returns a's ResponseRewrite, making it when a has none yet.
func (a *Annotations) rewrite() *ir.ResponseRewrite {
	p := a.policy()
	if p.ResponseRewrite == nil {
		p.ResponseRewrite = &ir.ResponseRewrite{}
	}
	return p.ResponseRewrite
}

// readProxyRedirect reads proxy-redirect-from and proxy-redirect-to,
// nginx's proxy_redirect FROM TO. As ingress-nginx writes its template,
// "off" or "default" in from, or "off" in to (the default of both), rewrite
// nothing; nginx's "default" rewrites only URLs that name its internal
// upstream, which backends never send.
func readProxyRedirect(r *reader, a *Annotations) {
	from, fromOK := r.rewriteText("proxy-redirect-from", rewriteURLChars, r.defaults.ProxyRedirectFrom)
	to, toOK := r.rewriteText("proxy-redirect-to", rewriteURLChars, rewriteOff)
	if !fromOK || !toOK {
		return
	}
	_, fromSet := r.get("proxy-redirect-from")
	_, toSet := r.get("proxy-redirect-to")
	switch {
	case from == "default" || from == rewriteOff:
		if toSet && to != rewriteOff {
			r.issue("proxy-redirect-to", ir.ReasonAnnotationIgnored, "proxy-redirect-from is %q: nothing is rewritten, as in ingress-nginx", from)
		}
		return
	case to == rewriteOff:
		if fromSet {
			r.issue("proxy-redirect-from", ir.ReasonAnnotationIgnored, "proxy-redirect-to is not set (or \"off\"): nothing is rewritten, as in ingress-nginx")
		}
		return
	}
	a.rewrite().Location = &ir.TextRewrite{From: from, To: to}
}

// rewriteText reads one word of a rewrite annotation, or def when it is
// not set. ok is false when the value cannot be used: it is reported, and
// nothing is rewritten.
func (r *reader) rewriteText(name string, chars *regexp.Regexp, def string) (string, bool) {
	v, set := r.get(name)
	if !set || v == "" {
		return def, true
	}
	if err := checkRewriteWord(v, chars); err != nil {
		r.invalid(name, err.Error(), "nothing is rewritten")
		return "", false
	}
	return v, true
}

// checkRewriteWord checks one word of proxy_redirect or proxy_cookie_*.
// nginx reads a word starting with "~" as a regular expression, which
// rukou does not run.
func checkRewriteWord(v string, chars *regexp.Regexp) error {
	switch {
	case strings.HasPrefix(v, "~"):
		return fmt.Errorf("is a regular expression (~), which rukou does not support")
	case !chars.MatchString(v):
		return fmt.Errorf("holds characters ingress-nginx does not allow here")
	}
	return nil
}

// defaultRewrite is the rewriting of the ConfigMap's proxy-cookie-domain
// and proxy-cookie-path (checked when read), nil when none; its
// proxy-redirect-from rewrites nothing without an Ingress's
// proxy-redirect-to.
func defaultRewrite(d *Settings) *ir.ResponseRewrite {
	domain, _ := parseCookieRewrite(d.ProxyCookieDomain, rewriteDomainChars)
	path, _ := parseCookieRewrite(d.ProxyCookiePath, rewriteURLChars)
	if domain == nil && path == nil {
		return nil
	}
	return &ir.ResponseRewrite{CookieDomain: lowerDomain(domain), CookiePath: path}
}

// lowerDomain readies a domain rewrite for the comparison nginx makes,
// which ignores letter case and a leading dot on either side.
func lowerDomain(rw *ir.TextRewrite) *ir.TextRewrite {
	if rw != nil {
		rw.From = strings.ToLower(strings.TrimPrefix(rw.From, "."))
	}
	return rw
}

// readCookieRewrites reads proxy-cookie-domain and proxy-cookie-path:
// "off", or "FROM TO" as nginx's directives of those names. Each replaces
// the ConfigMap's default of its name; one that cannot be used rewrites
// nothing.
func readCookieRewrites(r *reader, a *Annotations) {
	if rw, set := r.cookieRewrite("proxy-cookie-domain", rewriteDomainChars); set {
		a.rewrite().CookieDomain = lowerDomain(rw)
	}
	if rw, set := r.cookieRewrite("proxy-cookie-path", rewriteURLChars); set {
		a.rewrite().CookiePath = rw
	}
}

// cookieRewrite reads one proxy_cookie_* annotation; set is false when it
// is not set, and rw nil when it rewrites nothing.
func (r *reader) cookieRewrite(name string, chars *regexp.Regexp) (rw *ir.TextRewrite, set bool) {
	v, set := r.get(name)
	if !set || v == "" {
		return nil, false
	}
	rw, err := parseCookieRewrite(v, chars)
	if err != nil {
		r.invalid(name, err.Error(), "nothing is rewritten")
		return nil, true
	}
	return rw, true
}

// parseCookieRewrite reads "off" (nil) or "FROM TO".
func parseCookieRewrite(v string, chars *regexp.Regexp) (*ir.TextRewrite, error) {
	if v == "" || v == rewriteOff {
		return nil, nil
	}
	words := strings.Fields(v)
	if len(words) != 2 {
		return nil, fmt.Errorf("is not \"off\" nor two words, FROM TO")
	}
	for _, w := range words {
		if err := checkRewriteWord(w, chars); err != nil {
			return nil, fmt.Errorf("%q %v", w, err)
		}
	}
	return &ir.TextRewrite{From: words[0], To: words[1]}, nil
}

// readGlobalRewrites reads the ConfigMap's defaults of the rewrite
// annotations: proxy-redirect-from, proxy-cookie-domain and
// proxy-cookie-path. A value that cannot be used keeps "off".
func readGlobalRewrites(r *reader, s *Settings) {
	if v, ok := r.rewriteText("proxy-redirect-from", rewriteURLChars, rewriteOff); ok {
		s.ProxyRedirectFrom = v
	}
	for name, dst := range map[string]*string{"proxy-cookie-domain": &s.ProxyCookieDomain, "proxy-cookie-path": &s.ProxyCookiePath} {
		chars := rewriteURLChars
		if name == "proxy-cookie-domain" {
			chars = rewriteDomainChars
		}
		v, _ := r.get(name)
		if _, err := parseCookieRewrite(v, chars); err != nil {
			r.invalid(name, err.Error(), "using \"off\"")
			continue
		}
		if v != "" {
			*dst = v
		}
	}
}

// readCustomHeaders reads custom-headers: the ConfigMap (namespace/name)
// whose entries are headers set on every response of the Ingress; the
// frontend reads it (CustomHeaders). As in ingress-nginx, a value that is
// not a ConfigMap's name is reported and no header is set; a ConfigMap of
// another namespace (which ingress-nginx's documentation refuses) makes
// the Ingress's paths answer 503.
func readCustomHeaders(r *reader, a *Annotations) {
	v, ok := r.get("custom-headers")
	if !ok || v == "" {
		return
	}
	if !configMapRef.MatchString(v) {
		r.invalid("custom-headers", "is not a ConfigMap's namespace/name", "no header is set")
		return
	}
	ns, _, _ := strings.Cut(v, "/")
	if ingressNS, _, _ := strings.Cut(r.ingress, "/"); ns != ingressNS && a.Unservable == nil {
		a.Unservable = &Issue{"custom-headers", ir.ReasonInvalidAnnotation, fmt.Sprintf(
			"%q is not a ConfigMap of the Ingress's namespace (only those are allowed, as ingress-nginx documents); the Ingress's paths answer 503", v)}
		return
	}
	a.policy().CustomHeaders = v
}

// CustomHeaders reads the data of a custom-headers ConfigMap into response
// headers, sorted by name, with their values as written (a "$" is a "$").
// As in ingress-nginx, the annotation is refused (an error) when a name or
// value does not have the allowed form, or when a name is not among
// allowed (the ConfigMap's global-allowed-response-headers, compared as
// written).
func CustomHeaders(data map[string]string, allowed []string) ([]ir.Header, error) {
	out := make([]ir.Header, 0, len(data))
	for _, name := range slices.Sorted(maps.Keys(data)) {
		switch v := data[name]; {
		case !customHeaderName.MatchString(name) || !settable(name):
			return nil, fmt.Errorf("%q is not a header name rukou can set", name)
		case !customHeaderValue.MatchString(v):
			return nil, fmt.Errorf("the value of header %s holds characters ingress-nginx does not allow", name)
		case !slices.Contains(allowed, name):
			return nil, fmt.Errorf("header %s is not allowed: the controller's ConfigMap key global-allowed-response-headers lists %v", name, allowed)
		default:
			out = append(out, ir.Header{Name: name, Value: v})
		}
	}
	return out, nil
}

// readAllowedResponseHeaders reads global-allowed-response-headers: the
// header names custom-headers may set, separated by commas; a name that
// is not one is reported and left out, as ingress-nginx leaves it out.
func readAllowedResponseHeaders(r *reader, s *Settings) {
	v, ok := r.get("global-allowed-response-headers")
	if !ok {
		return
	}
	for _, name := range strings.Split(v, ",") {
		switch name = strings.TrimSpace(name); {
		case name == "":
		case !customHeaderName.MatchString(name):
			r.issue("global-allowed-response-headers", ir.ReasonInvalidConfigValue, "%q is not a header name; left out", name)
		default:
			s.Headers.AllowedResponseHeaders = append(s.Headers.AllowedResponseHeaders, name)
		}
	}
}
