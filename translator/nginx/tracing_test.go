package nginx

import "testing"

func TestReadTracing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    map[string]string
		percent float64
		trust   bool
		issues  int
	}{
		{"defaults_sample_every_request", map[string]string{"otlp-collector-host": "otel"}, 100, true, 0},
		{"always_off_samples_none", map[string]string{"otel-sampler": "AlwaysOff"}, 0, true, 0},
		{"ratio_is_a_percent", map[string]string{"otel-sampler": "TraceIdRatioBased", "otel-sampler-ratio": "0.25"}, 25, true, 0},
		{"ratio_defaults_to_one_percent", map[string]string{"otel-sampler": "TraceIdRatioBased"}, 1, true, 0},
		{"bad_ratio_is_reported", map[string]string{"otel-sampler": "TraceIdRatioBased", "otel-sampler-ratio": "2"}, 1, true, 1},
		{"unknown_sampler_is_reported", map[string]string{"otel-sampler": "Sometimes"}, 100, true, 1},
		{"untrusted_incoming_span", map[string]string{"opentelemetry-trust-incoming-span": "false"}, 100, false, 0},
		{"enabled_without_collector_is_reported", map[string]string{"enable-opentelemetry": "true"}, 100, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, issues := ReadConfigMap(tc.data)
			if s.Tracing.SamplePercent != tc.percent || s.Tracing.TrustIncomingSpan != tc.trust || len(issues) != tc.issues {
				t.Errorf("sampled %g%%, trust %t, issues %v; want %g%%, %t, %d issues", s.Tracing.SamplePercent, s.Tracing.TrustIncomingSpan, issues, tc.percent, tc.trust, tc.issues)
			}
		})
	}
}
