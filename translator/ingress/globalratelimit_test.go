package ingress_test

import "testing"

// TestBuildGlobalRateLimitWithoutService: without --global-rate-limit-service
// an Ingress asking for a global rate limit is served without it and
// reported, as ingress-nginx without memcached serves it unlimited.
func TestBuildGlobalRateLimitWithoutService(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "served_unlimited_and_reported",
		objs: objects(services("a"), ing("x", an("global-rate-limit", "5"), an("global-rate-limit-window", "1m"),
			rule("example.com", path(prefix, "/", svc("a", 80))))),
		model:    []string{"example.com", "  Prefix / -> default/a/80 (default/x)"},
		backends: []string{"default/a/80 -> none"},
		diags:    []string{"GlobalRateLimitUnavailable default/x"},
	}})
}
