package limiter

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	envoy_service_auth_v3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/rukou/rukou/limiter/wire"
)

// original is the client's request as Envoy describes it to a check.
type original struct {
	method, scheme, authority, requestURI, client, requestID string
	// header holds the request's headers, without the pseudo-headers.
	header http.Header
}

// originalOf reads the client's request from a check.
func originalOf(req *envoy_service_auth_v3.CheckRequest) *original {
	h := req.GetAttributes().GetRequest().GetHttp()
	o := &original{
		method: h.GetMethod(), scheme: h.GetScheme(), authority: h.GetHost(), requestURI: h.GetPath(),
		client: req.GetAttributes().GetSource().GetAddress().GetSocketAddress().GetAddress(),
		header: http.Header{},
	}
	for k, v := range h.GetHeaders() {
		if !strings.HasPrefix(k, ":") {
			o.header[http.CanonicalHeaderKey(k)] = []string{v}
		}
	}
	o.requestID = o.header.Get("X-Request-Id")
	return o
}

// host is nginx's $host: the Host without its port, lowercase.
func (o *original) host() string {
	h := o.authority
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// value is the request value a template variable names.
func (o *original) value(p wire.Part) string {
	path, query, _ := strings.Cut(o.requestURI, "?")
	switch p.Var {
	case wire.VarHost:
		return o.host()
	case wire.VarAuthority:
		return o.authority
	case wire.VarScheme:
		return o.scheme
	case wire.VarRequestURI:
		return o.requestURI
	case wire.VarEscapedRequestURI:
		return escapeComponent(o.requestURI)
	case wire.VarPath:
		return path
	case wire.VarQuery:
		return query
	case wire.VarMethod:
		return o.method
	case wire.VarClientAddress:
		return o.client
	case wire.VarRemoteUser:
		user, _, _ := (&http.Request{Header: o.header}).BasicAuth()
		return user
	case wire.VarHeader:
		return o.header.Get(p.Arg)
	case wire.VarQueryParam:
		q, _ := url.ParseQuery(query)
		return q.Get(p.Arg)
	case wire.VarCookie:
		c, err := (&http.Request{Header: http.Header{"Cookie": o.header.Values("Cookie")}}).Cookie(p.Arg)
		if err != nil {
			return ""
		}
		return c.Value
	}
	return ""
}

// expand fills a template with the request's values.
func (o *original) expand(t wire.Template) string {
	var b strings.Builder
	for _, p := range t {
		if p.Var == "" {
			b.WriteString(p.Literal)
		} else {
			b.WriteString(o.value(p))
		}
	}
	return b.String()
}

// escapeComponent escapes everything but letters, digits and "-._~", with
// upper-case hex digits, as nginx's set_escape_uri does.
func escapeComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// notForwarded are the client's headers the auth request never carries:
// hop-by-hop headers, the body's, and those nginx's auth location empties
// (Content-Length, X-Forwarded-Proto).
var notForwarded = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Content-Length", "Expect", "X-Forwarded-Proto", "Host",
}

// authRequest is the subrequest to the auth service, as ingress-nginx's
// auth location sends it: the client's headers without the body, plus
// the headers that tell the service what the client asked for.
func authRequest(o *original, s *authSettings) (*http.Request, error) {
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, o.expand(s.url), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header = o.header.Clone()
	for _, h := range notForwarded {
		req.Header.Del(h)
	}
	// nginx names the auth URL's host, without its port.
	req.Host = req.URL.Hostname()
	set := func(name, value string) {
		if value == "" {
			req.Header.Del(name) // nginx sends no header with an empty value
		} else {
			req.Header.Set(name, value)
		}
	}
	set("X-Original-URL", o.scheme+"://"+o.authority+o.requestURI)
	set("X-Original-Method", o.method)
	set("X-Sent-From", "nginx-ingress-controller")
	set("X-Real-IP", o.client)
	set("X-Forwarded-For", o.client)
	set("X-Request-ID", o.requestID)
	set("X-Auth-Request-Redirect", o.requestURI)
	if s.requestRedirect != "" {
		set("X-Auth-Request-Redirect", s.requestRedirect)
	}
	if s.method != "" {
		set("X-Original-URI", o.requestURI)
		set("X-Scheme", o.scheme)
	}
	for name, t := range s.setHeaders {
		set(name, o.expand(t))
	}
	return req, nil
}

// signinURL is where a 401 sends the client: the signin URL with the
// original URL in the redirect parameter, unless the URL already has that
// parameter, as ingress-nginx builds it.
func signinURL(o *original, s *authSettings) string {
	target := o.expand(s.signin)
	param := s.signinParam
	if param == "" {
		param = "rd"
	}
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	if q.Get(param) != "" {
		return target
	}
	sep := "?"
	if len(q) > 0 {
		sep = "&"
	}
	return target + sep + param + "=" + o.scheme + "://" + o.authority + escapeComponent(o.requestURI)
}
