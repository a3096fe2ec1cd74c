package envoy

import (
	xds_core_v3 "github.com/cncf/xds/go/xds/core/v3"
	xds_type_matcher_v3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	envoy_config_common_mutation_rules_v3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_common_matching_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	envoy_extensions_filters_http_header_mutation_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/rukou/rukou/translator/ir"
)

// nginx sends a request to the next endpoint after it reached one only
// when its method is idempotent: never a POST, a PATCH or a LOCK, which
// go on only when their connection failed. Envoy's retry policy cannot
// tell methods apart, and one route per method class made Envoy build
// every proxied path twice, about half of the time it takes to apply a
// route table (docs/benchmarks.md). So a route's retry policy holds only
// what every method may retry (connect-failure, refused-stream,
// reset-before-request), with its statuses and tries, and the replay
// filter adds the rest for the other methods: the router reads
// x-envoy-retry-on as retry conditions added to the route's, and
// consumes it (it never reaches the endpoint). The connection manager has
// removed a client's own x-envoy-retry-on before any filter runs, unless
// the client is internal, whose conditions Envoy always honoured.
const replayFilter = "rukou.filters.http.replay"

// replayConditions are the retry conditions the replay filter adds: a
// reset or silence after the request was sent, and the route's statuses
// (with none listed, a status never matches).
const replayConditions = "reset,retriable-status-codes"

// replayAdded reports whether the replay filter's conditions are what a
// route's retry adds for idempotent methods: it must retry after a reset
// (its statuses, if any, come with the filter's second condition). A
// route without a retry turns the filter off too: with no tries the
// conditions would retry nothing, but Envoy would still count the request
// as one out of retries and hold its body for a retry.
func replayAdded(rt *ir.Retry) bool {
	return rt != nil && rt.Reset
}

// replay is the replay filter: a header mutation that adds the retry
// conditions, skipped for the methods nginx does not send twice.
func replay() *envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter {
	methods := map[string]*xds_type_matcher_v3.Matcher_OnMatch{}
	for _, m := range nonIdempotentMethods {
		methods[m] = skipFilter
	}
	add := &envoy_extensions_filters_http_header_mutation_v3.HeaderMutation{
		Mutations: &envoy_extensions_filters_http_header_mutation_v3.Mutations{
			RequestMutations: []*envoy_config_common_mutation_rules_v3.HeaderMutation{{
				Action: &envoy_config_common_mutation_rules_v3.HeaderMutation_Append{Append: &envoy_config_core_v3.HeaderValueOption{
					Header:       &envoy_config_core_v3.HeaderValue{Key: "x-envoy-retry-on", Value: replayConditions},
					AppendAction: envoy_config_core_v3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
				}},
			}},
		},
	}
	config := &envoy_extensions_common_matching_v3.ExtensionWithMatcher{
		ExtensionConfig: &envoy_config_core_v3.TypedExtensionConfig{Name: replayFilter, TypedConfig: mustAny(add)},
		XdsMatcher: &xds_type_matcher_v3.Matcher{
			MatcherType: &xds_type_matcher_v3.Matcher_MatcherTree_{MatcherTree: &xds_type_matcher_v3.Matcher_MatcherTree{
				Input: &xds_core_v3.TypedExtensionConfig{
					Name:        "method",
					TypedConfig: mustAny(&envoy_type_matcher_v3.HttpRequestHeaderMatchInput{HeaderName: ":method"}),
				},
				TreeType: &xds_type_matcher_v3.Matcher_MatcherTree_ExactMatchMap{ExactMatchMap: &xds_type_matcher_v3.Matcher_MatcherTree_MatchMap{Map: methods}},
			}},
		},
	}
	return &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
		Name:       replayFilter,
		ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(config)},
	}
}

// noReplay is the per-route configuration that turns the replay filter
// off, for the routes whose retry is not what it adds.
var noReplay = mustAny(&envoy_config_route_v3.FilterConfig{Disabled: true})

// replayOff turns the replay filter off on a rendered route.
func replayOff(r *envoy_config_route_v3.Route) {
	perFilter(r, replayFilter, noReplay)
}
