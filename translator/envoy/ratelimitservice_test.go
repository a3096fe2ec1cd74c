package envoy

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestRateLimitServiceConfig: each limit is one tree of the service's
// configuration, whose every subsequence of the key's parts ends in the
// limit (absent parts are left out of Envoy's descriptor), and a key that
// may be wholly absent has a second tree that counts by client address.
func TestRateLimitServiceConfig(t *testing.T) {
	byAddress := &ir.GlobalRateLimit{ID: "default/a:3/minute", Limit: 3, Unit: ir.RateLimitMinute, Key: []ir.HashKey{{ClientAddress: true}}}
	byHeaders := &ir.GlobalRateLimit{ID: "default/b:5/second", Limit: 5, Unit: ir.RateLimitSecond, Key: []ir.HashKey{{Header: "x-api-client"}, {Query: "page"}}}
	route := func(g *ir.GlobalRateLimit) *ir.Route { return &ir.Route{Policy: &ir.Policy{GlobalRateLimit: g}} }
	cfg := &ir.Config{Listeners: []*ir.Listener{{
		RateLimitService: &ir.RateLimitService{Domain: "rukou"},
		VirtualHosts:     []*ir.VirtualHost{{Routes: []*ir.Route{route(byHeaders), route(byAddress), route(byAddress), {}}}},
	}}}
	want := `descriptors:
- descriptors:
  - key: remote_address
    rate_limit:
      requests_per_unit: 3
      unit: minute
  key: rukou_global
  value: default/a:3/minute
- descriptors:
  - descriptors:
    - key: arg_page
      rate_limit:
        requests_per_unit: 5
        unit: second
    key: http_x-api-client
    rate_limit:
      requests_per_unit: 5
      unit: second
  - key: arg_page
    rate_limit:
      requests_per_unit: 5
      unit: second
  key: rukou_global
  value: default/b:5/second
- descriptors:
  - descriptors:
    - descriptors:
      - key: remote_address
        rate_limit:
          requests_per_unit: 5
          unit: second
      key: absent_arg_page
      value: "true"
    key: absent_http_x-api-client
    value: "true"
  key: rukou_global_unkeyed
  value: default/b:5/second
domain: rukou
`
	if got := string(RateLimitServiceConfig(cfg)); got != want {
		t.Errorf("configuration:\n%s\nwant:\n%s", got, want)
	}
	if got := RateLimitServiceConfig(&ir.Config{Listeners: []*ir.Listener{{}}}); got != nil {
		t.Errorf("without a rate limit service: %q, want nil", got)
	}
}
