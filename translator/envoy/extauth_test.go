package envoy

import (
	"net/netip"
	"testing"

	"github.com/rukou/rukou/limiter/wire"
	"github.com/rukou/rukou/translator/ir"
)

// TestExternalAuthRouteSatisfy: the limiter learns of satisfy any whenever
// more than one check could admit a request on its own, address ranges or
// not.
func TestExternalAuthRouteSatisfy(t *testing.T) {
	basic := &ir.BasicAuth{Credentials: "basic-auth/default/users"}
	ext := &ir.ExternalAuth{URL: ir.Text{{Literal: "http://auth/"}}}
	ranges := &ir.Access{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	tests := []struct {
		name            string
		policy          ir.Policy
		any, withRanges bool
	}{
		{"any_basic_and_auth_url_without_ranges", ir.Policy{SatisfyAny: true, BasicAuth: basic, ExternalAuth: ext}, true, false},
		{"any_basic_and_ranges", ir.Policy{SatisfyAny: true, BasicAuth: basic, Access: ranges}, true, true},
		{"any_basic_alone", ir.Policy{SatisfyAny: true, BasicAuth: basic}, false, false},
		{"all_basic_and_auth_url", ir.Policy{BasicAuth: basic, ExternalAuth: ext}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := externalAuthRoute(&tc.policy).GetCheckSettings().GetContextExtensions()
			if (got[wire.AuthSatisfyAnyKey] == "true") != tc.any {
				t.Errorf("satisfy any sent: %q, want %v", got[wire.AuthSatisfyAnyKey], tc.any)
			}
			if _, ok := got[wire.AuthAllowKey]; ok != tc.withRanges {
				t.Errorf("allowed ranges sent: %v, want %v", ok, tc.withRanges)
			}
		})
	}
}
