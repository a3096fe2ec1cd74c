package envoy

import (
	"strconv"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_filters_http_stateful_session_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/stateful_session/v3"
	envoy_extensions_http_stateful_session_cookie_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/cookie/v3"
	envoy_type_http_v3 "github.com/envoyproxy/go-control-plane/envoy/type/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rukou/rukou/translator/ir"
)

// sessionFilter is the stateful session filter: without a route's
// configuration it does nothing.
const sessionFilter = "envoy.filters.http.stateful_session"

// persistentSession is a route's stateful session: the cookie names the
// endpoint itself, so Envoy sends the request there while the cluster has
// it (whatever endpoints join), and sets the cookie again when another
// endpoint answered. Not strict: when the named endpoint is gone, the
// cluster picks another.
func persistentSession(c *ir.SessionCookie) *anypb.Any {
	cookie := &envoy_type_http_v3.Cookie{Name: c.Name, Path: c.Path}
	if c.TTL != 0 {
		cookie.Ttl = durationpb.New(time.Duration(c.TTL))
	}
	for _, at := range c.Attributes {
		cookie.Attributes = append(cookie.Attributes, &envoy_type_http_v3.CookieAttribute{Name: at.Name, Value: at.Value})
	}
	return mustAny(&envoy_extensions_filters_http_stateful_session_v3.StatefulSessionPerRoute{
		Override: &envoy_extensions_filters_http_stateful_session_v3.StatefulSessionPerRoute_StatefulSession{StatefulSession: &envoy_extensions_filters_http_stateful_session_v3.StatefulSession{
			SessionState: &envoy_config_core_v3.TypedExtensionConfig{
				Name:        "envoy.http.stateful_session.cookie",
				TypedConfig: mustAny(&envoy_extensions_http_stateful_session_cookie_v3.CookieBasedSessionState{Cookie: cookie}),
			},
		}},
	})
}

// issuesCookie says whether a forward issues its session cookie itself,
// tagged with the backend that answers.
func issuesCookie(f *ir.Forward) bool {
	if f.SessionCookie == nil {
		return false
	}
	for _, b := range f.Backends {
		if b.CookieTag != "" {
			return true
		}
	}
	return false
}

// cookieHeaders are the request and response headers that issue the
// forward's session cookie when its backend i is chosen, or none: Envoy's
// own cookie (the hash policy's) is a digest of the connection's
// addresses, which no later route can tell apart by backend. Headers
// added for a backend are evaluated after Envoy chose it and before it
// picks the endpoint, so the cookie that the request already carries gives
// the hash that the client's next requests give. Envoy has no clock
// arithmetic for an Expires attribute: the Lua filter adds it (lua.go).
func cookieHeaders(f *ir.Forward, i int) (req, resp []*envoy_config_core_v3.HeaderValueOption) {
	if f.SessionCookie == nil || f.Backends[i].CookieTag == "" {
		return nil, nil
	}
	r, w := issuedCookie(f.SessionCookie, f.Backends[i].CookieTag)
	return []*envoy_config_core_v3.HeaderValueOption{r}, []*envoy_config_core_v3.HeaderValueOption{w}
}

// issuedCookie is the Cookie a request gets (before its own cookies) and
// the Set-Cookie its response gets: the value is the stream's start time to the microsecond
// and the client's port (the same in both, unique enough to spread
// clients over the ring, and never the client's own text), "|" and the
// tag.
func issuedCookie(c *ir.SessionCookie, tag string) (req, resp *envoy_config_core_v3.HeaderValueOption) {
	pair := c.Name + "=%START_TIME(%s%6f)%.%DOWNSTREAM_REMOTE_PORT%|" + tag
	set := pair
	if c.TTL != 0 {
		set += "; Max-Age=" + strconv.FormatInt(int64(time.Duration(c.TTL)/time.Second), 10)
	}
	set += "; Path=" + formatLiteral(c.Path)
	for _, at := range c.Attributes {
		set += "; " + at.Name
		if at.Value != "" {
			set += "=" + formatLiteral(at.Value)
		}
	}
	set += "; HttpOnly"
	// The request's cookies stay in one Cookie header, which some servers
	// expect (a second one they join with a comma); the session cookie
	// comes first, so that Envoy hashes it rather than an older one of
	// the same name. A request without cookies ends in "; ".
	req = &envoy_config_core_v3.HeaderValueOption{
		Header:       &envoy_config_core_v3.HeaderValue{Key: "cookie", Value: pair + "; %REQ(cookie)%"},
		AppendAction: envoy_config_core_v3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
	resp = &envoy_config_core_v3.HeaderValueOption{
		Header:       &envoy_config_core_v3.HeaderValue{Key: "set-cookie", Value: set},
		AppendAction: envoy_config_core_v3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
	}
	return req, resp
}
