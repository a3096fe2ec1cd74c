package wire

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// External authentication: Envoy's ext_authz filter asks the limiter's
// Authorization service (gRPC) about each request of a protected route, and
// the route's settings travel as the check's context extensions, under
// these keys. The Envoy backend writes them and package limiter reads them.
const (
	// AuthURLKey is the auth service's URL, a Template.
	AuthURLKey = "rukou-auth-url"
	// AuthMethodKey is the method of the auth request; empty means GET
	// without the headers that come with a method of one's own.
	AuthMethodKey = "rukou-auth-method"
	// AuthSigninKey, when set, is where a 401 redirects (302), a Template;
	// AuthSigninParamKey names the query parameter that carries the
	// original URL there.
	AuthSigninKey      = "rukou-auth-signin"
	AuthSigninParamKey = "rukou-auth-signin-param"
	// AuthResponseHeadersKey lists (comma-separated) the headers of the
	// auth response that replace those of the request to the backend.
	AuthResponseHeadersKey = "rukou-auth-response-headers"
	// AuthRequestRedirectKey, when set, is the X-Auth-Request-Redirect of
	// the auth request, in place of the request's URI.
	AuthRequestRedirectKey = "rukou-auth-request-redirect"
	// AuthCacheKeyKey, when set, is a Template whose value (with
	// AuthCacheScopeKey) keys the cache of auth responses, kept as long as
	// AuthCacheDurationKey says (nginx's proxy_cache_valid lists, such as
	// "200 202 401 5m", separated by commas).
	AuthCacheKeyKey      = "rukou-auth-cache-key"
	AuthCacheScopeKey    = "rukou-auth-cache-scope"
	AuthCacheDurationKey = "rukou-auth-cache-duration"
	// AuthCookieStatusesKey, when set, lists (comma-separated) the
	// statuses of the responses that carry the auth service's cookies;
	// without it every response does. With it, a check that lets the
	// request through puts the cookies in Envoy's dynamic metadata, under
	// AuthCookieMetadataPrefix and their index (at most MaxAuthCookies),
	// for the route's response headers to pick up by status.
	AuthCookieStatusesKey    = "rukou-auth-cookie-statuses"
	AuthCookieMetadataPrefix = "set_cookie_"
	MaxAuthCookies           = 4
	// AuthTimeoutKey and AuthConnectTimeoutKey bound the auth request, in
	// milliseconds.
	AuthTimeoutKey        = "rukou-auth-timeout-ms"
	AuthConnectTimeoutKey = "rukou-auth-connect-timeout-ms"
	// AuthKeepaliveKey is how many idle connections to the auth service the
	// limiter keeps (0: none), AuthKeepaliveRequestsKey how many requests
	// one connection carries, AuthKeepaliveTimeoutKey how long (ms) an idle
	// one stays.
	AuthKeepaliveKey         = "rukou-auth-keepalive"
	AuthKeepaliveRequestsKey = "rukou-auth-keepalive-requests"
	AuthKeepaliveTimeoutKey  = "rukou-auth-keepalive-timeout-ms"
	// AuthSetHeaderPrefix starts the keys of the extra headers of the auth
	// request: the rest of the key is the header's name, the value its
	// value.
	AuthSetHeaderPrefix = "rukou-auth-set-header-"
)

// The values of a request that a Template may hold, as ${name} or, for
// those that take an argument, ${name:argument}.
const (
	// VarHost is the host the client asked for, lowercase, without port.
	VarHost = "host"
	// VarAuthority is the Host header as the client sent it.
	VarAuthority = "authority"
	// VarScheme is http or https.
	VarScheme = "scheme"
	// VarRequestURI is the path with its query; VarEscapedRequestURI the
	// same, escaped for a query parameter.
	VarRequestURI        = "request-uri"
	VarEscapedRequestURI = "escaped-request-uri"
	// VarPath is the path without its query, VarQuery the query alone.
	VarPath  = "path"
	VarQuery = "query"
	// VarMethod is the request's method.
	VarMethod = "method"
	// VarClientAddress is the client's address, without port.
	VarClientAddress = "client-address"
	// VarRemoteUser is the user name of the request's Basic credentials.
	VarRemoteUser = "remote-user"
	// VarHeader, VarQueryParam and VarCookie take the name of a header, a
	// query parameter or a cookie as argument.
	VarHeader     = "header"
	VarQueryParam = "arg"
	VarCookie     = "cookie"
)

// Part is one piece of a Template: Literal text, or the request value Var
// (with its Arg).
type Part struct {
	Literal string
	Var     string
	Arg     string
}

// Template is text with request values in it, such as
// "https://${host}/oauth2/auth".
type Template []Part

// withArg lists the variables that take an argument; varNames all.
var (
	withArg  = map[string]bool{VarHeader: true, VarQueryParam: true, VarCookie: true}
	varNames = map[string]bool{
		VarHost: true, VarAuthority: true, VarScheme: true, VarRequestURI: true, VarEscapedRequestURI: true,
		VarPath: true, VarQuery: true, VarMethod: true, VarClientAddress: true, VarRemoteUser: true,
		VarHeader: true, VarQueryParam: true, VarCookie: true,
	}
)

// String writes t in the form ParseTemplate reads; "$" in literal text
// is written "$$".
func (t Template) String() string {
	var b strings.Builder
	for _, p := range t {
		switch {
		case p.Var == "":
			b.WriteString(strings.ReplaceAll(p.Literal, "$", "$$"))
		case p.Arg != "":
			fmt.Fprintf(&b, "${%s:%s}", p.Var, p.Arg)
		default:
			fmt.Fprintf(&b, "${%s}", p.Var)
		}
	}
	return b.String()
}

// ParseTemplate reads what Template.String wrote. A variable it does not
// know is an error, so that nothing unknown is ever sent as text.
func ParseTemplate(s string) (Template, error) {
	var t Template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			continue
		}
		if strings.HasPrefix(s[i:], "$$") {
			lit.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if !strings.HasPrefix(s[i:], "${") || end < 0 {
			return nil, fmt.Errorf("template %q: lone $ at %d", s, i)
		}
		name, arg, _ := strings.Cut(s[i+2:i+end], ":")
		if !varNames[name] || withArg[name] != (arg != "") {
			return nil, fmt.Errorf("template %q: unknown variable %q", s, s[i:i+end+1])
		}
		if lit.Len() > 0 {
			t = append(t, Part{Literal: lit.String()})
			lit.Reset()
		}
		t = append(t, Part{Var: name, Arg: arg})
		i += end
	}
	if lit.Len() > 0 {
		t = append(t, Part{Literal: lit.String()})
	}
	return t, nil
}

// CacheRule says how long an auth response with one of Statuses (any
// status, with Any) is kept.
type CacheRule struct {
	Statuses []int
	Any      bool
	TTL      time.Duration
}

// FormatCacheRules writes rules as "200 202 401 300000ms,any 1000ms";
// ParseCacheRules reads them back.
func FormatCacheRules(rules []CacheRule) string {
	out := make([]string, len(rules))
	for i, r := range rules {
		var f []string
		for _, s := range r.Statuses {
			f = append(f, strconv.Itoa(s))
		}
		if r.Any {
			f = append(f, "any")
		}
		out[i] = strings.Join(append(f, strconv.FormatInt(r.TTL.Milliseconds(), 10)+"ms"), " ")
	}
	return strings.Join(out, ",")
}

// ParseCacheRules reads what FormatCacheRules wrote.
func ParseCacheRules(s string) ([]CacheRule, error) {
	if s == "" {
		return nil, nil
	}
	var out []CacheRule
	for _, rule := range strings.Split(s, ",") {
		f := strings.Fields(rule)
		if len(f) < 2 {
			return nil, fmt.Errorf("cache rule %q: no status or no time", rule)
		}
		var r CacheRule
		ms, err := strconv.ParseInt(strings.TrimSuffix(f[len(f)-1], "ms"), 10, 64)
		if err != nil || !strings.HasSuffix(f[len(f)-1], "ms") {
			return nil, fmt.Errorf("cache rule %q: time is not in ms", rule)
		}
		r.TTL = time.Duration(ms) * time.Millisecond
		for _, code := range f[:len(f)-1] {
			if code == "any" {
				r.Any = true
				continue
			}
			n, err := strconv.Atoi(code)
			if err != nil {
				return nil, fmt.Errorf("cache rule %q: %q is not a status", rule, code)
			}
			r.Statuses = append(r.Statuses, n)
		}
		out = append(out, r)
	}
	return out, nil
}

// Basic authentication and satisfy: the check's context extensions carry
// only the name of the route's credentials, which the limiter asks rukou
// for (an xDS generic secret), never the hashes.
const (
	// AuthBasicCredentialsKey names the route's credentials: htpasswd
	// lines ("user:hash") in a generic secret of that name.
	AuthBasicCredentialsKey = "rukou-auth-basic-credentials"
	// AuthBasicRealmKey is the realm of the 401's WWW-Authenticate.
	AuthBasicRealmKey = "rukou-auth-basic-realm"
	// AuthSatisfyAnyKey, when "true", admits a request that passes any one
	// of the address ranges (AuthAllowKey, AuthDenyKey: FormatPrefixes),
	// the basic authentication and the auth URL.
	AuthSatisfyAnyKey = "rukou-auth-satisfy-any"
	AuthAllowKey      = "rukou-auth-allow"
	AuthDenyKey       = "rukou-auth-deny"
)
