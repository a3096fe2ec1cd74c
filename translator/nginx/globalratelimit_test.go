package nginx

import (
	"net/netip"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

func TestReadGlobalRateLimit(t *testing.T) {
	limit := func(want *GlobalRateLimit) func(*testing.T, *Annotations) {
		return func(t *testing.T, a *Annotations) {
			var got *GlobalRateLimit
			if a.Policy != nil {
				got = a.Policy.GlobalRateLimit
			}
			equal(t, "global rate limit", got, want)
		}
	}
	address := []ir.HashKey{{ClientAddress: true}}
	runAnnotationCases(t, []annotationCase{
		{
			name:   "limit_and_window_count_by_address",
			values: map[string]string{"global-rate-limit": "5", "global-rate-limit-window": "1m"},
			check:  limit(&GlobalRateLimit{ID: "default/x:5/minute", Limit: 5, Unit: ir.RateLimitMinute, Key: address}),
		},
		{
			name:   "limit_without_window_is_off",
			values: map[string]string{"global-rate-limit": "5"},
			check:  limit(nil),
		},
		{
			name:   "zero_limit_is_off",
			values: map[string]string{"global-rate-limit": "0", "global-rate-limit-window": "1m"},
			check:  limit(nil),
		},
		{
			name:   "bad_window_is_off_and_reported",
			values: map[string]string{"global-rate-limit": "5", "global-rate-limit-window": "soon"},
			check:  limit(nil),
			issues: []string{"global-rate-limit-window InvalidAnnotation"},
		},
		{
			name:   "window_of_seconds_is_a_unit",
			values: map[string]string{"global-rate-limit": "100", "global-rate-limit-window": "3600s"},
			check:  limit(&GlobalRateLimit{ID: "default/x:100/hour", Limit: 100, Unit: ir.RateLimitHour, Key: address}),
		},
		{
			name:   "other_window_scales_down_and_is_reported",
			values: map[string]string{"global-rate-limit": "5", "global-rate-limit-window": "2m"},
			check:  limit(&GlobalRateLimit{ID: "default/x:2/minute", Limit: 2, Unit: ir.RateLimitMinute, Key: address}),
			issues: []string{"global-rate-limit-window InvalidAnnotation"},
		},
		{
			name:   "small_scaled_limit_is_at_least_one",
			values: map[string]string{"global-rate-limit": "1", "global-rate-limit-window": "10m"},
			check:  limit(&GlobalRateLimit{ID: "default/x:1/minute", Limit: 1, Unit: ir.RateLimitMinute, Key: address}),
			issues: []string{"global-rate-limit-window InvalidAnnotation"},
		},
		{
			name: "key_variables_and_ignored_addresses",
			values: map[string]string{
				"global-rate-limit": "5", "global-rate-limit-window": "1s",
				"global-rate-limit-key":           "${remote_addr}-${http_x_api_client}$arg_page$remote_addr",
				"global-rate-limit-ignored-cidrs": "192.168.1.1, 234.234.234.0/24",
			},
			check: limit(&GlobalRateLimit{
				ID: "default/x:5/second", Limit: 5, Unit: ir.RateLimitSecond,
				Key:     []ir.HashKey{{ClientAddress: true}, {Header: "x-api-client"}, {Query: "page"}},
				Ignored: []netip.Prefix{netip.MustParsePrefix("192.168.1.1/32"), netip.MustParsePrefix("234.234.234.0/24")},
			}),
		},
		{
			name:   "cookie_key_counts_by_address_and_is_reported",
			values: map[string]string{"global-rate-limit": "5", "global-rate-limit-window": "1m", "global-rate-limit-key": "$cookie_id"},
			check:  limit(&GlobalRateLimit{ID: "default/x:5/minute", Limit: 5, Unit: ir.RateLimitMinute, Key: address}),
			issues: []string{"global-rate-limit-key InvalidAnnotation"},
		},
		{
			name:   "bad_ignored_cidr_exempts_nobody",
			values: map[string]string{"global-rate-limit": "5", "global-rate-limit-window": "1m", "global-rate-limit-ignored-cidrs": "10.0.0.0/33"},
			check:  limit(&GlobalRateLimit{ID: "default/x:5/minute", Limit: 5, Unit: ir.RateLimitMinute, Key: address}),
			issues: []string{"global-rate-limit-ignored-cidrs InvalidAnnotation"},
		},
	})
}
