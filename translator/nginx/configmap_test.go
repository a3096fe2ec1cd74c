package nginx

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// TestConfigMapDocsFollowTheRegistry keeps docs/configmap.md's table of
// every key equal to Keys (`go test ./translator/nginx -update`).
func TestConfigMapDocsFollowTheRegistry(t *testing.T) {
	checkGeneratedTable(t, "configmap.md", "<!-- The table below is generated from translator/nginx's Keys: go test ./translator/nginx -update -->\n", ConfigTable())
}

// TestKeysAreConsistent: names sorted and unique, every honoured key read,
// nothing refused or left for later read, and each note of a key that
// is not honoured explains it or is left to the docs.
func TestKeysAreConsistent(t *testing.T) {
	for i, k := range Keys {
		if i > 0 && Keys[i-1].Name >= k.Name {
			t.Errorf("%q comes after %q: Keys are sorted by name, once each", k.Name, Keys[i-1].Name)
		}
		if k.readWith != "" {
			if lead, ok := LookupKey(k.readWith); !ok || lead.read == nil {
				t.Errorf("%s: readWith %q names no key with a reader", k.Name, k.readWith)
			}
		}
		honoured := k.Status == Supported || k.Status == Differs
		read := k.read != nil || k.readWith != ""
		if honoured != read {
			t.Errorf("%s is %s, but read: %v", k.Name, k.Status, read)
		}
	}
	if k, ok := LookupKey("allow-snippet-annotations"); !ok || k.Status != Refused {
		t.Errorf("allow-snippet-annotations: %+v, want refused", k)
	}
}

// TestEveryKeyNotHonouredIsReported: each key that is not honoured, and
// an unknown one, gives exactly one diagnostic and changes nothing.
func TestEveryKeyNotHonouredIsReported(t *testing.T) {
	names := []string{"no-such-key"}
	for _, k := range Keys {
		if k.Status == Refused || k.Status == NotYet {
			names = append(names, k.Name)
		}
	}
	for _, name := range names {
		s, issues := ReadConfigMap(map[string]string{name: "true"})
		if len(issues) != 1 || issues[0].Name != name {
			t.Errorf("%s: issues %+v, want one for it", name, issues)
		}
		if want := DefaultSettings(); fmt.Sprint(s) != fmt.Sprint(want) {
			t.Errorf("%s changed the settings: %+v", name, s)
		}
	}
}

func TestReadConfigMap(t *testing.T) {
	defaults := DefaultSettings()
	for _, c := range []readCase{
		{name: "no_data_gives_ingress_nginx_defaults", want: defaults},
		{name: "ssl_redirect_off", data: map[string]string{"ssl-redirect": "false"}, want: settingsWith(func(s *Settings) { s.SSLRedirect = false })},
		{name: "hsts_off", data: map[string]string{"hsts": "false"}, want: settingsWith(func(s *Settings) { s.HSTS = false })},
		{
			name: "hsts_fields",
			data: map[string]string{"hsts-max-age": "600", "hsts-include-subdomains": "false", "hsts-preload": "true"},
			want: settingsWith(func(s *Settings) { s.HSTSMaxAge, s.HSTSIncludeSubdomains, s.HSTSPreload = 600, false, true }),
		},
		{
			name: "timeouts_in_seconds",
			data: map[string]string{"proxy-connect-timeout": "2", "proxy-read-timeout": "120", "proxy-send-timeout": "30"},
			want: settingsWith(func(s *Settings) {
				s.ConnectTimeout, s.ReadTimeout, s.SendTimeout = 2*time.Second, 120*time.Second, 30*time.Second
			}),
		},
		{
			name:   "invalid_timeout_keeps_the_default_and_the_others_apply",
			data:   map[string]string{"proxy-read-timeout": "1m", "proxy-connect-timeout": "3"},
			want:   settingsWith(func(s *Settings) { s.ConnectTimeout = 3 * time.Second }),
			issues: []string{"proxy-read-timeout InvalidConfigValue"},
		},
		{name: "tries", data: map[string]string{"proxy-next-upstream-tries": "1"}, want: settingsWith(func(s *Settings) { s.Retry.Tries = 1 })},
		{name: "tries_zero_is_the_default", data: map[string]string{"proxy-next-upstream-tries": "0"}, want: defaults},
		{
			name:   "tries_over_ten_is_the_default",
			data:   map[string]string{"proxy-next-upstream-tries": "11"},
			want:   defaults,
			issues: []string{"proxy-next-upstream-tries InvalidConfigValue"},
		},
		{
			name: "next_upstream_conditions",
			data: map[string]string{"proxy-next-upstream": "error http_503 http_502 http_502  non_idempotent", "proxy-next-upstream-timeout": "30"},
			want: settingsWith(func(s *Settings) {
				s.Retry.On = NextUpstream{Error: true, Statuses: []uint32{502, 503}, NonIdempotent: true}
				s.Retry.Timeout = 30 * time.Second
			}),
		},
		{name: "next_upstream_off", data: map[string]string{"proxy-next-upstream": "off"}, want: settingsWith(func(s *Settings) { s.Retry.On = NextUpstream{} })},
		{
			name:   "next_upstream_off_with_others_is_the_default",
			data:   map[string]string{"proxy-next-upstream": "off error"},
			want:   defaults,
			issues: []string{"proxy-next-upstream InvalidConfigValue"},
		},
		{
			name:   "next_upstream_unknown_condition_is_the_default",
			data:   map[string]string{"proxy-next-upstream": "error http_501"},
			want:   defaults,
			issues: []string{"proxy-next-upstream InvalidConfigValue"},
		},
		{
			name: "keepalive",
			data: map[string]string{"upstream-keepalive-connections": "0", "upstream-keepalive-timeout": "5", "upstream-keepalive-requests": "7", "upstream-keepalive-time": "90m"},
			want: settingsWith(func(s *Settings) {
				s.Keepalive = Keepalive{Connections: 0, Timeout: 5 * time.Second, Requests: 7, Time: 90 * time.Minute}
			}),
		},
		{name: "keepalive_time_in_seconds", data: map[string]string{"upstream-keepalive-time": "45"}, want: settingsWith(func(s *Settings) { s.Keepalive.Time = 45 * time.Second })},
		{
			name:   "invalid_keepalive_values_keep_the_defaults",
			data:   map[string]string{"upstream-keepalive-time": "1 hour", "upstream-keepalive-requests": "0", "upstream-keepalive-timeout": "-1"},
			want:   defaults,
			issues: []string{"upstream-keepalive-requests InvalidConfigValue", "upstream-keepalive-time InvalidConfigValue", "upstream-keepalive-timeout InvalidConfigValue"},
		},
		{name: "retry_non_idempotent", data: map[string]string{"retry-non-idempotent": "true"}, want: settingsWith(func(s *Settings) { s.RetryNonIdempotent = true })},
		{name: "body_size", data: map[string]string{"proxy-body-size": "8m"}, want: settingsWith(func(s *Settings) { s.MaxBodyBytes = 8 << 20 })},
		{
			name:   "invalid_body_size_is_no_limit",
			data:   map[string]string{"proxy-body-size": "8 MB"},
			want:   defaults,
			issues: []string{"proxy-body-size InvalidConfigValue"},
		},
		{name: "underscores", data: map[string]string{"enable-underscores-in-headers": "true"}, want: settingsWith(func(s *Settings) { s.UnderscoresInHeaders = true })},
		{
			name:   "invalid_boolean",
			data:   map[string]string{"enable-underscores-in-headers": "yes please"},
			want:   defaults,
			issues: []string{"enable-underscores-in-headers InvalidConfigValue"},
		},
		{
			name: "source_ranges",
			data: map[string]string{"whitelist-source-range": "10.0.0.0/8, 192.168.1.1", "denylist-source-range": "10.1.0.0/16"},
			want: settingsWith(func(s *Settings) {
				s.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")}
				s.Deny = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
			}),
		},
		{
			name:   "unreadable_range_denies_all",
			data:   map[string]string{"whitelist-source-range": "10.0.0.0/33"},
			want:   settingsWith(func(s *Settings) { s.DenyAll = true }),
			issues: []string{"whitelist-source-range InvalidConfigValue"},
		},
		{name: "limit_status", data: map[string]string{"limit-req-status-code": "429"}, want: settingsWith(func(s *Settings) { s.LimitReqStatus = 429 })},
		{name: "limit_conn_status", data: map[string]string{"limit-conn-status-code": "429"}, want: settingsWith(func(s *Settings) { s.LimitConnStatus = 429 })},
		{name: "global_rate_limit_status", data: map[string]string{"global-rate-limit-status-code": "503"}, want: settingsWith(func(s *Settings) { s.GlobalRateLimitStatus = 503 })},
		{
			name:   "memcached_keys_are_refused",
			data:   map[string]string{"global-rate-limit-memcached-host": "memc.default.svc", "global-rate-limit-memcached-port": "11211"},
			want:   defaults,
			issues: []string{"global-rate-limit-memcached-host ConfigKeyIgnored", "global-rate-limit-memcached-port ConfigKeyIgnored"},
		},
		{
			name:   "limit_conn_status_out_of_range",
			data:   map[string]string{"limit-conn-status-code": "302"},
			want:   defaults,
			issues: []string{"limit-conn-status-code InvalidConfigValue"},
		},
		{
			name:   "limit_status_envoy_cannot_send",
			data:   map[string]string{"limit-req-status-code": "418"},
			want:   defaults,
			issues: []string{"limit-req-status-code InvalidConfigValue"},
		},
		{name: "tls13_only", data: map[string]string{"ssl-protocols": "TLSv1.3"}, want: settingsWith(func(s *Settings) { s.TLS.MinVersion = ir.TLS13 })},
		{name: "old_tls_versions", data: map[string]string{"ssl-protocols": "TLSv1 TLSv1.1 TLSv1.2"}, want: settingsWith(func(s *Settings) { s.TLS.MinVersion, s.TLS.MaxVersion = ir.TLS10, ir.TLS12 })},
		{
			name: "tls_version_gap_offers_the_range_and_is_reported", data: map[string]string{"ssl-protocols": "TLSv1 TLSv1.3"},
			want:   settingsWith(func(s *Settings) { s.TLS.MinVersion = ir.TLS10 }),
			issues: []string{"ssl-protocols InvalidConfigValue"},
		},
		{
			name: "ssl3_is_left_out", data: map[string]string{"ssl-protocols": "SSLv3 TLSv1.2"},
			want:   settingsWith(func(s *Settings) { s.TLS.MaxVersion = ir.TLS12 }),
			issues: []string{"ssl-protocols InvalidConfigValue"},
		},
		{name: "unknown_tls_version_keeps_the_default", data: map[string]string{"ssl-protocols": "TLSv1.2 TLSv2"}, want: defaults, issues: []string{"ssl-protocols InvalidConfigValue"}},
		{name: "no_tls_version_keeps_the_default", data: map[string]string{"ssl-protocols": "SSLv2"}, want: defaults, issues: []string{"ssl-protocols InvalidConfigValue"}},
		{
			name: "ciphers_in_the_given_order", data: map[string]string{"ssl-ciphers": "ECDHE-RSA-AES256-GCM-SHA384:!aNULL:ECDHE-RSA-AES128-GCM-SHA256"},
			want: settingsWith(func(s *Settings) {
				s.TLS.CipherSuites = []string{"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"}
			}),
		},
		{
			name: "cipher_envoy_rejects_is_left_out", data: map[string]string{"ssl-ciphers": "ECDHE-RSA-AES256-SHA384:AES128-SHA:HIGH"},
			want:   settingsWith(func(s *Settings) { s.TLS.CipherSuites = []string{"AES128-SHA"} }),
			issues: []string{"ssl-ciphers InvalidConfigValue"},
		},
		{
			name: "no_usable_cipher_keeps_the_default", data: map[string]string{"ssl-ciphers": "DHE-RSA-AES256-SHA256:CAMELLIA128-SHA"},
			want: defaults, issues: []string{"ssl-ciphers InvalidConfigValue", "ssl-ciphers InvalidConfigValue"},
		},
		{name: "the_default_cipher_list_written_out", data: map[string]string{"ssl-ciphers": DefaultSSLCiphers}, want: defaults},
		{name: "curves_by_openssl_name", data: map[string]string{"ssl-ecdh-curve": "secp384r1:prime256v1:X25519"}, want: settingsWith(func(s *Settings) { s.TLS.Curves = []string{"P-384", "P-256", "X25519"} })},
		{name: "auto_curves", data: map[string]string{"ssl-ecdh-curve": "auto"}, want: defaults},
		{
			name: "unknown_curve_is_left_out", data: map[string]string{"ssl-ecdh-curve": "brainpoolP256r1:X25519"},
			want:   settingsWith(func(s *Settings) { s.TLS.Curves = []string{"X25519"} }),
			issues: []string{"ssl-ecdh-curve InvalidConfigValue"},
		},
		{
			name: "custom_log_format",
			data: map[string]string{"log-format-upstream": "$status $host"},
			want: settingsWith(func(s *Settings) {
				s.AccessLog.Fields = []ir.LogField{{Value: ir.LogStatus}, {Text: " "}, {Value: ir.LogHost}}
			}),
		},
		{
			name:   "log_format_with_a_variable_rukou_cannot_print_keeps_the_default",
			data:   map[string]string{"log-format-upstream": "$status $geoip_city", "disable-access-log": "false"},
			want:   defaults,
			issues: []string{"log-format-upstream InvalidConfigValue"},
		},
		{
			name: "json_format_escaped",
			data: map[string]string{"log-format-upstream": `{"s": $status}`, "log-format-escape-json": "true"},
			want: settingsWith(func(s *Settings) {
				s.AccessLog.JSON = []ir.LogMember{{Key: "s", Fields: []ir.LogField{{Value: ir.LogStatus}}}}
			}),
		},
		{
			name:   "escape_json_of_a_text_format_is_reported_and_the_text_applies",
			data:   map[string]string{"log-format-upstream": `$status`, "log-format-escape-json": "true"},
			want:   settingsWith(func(s *Settings) { s.AccessLog.Fields = []ir.LogField{{Value: ir.LogStatus}} }),
			issues: []string{"log-format-escape-json InvalidConfigValue"},
		},
		{
			name: "escape_none_wins_over_json",
			data: map[string]string{"log-format-upstream": `{"s": "$status"}`, "log-format-escape-json": "true", "log-format-escape-none": "true"},
			want: settingsWith(func(s *Settings) {
				s.AccessLog.Fields = []ir.LogField{{Text: `{"s": "`}, {Value: ir.LogStatus}, {Text: `"}`}}
			}),
		},
		{
			name: "access_log_off_default_backend_on_stderr",
			data: map[string]string{"disable-access-log": "true", "enable-access-log-for-default-backend": "true", "access-log-path": "/dev/stderr", "error-log-path": "/dev/stderr"},
			want: settingsWith(func(s *Settings) { s.AccessLog.Off, s.AccessLog.DefaultBackend, s.AccessLog.Stderr = true, true, true }),
		},
		{
			name: "skip_urls_as_nginx_map_matches_them",
			data: map[string]string{"skip-access-log-urls": "/healthz, ~^/metrics, ~*PING$, ~(, bad uri"},
			want: settingsWith(func(s *Settings) {
				s.AccessLog.Skip = []ir.StringMatch{{Exact: "/healthz", IgnoreCase: true}, {Regex: ".*(?:^/metrics).*"}, {Regex: ".*(?:(?i)PING$).*"}}
			}),
			issues: []string{"skip-access-log-urls InvalidConfigValue", "skip-access-log-urls InvalidConfigValue"},
		},
		{
			name: "http_access_log_path_wins",
			data: map[string]string{"access-log-path": "/dev/stderr", "http-access-log-path": "/dev/stdout"},
			want: defaults,
		},
		{
			name:   "log_files_are_reported",
			data:   map[string]string{"access-log-path": "/var/log/x.log", "http-access-log-path": "/var/log/h.log", "error-log-path": "/var/log/e.log"},
			want:   defaults,
			issues: []string{"access-log-path InvalidConfigValue", "error-log-path InvalidConfigValue", "http-access-log-path InvalidConfigValue"},
		},
		{
			name: "header_keys",
			data: map[string]string{
				"proxy-set-headers": "ingress/custom", "add-headers": "ingress/response", "generate-request-id": "false",
				"proxy-add-original-uri-header": "true", "hide-headers": "X-Powered-By, Server",
			},
			want: settingsWith(func(s *Settings) {
				s.Headers = HeaderSettings{ProxySetHeaders: "ingress/custom", AddHeaders: "ingress/response", NoRequestID: true, OriginalURI: true, Hide: []string{"x-powered-by", "server"}}
			}),
		},
		{
			name:   "bad_header_keys_are_reported",
			data:   map[string]string{"proxy-set-headers": "custom", "add-headers": "a/*.b", "hide-headers": "Host, Bad Name, X-Ok"},
			want:   settingsWith(func(s *Settings) { s.Headers.Hide = []string{"x-ok"} }),
			issues: []string{"add-headers InvalidConfigValue", "hide-headers InvalidConfigValue", "hide-headers InvalidConfigValue", "proxy-set-headers InvalidConfigValue"},
		},
		{
			name: "stream_keys",
			data: map[string]string{"proxy-stream-timeout": "1h 30m", "proxy-stream-next-upstream-tries": "5"},
			want: settingsWith(func(s *Settings) { s.StreamTimeout, s.StreamConnectAttempts = 90*time.Minute, 5 }),
		},
		{name: "stream_timeout_in_seconds_without_unit", data: map[string]string{"proxy-stream-timeout": "90"}, want: settingsWith(func(s *Settings) { s.StreamTimeout = 90 * time.Second })},
		{
			name: "stream_next_upstream_off_tries_one_endpoint",
			data: map[string]string{"proxy-stream-next-upstream": "false", "proxy-stream-next-upstream-tries": "5"},
			want: settingsWith(func(s *Settings) { s.StreamConnectAttempts = 1 }),
		},
		{name: "stream_tries_zero_is_the_default", data: map[string]string{"proxy-stream-next-upstream-tries": "0"}, want: defaults},
		{
			name:   "invalid_stream_keys_keep_their_defaults",
			data:   map[string]string{"proxy-stream-timeout": "soon", "proxy-stream-next-upstream-tries": "11", "proxy-stream-next-upstream": "maybe"},
			want:   defaults,
			issues: []string{"proxy-stream-next-upstream InvalidConfigValue", "proxy-stream-next-upstream-tries InvalidConfigValue", "proxy-stream-timeout InvalidConfigValue"},
		},
		{
			name:   "snippets_and_unknown_keys_are_reported",
			data:   map[string]string{"allow-snippet-annotations": "true", "http-snippet": "x", "use-geoip2": "true", "hsts": "false", "ingress-class": "x"},
			want:   settingsWith(func(s *Settings) { s.HSTS = false }),
			issues: []string{"allow-snippet-annotations SnippetRefused", "http-snippet SnippetRefused", "ingress-class ConfigKeyIgnored", "use-geoip2 ConfigKeyIgnored"},
		},
	} {
		t.Run(c.name, func(t *testing.T) { checkRead(t, c.data, c.want, c.issues) })
	}
}

func TestHSTSValue(t *testing.T) {
	for _, c := range []struct {
		data map[string]string
		want string
	}{
		{nil, "max-age=31536000; includeSubDomains"},
		{map[string]string{"hsts": "false"}, ""},
		{map[string]string{"hsts-max-age": "60", "hsts-include-subdomains": "false", "hsts-preload": "true"}, "max-age=60; preload"},
	} {
		s, _ := ReadConfigMap(c.data)
		if got := s.HSTSValue(); got != c.want {
			t.Errorf("%v: %q, want %q", c.data, got, c.want)
		}
	}
}

// TestAnnotationsOverrideTheConfigMap: the ConfigMap's values are the
// defaults of the annotations of the same meaning; an Ingress's own value
// wins, and an unusable one leaves the ConfigMap's.
func TestAnnotationsOverrideTheConfigMap(t *testing.T) {
	s, _ := ReadConfigMap(map[string]string{
		"ssl-redirect": "false", "proxy-body-size": "1m",
		"whitelist-source-range": "10.0.0.0/8", "denylist-source-range": "10.9.0.0/16",
	})
	ten, nine := netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.9.0.0/16")
	for _, c := range []struct {
		name   string
		values map[string]string
		check  func(t *testing.T, a *Annotations)
	}{
		{"defaults_from_the_configmap", nil, func(t *testing.T, a *Annotations) {
			equal(t, "ssl-redirect", a.SSLRedirect, false)
			equal(t, "body", a.Policy.MaxBodyBytes, (*uint64)(nil)) // the listener's
			equal(t, "access", *a.Policy.Access, ir.Access{Allow: []netip.Prefix{ten}, Deny: []netip.Prefix{nine}})
		}},
		{"annotations_win", map[string]string{"ssl-redirect": "true", "proxy-body-size": "0", "allowlist-source-range": "192.168.0.0/16"}, func(t *testing.T, a *Annotations) {
			equal(t, "ssl-redirect", a.SSLRedirect, true)
			equal(t, "body", *a.Policy.MaxBodyBytes, uint64(0))
			equal(t, "access", *a.Policy.Access, ir.Access{Allow: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}, Deny: []netip.Prefix{nine}})
		}},
		{"unusable_annotation_leaves_the_configmap_value", map[string]string{"proxy-body-size": "lots"}, func(t *testing.T, a *Annotations) {
			equal(t, "body", a.Policy.MaxBodyBytes, (*uint64)(nil))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			all := map[string]string{}
			for k, v := range c.values {
				all[Prefix+k] = v
			}
			a, _ := ReadWith(all, "default/x", &s)
			c.check(t, a)
		})
	}
}

// TestReadClientsAndCompression: the keys of client connections, the
// Server header and compression, with ingress-nginx's defaults, and each
// unusable value reported on its key with the default kept.
func TestReadClientsAndCompression(t *testing.T) {
	for _, c := range []readCase{
		{
			name: "keep_alive_and_requests",
			data: map[string]string{"keep-alive": "10", "keep-alive-requests": "2", "client-header-timeout": "5", "http2-max-concurrent-streams": "16"},
			want: settingsWith(func(s *Settings) {
				s.Clients.KeepAlive, s.Clients.KeepAliveRequests, s.Clients.HeaderTimeout, s.Clients.MaxConcurrentStreams = 10*time.Second, 2, 5*time.Second, 16
			}),
		},
		{name: "keep_alive_zero_disables_it", data: map[string]string{"keep-alive": "0"}, want: settingsWith(func(s *Settings) { s.Clients.KeepAlive = 0 })},
		{name: "no_http2", data: map[string]string{"use-http2": "false"}, want: settingsWith(func(s *Settings) { s.Clients.HTTP2 = false })},
		{name: "server_header", data: map[string]string{"server-tokens": "true", "allow-backend-server-header": "true"}, want: settingsWith(func(s *Settings) {
			s.Clients.ServerTokens, s.Clients.BackendServerHeader = true, true
		})},
		{name: "header_buffers", data: map[string]string{"large-client-header-buffers": "4 1k"}, want: settingsWith(func(s *Settings) { s.Clients.MaxHeaderBytes = 4 << 10 })},
		{name: "larger_first_buffer", data: map[string]string{"large-client-header-buffers": "2 1k", "client-header-buffer-size": "16k"}, want: settingsWith(func(s *Settings) { s.Clients.MaxHeaderBytes = 16 << 10 })},
		{name: "smaller_first_buffer_changes_nothing", data: map[string]string{"client-header-buffer-size": "2k"}, want: DefaultSettings()},
		{
			name:   "unusable_client_values",
			data:   map[string]string{"keep-alive": "75s", "keep-alive-requests": "-1", "use-http2": "maybe", "large-client-header-buffers": "8k", "client-header-buffer-size": "9m", "http2-max-concurrent-streams": "0"},
			want:   DefaultSettings(),
			issues: []string{"client-header-buffer-size InvalidConfigValue", "http2-max-concurrent-streams InvalidConfigValue", "keep-alive InvalidConfigValue", "keep-alive-requests InvalidConfigValue", "large-client-header-buffers InvalidConfigValue", "use-http2 InvalidConfigValue"},
		},
		{
			name: "gzip",
			data: map[string]string{"use-gzip": "true", "gzip-level": "6", "gzip-min-length": "100", "gzip-types": "application/octet-stream Text/CSS", "gzip-disable": "msie6"},
			want: settingsWith(func(s *Settings) {
				s.Gzip = Compression{On: true, Level: 6, MinLength: 100, Types: []string{"text/html", "application/octet-stream", "text/css"}, DisableUserAgent: `(?i)MSIE [4-6]\.`}
			}),
		},
		{
			name: "brotli_every_type",
			data: map[string]string{"enable-brotli": "true", "brotli-level": "11", "brotli-min-length": "0", "brotli-types": "text/plain *"},
			want: settingsWith(func(s *Settings) { s.Brotli = Compression{On: true, Level: 11, Types: []string{"*"}} }),
		},
		{name: "gzip_disable_expression", data: map[string]string{"gzip-disable": "curl/[0-9]+"}, want: settingsWith(func(s *Settings) { s.Gzip.DisableUserAgent = "(?i)curl/[0-9]+" })},
		{
			name:   "unusable_compression_values",
			data:   map[string]string{"use-gzip": "on", "gzip-level": "10", "brotli-level": "12", "gzip-types": "text/html; charset=utf-8", "gzip-disable": `(?<=x)y`, "brotli-min-length": "big"},
			want:   DefaultSettings(),
			issues: []string{"brotli-level InvalidConfigValue", "brotli-min-length InvalidConfigValue", "gzip-disable InvalidConfigValue", "gzip-level InvalidConfigValue", "gzip-types InvalidConfigValue", "use-gzip InvalidConfigValue"},
		},
	} {
		t.Run(c.name, func(t *testing.T) { checkRead(t, c.data, c.want, c.issues) })
	}
}

// readCase is a ConfigMap's data, the settings it gives and the keys it
// reports ("NAME REASON").
type readCase struct {
	name   string
	data   map[string]string
	want   Settings
	issues []string
}

// settingsWith is DefaultSettings changed by f.
func settingsWith(f func(*Settings)) Settings {
	s := DefaultSettings()
	f(&s)
	return s
}

// checkRead reads data as the ConfigMap and compares the settings and the
// keys reported ("NAME REASON") with what the case wants.
func checkRead(t *testing.T, data map[string]string, want Settings, wantIssues []string) {
	t.Helper()
	equal(t, "settings", readExpecting(t, data, wantIssues), want)
}

// readExpecting reads data as the ConfigMap and checks the keys it
// reports ("NAME REASON").
func readExpecting(t *testing.T, data map[string]string, want []string) Settings {
	t.Helper()
	s, issues := ReadConfigMap(data)
	var got []string
	for _, is := range issues {
		got = append(got, fmt.Sprintf("%s %s", is.Name, is.Reason))
	}
	if !slices.Equal(got, want) {
		t.Errorf("issues %q, want %q\n%+v", got, want, issues)
	}
	return s
}

// TestReadGlobalAuth: the global-auth-* keys read as the annotations do;
// a global authentication that cannot be used is reported and makes the
// routes it would protect answer 503 (GlobalAuthFail), never unprotected.
func TestReadGlobalAuth(t *testing.T) {
	s, issues := ReadConfigMap(map[string]string{
		"global-auth-url":                   "http://auth.example.com/check?uri=$request_uri",
		"global-auth-signin":                "http://login.example.com/start",
		"global-auth-signin-redirect-param": "return_to",
		"global-auth-response-headers":      "X-User",
		"global-auth-method":                "POST",
		"global-auth-cache-key":             "$cookie_session",
		"global-auth-cache-duration":        "200 1m",
		"global-auth-always-set-cookie":     "true",
		"no-auth-locations":                 "/public, /health",
	})
	if len(issues) != 0 || s.GlobalAuthFail || s.GlobalAuth == nil {
		t.Fatalf("issues %+v, fail %v, auth %+v", issues, s.GlobalAuthFail, s.GlobalAuth)
	}
	g := s.GlobalAuth
	equal(t, "URL", g.URL, ir.Text{{Literal: "http://auth.example.com/check?uri="}, {Value: ir.ValueRequestURI}})
	equal(t, "settings", []any{g.Method, g.SigninRedirectParam, g.ResponseHeaders, g.CookieStatuses == nil, g.Cache.Rules[0].TTL},
		[]any{"POST", "return_to", []string{"X-User"}, true, ir.Duration(time.Minute)})
	equal(t, "no-auth-locations", s.NoAuthLocations, []string{"/public", "/health"})
	equal(t, "default no-auth-locations", DefaultSettings().NoAuthLocations, []string{"/.well-known/acme-challenge"})

	s, issues = ReadConfigMap(map[string]string{"global-auth-url": "http://auth/$nope", "global-auth-snippet": "x"})
	if !s.GlobalAuthFail || s.GlobalAuth != nil || len(issues) != 2 ||
		issues[0].Name != "global-auth-snippet" || issues[1].Name != "global-auth-url" || issues[1].Reason != ir.ReasonInvalidConfigValue {
		t.Errorf("a global-auth-url with an unknown variable: fail %v, auth %+v, issues %+v", s.GlobalAuthFail, s.GlobalAuth, issues)
	}
}
