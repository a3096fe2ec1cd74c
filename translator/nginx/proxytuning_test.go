package nginx

import "testing"

func TestReadProxyTuning(t *testing.T) {
	tuning := func(want Tuning) func(*testing.T, *Annotations) {
		return func(t *testing.T, a *Annotations) {
			t.Helper()
			var got Tuning
			if a.Policy != nil {
				got = a.Policy.Tuning
			}
			equal(t, "tuning", got, want)
		}
	}
	runAnnotationCases(t, []annotationCase{
		{name: "limit_rate_in_kib_per_second", values: map[string]string{"limit-rate": "90"}, check: tuning(Tuning{LimitRate: new(uint64(90))})},
		{name: "limit_rate_zero_lifts_the_configmap_limit", values: map[string]string{"limit-rate": "0"}, check: tuning(Tuning{LimitRate: new(uint64(0))})},
		{name: "limit_rate_not_a_number", values: map[string]string{"limit-rate": "90k"}, check: tuning(Tuning{}), issues: []string{"limit-rate InvalidAnnotation"}},
		{
			name:   "limit_rate_after_is_reported",
			values: map[string]string{"limit-rate": "10", "limit-rate-after": "500"},
			check:  tuning(Tuning{LimitRate: new(uint64(10))}),
			issues: []string{"limit-rate-after AnnotationIgnored"},
		},
		{name: "limit_rate_after_zero_is_nginx_default", values: map[string]string{"limit-rate-after": "0"}, check: tuning(Tuning{})},
		{name: "request_buffering_on", values: map[string]string{"proxy-request-buffering": "on"}, check: tuning(Tuning{RequestBuffering: new(true)})},
		{
			name:   "request_buffering_off_lifts_the_body_limit_reported",
			values: map[string]string{"proxy-request-buffering": "off"},
			check:  tuning(Tuning{RequestBuffering: new(false)}),
			issues: []string{"proxy-request-buffering AnnotationIgnored"},
		},
		{
			name:   "request_buffering_off_without_a_body_limit_is_not_reported",
			values: map[string]string{"proxy-request-buffering": "off", "proxy-body-size": "0"},
			check:  tuning(Tuning{RequestBuffering: new(false)}),
		},
		{
			name:   "request_buffering_off_on_grpc_is_not_reported",
			values: map[string]string{"proxy-request-buffering": "off", "backend-protocol": "GRPC"},
			check:  tuning(Tuning{RequestBuffering: new(false)}),
		},
		{name: "request_buffering_neither_on_nor_off", values: map[string]string{"proxy-request-buffering": "yes"}, check: tuning(Tuning{}), issues: []string{"proxy-request-buffering InvalidAnnotation"}},
		{name: "connection_header_keep_alive", values: map[string]string{"connection-proxy-header": "keep-alive"}, check: tuning(Tuning{ConnectionHeader: "keep-alive"})},
		{name: "connection_header_close", values: map[string]string{"connection-proxy-header": "close"}, check: tuning(Tuning{ConnectionHeader: "close"})},
		{
			name:   "connection_header_other_values_are_refused",
			values: map[string]string{"connection-proxy-header": "upgrade, keep-alive"},
			check:  tuning(Tuning{}),
			issues: []string{"connection-proxy-header InvalidAnnotation"},
		},
		{name: "http_version_1_1", values: map[string]string{"proxy-http-version": "1.1"}, check: tuning(Tuning{})},
		{name: "http_version_1_0_is_reported", values: map[string]string{"proxy-http-version": "1.0"}, issues: []string{"proxy-http-version AnnotationIgnored"}},
		{name: "http_version_2_is_invalid", values: map[string]string{"proxy-http-version": "2"}, issues: []string{"proxy-http-version InvalidAnnotation"}},
		{
			name: "buffer_sizes_are_checked_and_only_the_header_buffer_counts",
			values: map[string]string{
				"proxy-buffering": "on", "proxy-buffer-size": "8k", "proxy-buffers-number": "8",
				"proxy-max-temp-file-size": "1024m", "client-body-buffer-size": "16K", "proxy-busy-buffers-size": "16k",
			},
			check: tuning(Tuning{ResponseHeaderKiB: 8}),
		},
		{name: "proxy_buffer_size_rounds_up_to_kib", values: map[string]string{"proxy-buffer-size": "4097"}, check: tuning(Tuning{ResponseHeaderKiB: 5})},
		{name: "proxy_buffer_size_at_most_envoys_8192_kib", values: map[string]string{"proxy-buffer-size": "1g"}, check: tuning(Tuning{ResponseHeaderKiB: 8192})},
		{name: "proxy_buffer_size_zero_keeps_the_default", values: map[string]string{"proxy-buffer-size": "0"}, check: tuning(Tuning{})},
		{
			name:   "other_buffer_sizes_change_nothing",
			values: map[string]string{"proxy-buffering": "off", "proxy-buffers-number": "4", "client-body-buffer-size": "1m"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
		},
		{
			name: "buffer_sizes_that_cannot_be_read_are_reported",
			values: map[string]string{
				"proxy-buffering": "maybe", "proxy-buffer-size": "8 KB", "proxy-buffers-number": "0",
				"proxy-max-temp-file-size": "-1", "client-body-buffer-size": "big", "proxy-busy-buffers-size": "16 k",
			},
			issues: []string{
				"client-body-buffer-size InvalidAnnotation", "proxy-buffer-size InvalidAnnotation", "proxy-buffering InvalidAnnotation",
				"proxy-buffers-number InvalidAnnotation", "proxy-busy-buffers-size InvalidAnnotation", "proxy-max-temp-file-size InvalidAnnotation",
			},
		},
		{name: "rewrite_log_is_refused", values: map[string]string{"enable-rewrite-log": "true"}, issues: []string{"enable-rewrite-log AnnotationIgnored"}},
	})
}

func TestReadGlobalProxyTuning(t *testing.T) {
	for _, c := range []readCase{
		{name: "limit_rate", data: map[string]string{"limit-rate": "100"}, want: settingsWith(func(s *Settings) { s.LimitRate = 100 })},
		{
			name: "request_buffering_off_lifts_the_body_limit_reported",
			data: map[string]string{"proxy-request-buffering": "off"}, want: settingsWith(func(s *Settings) { s.RequestBuffering = false }),
			issues: []string{"proxy-request-buffering ConfigKeyIgnored"},
		},
		{
			name: "request_buffering_off_without_a_body_limit",
			data: map[string]string{"proxy-request-buffering": "off", "proxy-body-size": "0"},
			want: settingsWith(func(s *Settings) { s.RequestBuffering, s.MaxBodyBytes = false, 0 }),
		},
		{
			name: "limit_rate_after_is_reported", data: map[string]string{"limit-rate-after": "1"}, want: DefaultSettings(),
			issues: []string{"limit-rate-after ConfigKeyIgnored"},
		},
		{
			name: "buffer_sizes_are_checked", data: map[string]string{"proxy-buffering": "on", "proxy-buffer-size": "16k", "client-body-buffer-size": "1m", "proxy-buffers-number": "x", "proxy-busy-buffers-size": "32k"},
			want: settingsWith(func(s *Settings) { s.ResponseHeaderKiB = 16 }), issues: []string{"proxy-buffers-number InvalidConfigValue"},
		},
	} {
		t.Run(c.name, func(t *testing.T) { checkRead(t, c.data, c.want, c.issues) })
	}
}

func TestAnnotationsOverrideTheConfigMapTuning(t *testing.T) {
	d := settingsWith(func(s *Settings) { s.LimitRate, s.RequestBuffering = 100, false })
	a, _ := ReadWith(map[string]string{Prefix + "limit-rate": "0", Prefix + "proxy-request-buffering": "on"}, "default/x", &d)
	equal(t, "tuning", a.Policy.Tuning, Tuning{LimitRate: new(uint64(0)), RequestBuffering: new(true)})
}
