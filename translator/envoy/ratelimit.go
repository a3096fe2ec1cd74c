package envoy

import (
	"cmp"
	"math"
	"net/netip"
	"time"

	xds_core_v3 "github.com/cncf/xds/go/xds/core/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_common_ratelimit_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	envoy_extensions_filters_http_local_ratelimit_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	envoy_type_v3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The local rate limit keeps one token bucket per client address and kind
// of limit. Descriptor fill intervals must be multiples of the route's
// default bucket's, which is never drawn from.
const (
	fillUnit           = 50 * time.Millisecond
	rateLimitKey       = "rukou_limit"
	maxClientsPerRoute = 10000
)

// localRateLimit renders limit-rps and limit-rpm as nginx's limit_req with
// a burst and nodelay: a client may send rate times the multiplier, plus
// one, requests at once, then rate per second (or minute); the rest get the
// limit's status (limit-req-status-code), 503 by default.
func localRateLimit(rl *ir.RateLimit) *envoy_extensions_filters_http_local_ratelimit_v3.LocalRateLimit {
	always := func(runtimeKey string) *envoy_config_core_v3.RuntimeFractionalPercent {
		return &envoy_config_core_v3.RuntimeFractionalPercent{
			DefaultValue: &envoy_type_v3.FractionalPercent{Numerator: 100, Denominator: envoy_type_v3.FractionalPercent_HUNDRED},
			RuntimeKey:   runtimeKey,
		}
	}
	out := &envoy_extensions_filters_http_local_ratelimit_v3.LocalRateLimit{
		StatPrefix: rateLimitStatPrefix,
		Status:     &envoy_type_v3.HttpStatus{Code: envoy_type_v3.StatusCode(cmp.Or(rl.Status, 503))},
		// Requests without a descriptor (clients exempt from the limit)
		// draw from this bucket, which limits nothing.
		TokenBucket: &envoy_type_v3.TokenBucket{
			MaxTokens: math.MaxUint32, TokensPerFill: wrapperspb.UInt32(math.MaxUint32), FillInterval: durationpb.New(fillUnit),
		},
		AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(false),
		FilterEnabled:                   always("rukou.rate_limit.enabled"),
		FilterEnforced:                  always("rukou.rate_limit.enforced"),
		// A client address is a dynamic descriptor: Envoy keeps this many
		// per route, least recently used first out.
		MaxDynamicDescriptors: wrapperspb.UInt32(maxClientsPerRoute),
	}
	for _, l := range []struct {
		kind   string
		rate   uint32
		period time.Duration
	}{{"rps", rl.PerSecond, time.Second}, {"rpm", rl.PerMinute, time.Minute}} {
		if l.rate == 0 {
			continue
		}
		out.RateLimits = append(out.RateLimits, &envoy_config_route_v3.RateLimit{Actions: []*envoy_config_route_v3.RateLimit_Action{
			limitKind(l.kind, rl.Exempt),
			{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_RemoteAddress_{RemoteAddress: &envoy_config_route_v3.RateLimit_Action_RemoteAddress{}}},
		}})
		out.Descriptors = append(out.Descriptors, &envoy_extensions_common_ratelimit_v3.LocalRateLimitDescriptor{
			Entries: []*envoy_extensions_common_ratelimit_v3.RateLimitDescriptor_Entry{
				{Key: rateLimitKey, Value: l.kind},
				// No value: one bucket per distinct client address.
				{Key: "remote_address"},
			},
			TokenBucket: tokenBucket(l.rate, l.period, rl.BurstMultiplier),
		})
	}
	return out
}

// limitKind is the first entry of a limit's descriptor. With exempt
// addresses, a client in them produces no descriptor and is not limited.
func limitKind(kind string, exempt []netip.Prefix) *envoy_config_route_v3.RateLimit_Action {
	if len(exempt) == 0 {
		return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_GenericKey_{
			GenericKey: &envoy_config_route_v3.RateLimit_Action_GenericKey{DescriptorKey: rateLimitKey, DescriptorValue: kind},
		}}
	}
	return &envoy_config_route_v3.RateLimit_Action{ActionSpecifier: &envoy_config_route_v3.RateLimit_Action_RemoteAddressMatch_{
		RemoteAddressMatch: &envoy_config_route_v3.RateLimit_Action_RemoteAddressMatch{
			DescriptorKey:   rateLimitKey,
			DescriptorValue: kind,
			AddressMatcher:  &envoy_type_matcher_v3.AddressMatcher{Ranges: xdsCIDRs(exempt), InvertMatch: true},
		},
	}}
}

// tokenBucket refills rate tokens per period in the smallest steps that
// are whole multiples of fillUnit and whole numbers of tokens, and holds a
// burst of rate times multiplier, plus one.
func tokenBucket(rate uint32, period time.Duration, multiplier uint32) *envoy_type_v3.TokenBucket {
	units := uint64(period / fillUnit)
	step := units / gcd(uint64(rate), units) // fill intervals, in units
	return &envoy_type_v3.TokenBucket{
		MaxTokens:     uint32(min(uint64(rate)*uint64(multiplier)+1, math.MaxUint32)),
		TokensPerFill: wrapperspb.UInt32(uint32(uint64(rate) * step / units)),
		FillInterval:  durationpb.New(time.Duration(step) * fillUnit),
	}
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// xdsCIDRs are ranges in the xDS core type that address matchers take.
func xdsCIDRs(ranges []netip.Prefix) []*xds_core_v3.CidrRange {
	out := make([]*xds_core_v3.CidrRange, 0, len(ranges))
	for _, p := range ranges {
		out = append(out, &xds_core_v3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))})
	}
	return out
}
