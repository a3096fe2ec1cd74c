package envoy

import (
	"strings"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_ratelimit_v3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_http_ratelimit_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	envoy_type_v3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// globalRateLimitFilter asks the rate limit service about the requests of
// routes with a global rate limit.
const globalRateLimitFilter = "envoy.filters.http.ratelimit"

// The first entries of a global limit's descriptors: the limit's ID, for
// the count by the key's values, or for the count by client address when
// every part of the key is absent.
const (
	globalLimitKey     = "rukou_global"
	globalUnkeyedKey   = "rukou_global_unkeyed"
	absentKeyPrefix    = "absent_"
	remoteAddressKey   = "remote_address" // Envoy's name for the remote_address action's entry
	absentEntryValue   = "true"
	globalRateLimitTag = "rukou_global_rate_limit"
)

// globalRateLimit is the listener's rate limit filter. A service that
// fails or answers late lets the request through (failure_mode_deny off),
// and a limited request gets the status without Envoy's own
// x-envoy-ratelimited header, which nginx does not send.
func globalRateLimit(s *ir.RateLimitService) *envoy_extensions_filters_http_ratelimit_v3.RateLimit {
	return &envoy_extensions_filters_http_ratelimit_v3.RateLimit{
		Domain:     s.Domain,
		Timeout:    durationpb.New(time.Duration(s.Timeout)),
		StatPrefix: globalRateLimitTag,
		RateLimitService: &envoy_config_ratelimit_v3.RateLimitServiceConfig{
			GrpcService: &envoy_config_core_v3.GrpcService{TargetSpecifier: &envoy_config_core_v3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &envoy_config_core_v3.GrpcService_EnvoyGrpc{ClusterName: s.Cluster},
			}},
			TransportApiVersion: envoy_config_core_v3.ApiVersion_V3,
		},
		RateLimitedStatus:              &envoy_type_v3.HttpStatus{Code: envoy_type_v3.StatusCode(s.Status)},
		DisableXEnvoyRatelimitedHeader: true,
	}
}

// globalRateLimitRoute is a route's descriptors. The first counts by the
// key's values: a header or query parameter that is absent is left out of
// it. The second, for keys that may be wholly absent, counts by client
// address when they are, as ingress-nginx does with an empty key. With
// ignored addresses, the first entry of each is generated only for the
// other clients: without it, Envoy sends no descriptor and nothing counts.
func globalRateLimitRoute(g *ir.GlobalRateLimit) *envoy_extensions_filters_http_ratelimit_v3.RateLimitPerRoute {
	main := []*envoy_config_route_v3.RateLimit_Action{limitEntry(globalLimitKey, g)}
	var absent []*envoy_config_route_v3.RateLimit_Action
	for _, k := range g.Key {
		main = append(main, keyAction(k))
		if a := absentAction(k); a != nil {
			absent = append(absent, a)
		}
	}
	out := &envoy_extensions_filters_http_ratelimit_v3.RateLimitPerRoute{RateLimits: []*envoy_config_route_v3.RateLimit{{Actions: main}}}
	if len(absent) == len(g.Key) {
		unkeyed := append([]*envoy_config_route_v3.RateLimit_Action{limitEntry(globalUnkeyedKey, g)}, absent...)
		unkeyed = append(unkeyed, keyAction(ir.HashKey{ClientAddress: true}))
		out.RateLimits = append(out.RateLimits, &envoy_config_route_v3.RateLimit{Actions: unkeyed})
	}
	return out
}

// limitEntry is a descriptor's first entry, the limit's ID; with ignored
// addresses, it is generated only for the others.
func limitEntry(key string, g *ir.GlobalRateLimit) *envoy_config_route_v3.RateLimit_Action {
	if len(g.Ignored) == 0 {
		return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_GenericKey_{
			GenericKey: &envoy_config_route_v3.RateLimit_Action_GenericKey{DescriptorKey: key, DescriptorValue: g.ID},
		}}
	}
	return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_RemoteAddressMatch_{
		RemoteAddressMatch: &envoy_config_route_v3.RateLimit_Action_RemoteAddressMatch{
			DescriptorKey: key, DescriptorValue: g.ID,
			AddressMatcher: &envoy_type_matcher_v3.AddressMatcher{Ranges: xdsCIDRs(g.Ignored), InvertMatch: true},
		},
	}}
}

// keyAction is the entry of one part of the key, named as descriptorKey
// names it; an absent header or query parameter is left out.
func keyAction(k ir.HashKey) *envoy_config_route_v3.RateLimit_Action {
	switch {
	case k.ClientAddress:
		return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_RemoteAddress_{
			RemoteAddress: &envoy_config_route_v3.RateLimit_Action_RemoteAddress{},
		}}
	case k.Query != "":
		return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_QueryParameters_{
			QueryParameters: &envoy_config_route_v3.RateLimit_Action_QueryParameters{QueryParameterName: k.Query, DescriptorKey: descriptorKey(k), SkipIfAbsent: true},
		}}
	}
	return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_RequestHeaders_{
		RequestHeaders: &envoy_config_route_v3.RateLimit_Action_RequestHeaders{HeaderName: k.Header, DescriptorKey: descriptorKey(k), SkipIfAbsent: true},
	}}
}

// absentAction is an entry generated only when a part of the key is
// absent; nil for the parts every request has.
func absentAction(k ir.HashKey) *envoy_config_route_v3.RateLimit_Action {
	key := absentKeyPrefix + descriptorKey(k)
	switch {
	case k.ClientAddress, strings.HasPrefix(k.Header, ":"):
		return nil
	case k.Query != "":
		return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_QueryParameterValueMatch_{
			QueryParameterValueMatch: &envoy_config_route_v3.RateLimit_Action_QueryParameterValueMatch{
				DescriptorKey: key, DescriptorValue: absentEntryValue, ExpectMatch: wrapperspb.Bool(false),
				QueryParameters: []*envoy_config_route_v3.QueryParameterMatcher{{
					Name: k.Query, QueryParameterMatchSpecifier: &envoy_config_route_v3.QueryParameterMatcher_PresentMatch{PresentMatch: true},
				}},
			},
		}}
	}
	return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_HeaderValueMatch_{
		HeaderValueMatch: &envoy_config_route_v3.RateLimit_Action_HeaderValueMatch{
			DescriptorKey: key, DescriptorValue: absentEntryValue, ExpectMatch: wrapperspb.Bool(false),
			Headers: []*envoy_config_route_v3.HeaderMatcher{{
				Name: k.Header, HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_PresentMatch{PresentMatch: true},
			}},
		},
	}}
}

// descriptorKey names a part of the key in descriptors and in the rate
// limit service's configuration, after the nginx variable it stands for.
func descriptorKey(k ir.HashKey) string {
	switch {
	case k.ClientAddress:
		return remoteAddressKey
	case k.Query != "":
		return "arg_" + k.Query
	case k.Header == ":path":
		return "request_uri"
	case k.Header == ":authority":
		return "host"
	}
	return "http_" + k.Header
}
