package envoy

import (
	"net/netip"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_http_router_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	// ReadyListenerName is the static listener that serves Envoy's
	// readiness to the kubelet; its stats are rooted at
	// listener.rukou_ready.
	ReadyListenerName = "rukou-ready"
	// ReadyStatPrefix roots the readiness listener's stats.
	ReadyStatPrefix = "rukou_ready"
	// ReadyPath is the one path the readiness listener answers.
	ReadyPath = "/ready"
	// adminClusterName is the static cluster through which the readiness
	// listener reaches the admin API.
	adminClusterName = "rukou-admin"
)

// readyResources returns the readiness listener on host:port and the static
// cluster it uses to reach the admin API.
//
// The admin API stays on loopback, because anyone who reaches it can change
// Envoy (POST /healthcheck/fail, /drain_listeners, /quitquitquit, ...); the
// kubelet probes the pod's own address, so it cannot reach it. This listener
// forwards exactly GET /ready to the admin API, whose /ready answers 200
// "LIVE" only once Envoy has its first configuration from rukou and until
// its health checks are failed (503 "DRAINING", as `rukou drain` does). Every
// other request gets 404 and never reaches the admin API.
func readyResources(adminHost string, adminPort uint32, host string, port uint32) (*envoy_config_listener_v3.Listener, *envoy_config_cluster_v3.Cluster) {
	adminHost = loopbackFor(adminHost)
	cluster := &envoy_config_cluster_v3.Cluster{
		Name:                 adminClusterName,
		ClusterDiscoveryType: &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(time.Second),
		LoadAssignment:       oneEndpoint(adminClusterName, adminHost, adminPort),
	}
	routes := &envoy_config_route_v3.RouteConfiguration{
		Name: ReadyListenerName,
		VirtualHosts: []*envoy_config_route_v3.VirtualHost{{
			Name:    ReadyListenerName,
			Domains: []string{"*"},
			Routes: []*envoy_config_route_v3.Route{
				{
					// An exact path (the query string aside) and GET only:
					// nothing but /ready can reach the admin API.
					Match: &envoy_config_route_v3.RouteMatch{
						PathSpecifier: &envoy_config_route_v3.RouteMatch_Path{Path: ReadyPath},
						Headers: []*envoy_config_route_v3.HeaderMatcher{{
							Name: ":method",
							HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: &envoy_type_matcher_v3.StringMatcher{
								MatchPattern: &envoy_type_matcher_v3.StringMatcher_Exact{Exact: "GET"},
							}},
						}},
					},
					Action: &envoy_config_route_v3.Route_Route{Route: &envoy_config_route_v3.RouteAction{
						ClusterSpecifier: &envoy_config_route_v3.RouteAction_Cluster{Cluster: adminClusterName},
						Timeout:          durationpb.New(2 * time.Second),
					}},
				},
				{
					Match:  &envoy_config_route_v3.RouteMatch{PathSpecifier: &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}},
					Action: &envoy_config_route_v3.Route_DirectResponse{DirectResponse: &envoy_config_route_v3.DirectResponseAction{Status: 404}},
				},
			},
		}},
	}
	hcm := &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager{
		StatPrefix:     ReadyStatPrefix,
		RouteSpecifier: &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_RouteConfig{RouteConfig: routes},
		HttpFilters: []*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_http_router_v3.Router{})},
		}},
	}
	listener := &envoy_config_listener_v3.Listener{
		Name:       ReadyListenerName,
		StatPrefix: ReadyStatPrefix,
		Address:    socketAddress(host, port),
		FilterChains: []*envoy_config_listener_v3.FilterChain{{
			Filters: []*envoy_config_listener_v3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
			}},
		}},
	}
	return listener, cluster
}

// loopbackFor returns the address at which an Envoy reaches its own admin
// API bound to host: a wildcard address is reached through loopback.
func loopbackFor(host string) string {
	addr, err := netip.ParseAddr(host)
	switch {
	case err != nil || !addr.IsUnspecified():
		return host
	case addr.Is6():
		return "::1"
	}
	return "127.0.0.1"
}
