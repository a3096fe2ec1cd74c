package translator

import (
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_extensions_filters_http_router_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	// HTTPListenerName is the plain HTTP listener.
	HTTPListenerName = "http"
	// HTTPRouteName is the route configuration the HTTP listener reads over RDS.
	HTTPRouteName = "http"
)

// listeners returns the listeners. They depend only on options, never on
// Ingresses: any change to a listener makes Envoy drain its connections, so
// routes arrive over RDS and listeners stay the same for the life of a run.
func listeners(opts Options) []*envoy_config_listener_v3.Listener {
	return []*envoy_config_listener_v3.Listener{{
		Name:    HTTPListenerName,
		Address: socketAddress(opts.ListenAddress, opts.HTTPPort),
		FilterChains: []*envoy_config_listener_v3.FilterChain{{
			Filters: []*envoy_config_listener_v3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: mustAny(httpConnectionManager(HTTPListenerName, HTTPRouteName))},
			}},
		}},
	}}
}

// httpConnectionManager is the edge configuration every listener shares.
// docs/edge.md explains each choice.
func httpConnectionManager(statPrefix, routeName string) *envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager {
	return &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager{
		StatPrefix: statPrefix,
		RouteSpecifier: &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_Rds{
			Rds: &envoy_extensions_filters_network_http_connection_manager_v3.Rds{
				RouteConfigName: routeName,
				ConfigSource:    adsConfigSource(),
			},
		},
		HttpFilters: []*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_http_router_v3.Router{})},
		}},
		// Envoy is the edge: the client's address is the peer's address, and
		// X-Forwarded-For gets it appended, as ingress-nginx does.
		UseRemoteAddress: wrapperspb.Bool(true),
		// RFC 3986 normalisation (dot segments) protects path-based routing
		// from "/public/../admin"; slashes are kept as sent, because merging
		// them would change what reaches the backend.
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 false,
		PathWithEscapedSlashesAction: envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_KEEP_UNCHANGED,
		CommonHttpProtocolOptions: &envoy_config_core_v3.HttpProtocolOptions{
			IdleTimeout:                  durationpb.New(5 * time.Minute),
			HeadersWithUnderscoresAction: envoy_config_core_v3.HttpProtocolOptions_ALLOW,
		},
		RequestHeadersTimeout: durationpb.New(60 * time.Second),
	}
}

func adsConfigSource() *envoy_config_core_v3.ConfigSource {
	return &envoy_config_core_v3.ConfigSource{
		ResourceApiVersion:    envoy_config_core_v3.ApiVersion_V3,
		ConfigSourceSpecifier: &envoy_config_core_v3.ConfigSource_Ads{Ads: &envoy_config_core_v3.AggregatedConfigSource{}},
	}
}

func socketAddress(host string, port uint32) *envoy_config_core_v3.Address {
	return &envoy_config_core_v3.Address{
		Address: &envoy_config_core_v3.Address_SocketAddress{SocketAddress: &envoy_config_core_v3.SocketAddress{
			Address:       host,
			PortSpecifier: &envoy_config_core_v3.SocketAddress_PortValue{PortValue: port},
		}},
	}
}

// mustAny packs a message into an Any. Marshalling a generated message into
// memory cannot fail, so a failure is a programming error.
func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}
