package ingress

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// TestRoutePolicyTuning: the body size limit of a route follows
// proxy-request-buffering (a streamed body has none) and the listener's
// default, and limit-rate overrides the ConfigMap's.
func TestRoutePolicyTuning(t *testing.T) {
	mib := uint64(1 << 20)
	streamed := nginx.DefaultSettings()
	streamed.RequestBuffering, streamed.LimitRate = false, 100
	for _, tc := range []struct {
		name          string
		policy        nginx.Policy
		settings      nginx.Settings
		wantListener  uint64
		wantBody      *uint64
		wantRateKiBps uint64
	}{
		{name: "defaults_hold_bodies_up_to_the_listener_limit", settings: nginx.DefaultSettings(), wantListener: mib},
		{name: "off_streams_the_route", policy: nginx.Policy{Tuning: nginx.Tuning{RequestBuffering: new(false)}}, settings: nginx.DefaultSettings(), wantListener: mib, wantBody: new(uint64(0))},
		{name: "configmap_off_streams_every_route", settings: streamed, wantRateKiBps: 100},
		{
			name:   "on_brings_back_the_configmap_limit_where_the_configmap_streams",
			policy: nginx.Policy{Tuning: nginx.Tuning{RequestBuffering: new(true), LimitRate: new(uint64(0))}}, settings: streamed,
			wantBody: &mib,
		},
		{
			name:   "on_with_a_limit_of_its_own",
			policy: nginx.Policy{MaxBodyBytes: new(uint64(8 << 20)), Tuning: nginx.Tuning{RequestBuffering: new(true), LimitRate: new(uint64(7))}}, settings: streamed,
			wantBody: new(uint64(8 << 20)), wantRateKiBps: 7,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := listenerBodyLimit(&tc.settings); got != tc.wantListener {
				t.Errorf("listener limit %d, want %d", got, tc.wantListener)
			}
			p := routePolicy(&tc.policy, &tc.settings)
			if p == nil {
				p = &ir.Policy{}
			}
			if (p.MaxBodyBytes == nil) != (tc.wantBody == nil) || (p.MaxBodyBytes != nil && *p.MaxBodyBytes != *tc.wantBody) {
				t.Errorf("route limit %v, want %v", p.MaxBodyBytes, tc.wantBody)
			}
			if p.ResponseKiBps != tc.wantRateKiBps {
				t.Errorf("response rate %d KiB/s, want %d", p.ResponseKiBps, tc.wantRateKiBps)
			}
		})
	}
}
