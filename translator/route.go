package translator

import (
	"regexp"
	"strings"
	"time"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// upstreamTimeout bounds a whole request to a backend. It matches
// ingress-nginx's default proxy-read-timeout of 60 seconds.
const upstreamTimeout = 60 * time.Second

// routeConfiguration renders the virtual hosts. On the plain HTTP listener
// (plain set) the routes of TLS hosts redirect to HTTPS.
func routeConfiguration(name string, m *Model, plain bool, httpsPort uint32) *envoy_config_route_v3.RouteConfiguration {
	rc := &envoy_config_route_v3.RouteConfiguration{
		Name: name,
		// Hosts match without the port of the Host header.
		IgnorePortInHostMatching: true,
	}
	for _, vh := range m.VirtualHosts {
		rc.VirtualHosts = append(rc.VirtualHosts, virtualHost(vh, plain && vh.TLS, httpsPort))
	}
	return rc
}

func virtualHost(vh *VirtualHost, redirect bool, httpsPort uint32) *envoy_config_route_v3.VirtualHost {
	out := &envoy_config_route_v3.VirtualHost{Name: vh.Host, Domains: []string{vh.Host}}
	for _, r := range vh.Routes {
		route := &envoy_config_route_v3.Route{Match: routeMatch(r)}
		// Envoy's "*.foo.com" also matches "a.b.foo.com", but an Ingress
		// wildcard covers exactly one label, so the host's own rules (and
		// its own default backend) also check the authority. Hostless rules
		// and the catch-all apply to any host.
		if strings.HasPrefix(vh.Host, "*.") && !r.FromHostless && !r.CatchAll {
			route.Match.Headers = append(route.Match.Headers, oneLabelAuthority(vh.Host))
		}
		switch {
		case redirect && !r.NoSSLRedirect:
			// 308 keeps the method and body, and the path and query
			// stay as they were, as ingress-nginx redirects.
			route.Action = &envoy_config_route_v3.Route_Redirect{Redirect: &envoy_config_route_v3.RedirectAction{
				SchemeRewriteSpecifier: &envoy_config_route_v3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
				// The port clients use for HTTPS (443 behind a load
				// balancer, the NodePort otherwise), never the port of the
				// plain HTTP request.
				PortRedirect: httpsPort,
				ResponseCode: envoy_config_route_v3.RedirectAction_PERMANENT_REDIRECT,
			}}
		case r.DirectStatus != 0:
			route.Action = &envoy_config_route_v3.Route_DirectResponse{
				DirectResponse: &envoy_config_route_v3.DirectResponseAction{Status: r.DirectStatus},
			}
		default:
			route.Action = &envoy_config_route_v3.Route_Route{Route: &envoy_config_route_v3.RouteAction{
				ClusterSpecifier: &envoy_config_route_v3.RouteAction_Cluster{Cluster: r.Backend},
				Timeout:          durationpb.New(upstreamTimeout),
			}}
		}
		out.Routes = append(out.Routes, route)
	}
	return out
}

func routeMatch(r *Route) *envoy_config_route_v3.RouteMatch {
	m := &envoy_config_route_v3.RouteMatch{}
	switch {
	case r.Match == PathExact:
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_Path{Path: r.Path}
	case r.Path == "/":
		// path_separated_prefix must not end with "/"; "/" matches everything.
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}
	default:
		m.PathSpecifier = &envoy_config_route_v3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: r.Path}
	}
	return m
}

// oneLabelAuthority matches an authority that is exactly one label in front
// of the wildcard's suffix, with or without a port, in any letter case.
func oneLabelAuthority(wildcard string) *envoy_config_route_v3.HeaderMatcher {
	suffix := regexp.QuoteMeta(strings.TrimPrefix(wildcard, "*"))
	return &envoy_config_route_v3.HeaderMatcher{
		Name: ":authority",
		HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: &envoy_type_matcher_v3.StringMatcher{
			MatchPattern: &envoy_type_matcher_v3.StringMatcher_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{
				Regex: `(?i)[^.:]+` + suffix + `(:[0-9]+)?`,
			}},
		}},
	}
}
