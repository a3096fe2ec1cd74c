package envoy

import (
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
