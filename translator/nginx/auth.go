package nginx

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// ExternalAuth is an external authentication (auth-url, or the ConfigMap's
// global-auth-url) as read. The lowering adds what depends on the route:
// the timeouts and the cache's scope.
type ExternalAuth struct {
	ir.ExternalAuth
	// ProxySetHeaders, when set, names the ConfigMap (namespace/name) whose
	// data are extra headers of the auth request (auth-proxy-set-headers);
	// the frontend reads it into RequestHeaders.
	ProxySetHeaders string
}

// authNames are the names external authentication is read from: the
// annotations, or the ConfigMap's global-auth-* keys.
type authNames struct {
	url, method, signin, signinParam, responseHeaders, requestRedirect, cacheKey, cacheDuration, alwaysSetCookie string
}

var (
	annotationAuth = authNames{"auth-url", "auth-method", "auth-signin", "auth-signin-redirect-param", "auth-response-headers",
		"auth-request-redirect", "auth-cache-key", "auth-cache-duration", "auth-always-set-cookie"}
	globalAuth = authNames{"global-auth-url", "global-auth-method", "global-auth-signin", "global-auth-signin-redirect-param",
		"global-auth-response-headers", "global-auth-request-redirect", "global-auth-cache-key", "global-auth-cache-duration",
		"global-auth-always-set-cookie"}
)

// The forms ingress-nginx accepts (its annotation validators), and the
// methods nginx's proxy_method may send.
var (
	authURLChars    = regexp.MustCompile(`^[\-._~a-zA-Z0-9/:, ?&=$]*$`)
	authParamChars  = regexp.MustCompile(`^[\-._~a-zA-Z0-9/:,?&=]*$`)
	authKeyChars    = regexp.MustCompile(`^[A-Za-z0-9\-_${}]*$`)
	authHeaderName  = regexp.MustCompile(`^[a-zA-Z\d\-_]+$`)
	authMethods     = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|CONNECT|OPTIONS|TRACE)$`)
	authCacheStatus = regexp.MustCompile(`^\d{3}$`)
	authCacheTime   = regexp.MustCompile(`^(\d+)(ms|s|m|h|d|w|M|y)$`)
)

// cookieStatuses are the statuses of the responses that nginx's add_header
// (without "always") adds the auth service's cookie to.
var cookieStatuses = []uint32{200, 201, 204, 206, 301, 302, 303, 304, 307, 308}

// defaultCacheDuration is ingress-nginx's auth-cache-duration.
const defaultCacheDuration = "200 202 401 5m"

// authFail is why an external authentication cannot be honoured: its
// routes answer 503 rather than be served without it.
type authFail struct{ name, msg string }

// readExternalAuth reads an external authentication under names; nil
// without a URL. fail is set when a setting that guards the backend
// cannot be used; settings ingress-nginx drops with a warning (signin,
// redirect parameter, cache key) are reported and dropped.
func readExternalAuth(r *reader, n authNames) (a *ExternalAuth, fail *authFail) {
	raw, ok := r.get(n.url)
	if !ok {
		return nil, nil
	}
	a = &ExternalAuth{}
	text, err := authURL(raw)
	if err != nil {
		return a, &authFail{n.url, fmt.Sprintf("%q %v", raw, err)}
	}
	a.URL = text
	if m, ok := r.get(n.method); ok && m != "" {
		if !authMethods.MatchString(m) {
			return a, &authFail{n.method, fmt.Sprintf("%q is not an HTTP method", m)}
		}
		a.Method = m
	}
	if f := r.authResponseHeaders(n.responseHeaders, a); f != nil {
		return a, f
	}
	if v, ok := r.get(n.requestRedirect); ok {
		if !authParamChars.MatchString(v) {
			return a, &authFail{n.requestRedirect, fmt.Sprintf("%q is not a URL of the documented characters", v)}
		}
		a.RequestRedirect = v
	}
	always := false
	if v, ok := r.get(n.alwaysSetCookie); ok {
		if v != "true" && v != "false" {
			return a, &authFail{n.alwaysSetCookie, fmt.Sprintf("%q is not true or false", v)}
		}
		always = v == "true"
	}
	if !always {
		a.CookieStatuses = cookieStatuses
	}
	r.authSignin(n, a)
	if f := r.authCache(n, a); f != nil {
		return a, f
	}
	return a, nil
}

// authURL reads a URL with nginx variables, as ingress-nginx's
// StringToURL checks it.
func authURL(raw string) (ir.Text, error) {
	if !authURLChars.MatchString(raw) {
		return nil, fmt.Errorf("holds characters ingress-nginx does not allow")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("is not an http or https URL")
	case u.Host == "" || strings.Contains(u.Host, ".."):
		return nil, fmt.Errorf("has no valid host")
	}
	return nginxText(raw)
}

// authResponseHeaders reads the list of headers copied from the auth
// response: a header it cannot name would reach the backend as the client
// sent it, so a bad list refuses the routes.
func (r *reader) authResponseHeaders(name string, a *ExternalAuth) *authFail {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if !authHeaderName.MatchString(h) {
			return &authFail{name, fmt.Sprintf("%q is not a header name", h)}
		}
		a.ResponseHeaders = append(a.ResponseHeaders, h)
	}
	return nil
}

// authSignin reads the signin URL and its redirect parameter; ingress-nginx
// drops either when it cannot be used (401 then reaches the client).
func (r *reader) authSignin(n authNames, a *ExternalAuth) {
	if v, ok := r.get(n.signin); ok && v != "" {
		text, err := authURL(v)
		if err != nil {
			r.invalid(n.signin, err.Error(), "no signin redirect: 401 reaches the client")
		} else {
			a.SigninURL = text
		}
	}
	if v, ok := r.get(n.signinParam); ok && v != "" {
		if !authParamChars.MatchString(v) || strings.ContainsAny(v, "?&=/:") {
			r.invalid(n.signinParam, "is not a query parameter name", `using "rd"`)
		} else {
			a.SigninRedirectParam = v
		}
	}
}

// authCache reads the cache key and durations. A key that cannot be used
// turns the cache off, as in ingress-nginx; durations that cannot be read
// refuse the routes (ingress-nginx would drop the whole authentication).
func (r *reader) authCache(n authNames, a *ExternalAuth) *authFail {
	key, ok := r.get(n.cacheKey)
	if !ok || key == "" {
		return nil
	}
	text, err := nginxText(key)
	if err != nil || !authKeyChars.MatchString(key) {
		r.invalid(n.cacheKey, "is not made of nginx variables, letters, digits, - and _", "no cache")
		return nil
	}
	durations, _ := r.get(n.cacheDuration)
	rules, err := cacheRules(durations)
	if err != nil {
		return &authFail{n.cacheDuration, err.Error()}
	}
	a.Cache = &ir.AuthCache{Key: text, Rules: rules}
	return nil
}

// cacheRules reads auth-cache-duration: comma-separated nginx
// proxy_cache_valid lists, "[status ...] time ...", where no status means
// 200, 301 and 302, and "any" every status.
func cacheRules(v string) ([]ir.CacheRule, error) {
	if strings.TrimSpace(v) == "" {
		v = defaultCacheDuration
	}
	var out []ir.CacheRule
	for _, item := range strings.Split(v, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		rule, err := cacheRule(item)
		if err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	return out, nil
}

// units are nginx's time units.
var units = map[string]int64{"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 7 * 86400000, "M": 30 * 86400000, "y": 365 * 86400000}

func cacheRule(item string) (ir.CacheRule, error) {
	var rule ir.CacheRule
	var ms int64
	for _, f := range strings.Fields(item) {
		switch m := authCacheTime.FindStringSubmatch(f); {
		case f == "any" && ms == 0:
			rule.Any = true
		case authCacheStatus.MatchString(f) && ms == 0:
			var code uint32
			fmt.Sscan(f, &code) //nolint:errcheck // three digits
			rule.Statuses = append(rule.Statuses, code)
		case m != nil:
			var n int64
			fmt.Sscan(m[1], &n) //nolint:errcheck // digits
			ms += n * units[m[2]]
		default:
			return rule, fmt.Errorf("%q is not a list of statuses followed by a time such as 5m", item)
		}
	}
	if ms <= 0 {
		return rule, fmt.Errorf("%q has no time", item)
	}
	if len(rule.Statuses) == 0 && !rule.Any {
		rule.Statuses = []uint32{200, 301, 302}
	}
	rule.TTL = ir.Duration(ms * 1e6)
	return rule, nil
}
