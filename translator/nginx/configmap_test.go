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
	with := func(f func(*Settings)) Settings {
		s := DefaultSettings()
		f(&s)
		return s
	}
	for _, c := range []struct {
		name   string
		data   map[string]string
		want   Settings
		issues []string
	}{
		{name: "no_data_gives_ingress_nginx_defaults", want: defaults},
		{name: "ssl_redirect_off", data: map[string]string{"ssl-redirect": "false"}, want: with(func(s *Settings) { s.SSLRedirect = false })},
		{name: "hsts_off", data: map[string]string{"hsts": "false"}, want: with(func(s *Settings) { s.HSTS = false })},
		{
			name: "hsts_fields",
			data: map[string]string{"hsts-max-age": "600", "hsts-include-subdomains": "false", "hsts-preload": "true"},
			want: with(func(s *Settings) { s.HSTSMaxAge, s.HSTSIncludeSubdomains, s.HSTSPreload = 600, false, true }),
		},
		{
			name: "timeouts_in_seconds",
			data: map[string]string{"proxy-connect-timeout": "2", "proxy-read-timeout": "120", "proxy-send-timeout": "30"},
			want: with(func(s *Settings) {
				s.ConnectTimeout, s.ReadTimeout, s.SendTimeout = 2*time.Second, 120*time.Second, 30*time.Second
			}),
		},
		{
			name:   "invalid_timeout_keeps_the_default_and_the_others_apply",
			data:   map[string]string{"proxy-read-timeout": "1m", "proxy-connect-timeout": "3"},
			want:   with(func(s *Settings) { s.ConnectTimeout = 3 * time.Second }),
			issues: []string{"proxy-read-timeout InvalidConfigValue"},
		},
		{name: "tries", data: map[string]string{"proxy-next-upstream-tries": "1"}, want: with(func(s *Settings) { s.Retry.Tries = 1 })},
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
			want: with(func(s *Settings) {
				s.Retry.On = NextUpstream{Error: true, Statuses: []uint32{502, 503}, NonIdempotent: true}
				s.Retry.Timeout = 30 * time.Second
			}),
		},
		{name: "next_upstream_off", data: map[string]string{"proxy-next-upstream": "off"}, want: with(func(s *Settings) { s.Retry.On = NextUpstream{} })},
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
			want: with(func(s *Settings) {
				s.Keepalive = Keepalive{Connections: 0, Timeout: 5 * time.Second, Requests: 7, Time: 90 * time.Minute}
			}),
		},
		{name: "keepalive_time_in_seconds", data: map[string]string{"upstream-keepalive-time": "45"}, want: with(func(s *Settings) { s.Keepalive.Time = 45 * time.Second })},
		{
			name:   "invalid_keepalive_values_keep_the_defaults",
			data:   map[string]string{"upstream-keepalive-time": "1 hour", "upstream-keepalive-requests": "0", "upstream-keepalive-timeout": "-1"},
			want:   defaults,
			issues: []string{"upstream-keepalive-requests InvalidConfigValue", "upstream-keepalive-time InvalidConfigValue", "upstream-keepalive-timeout InvalidConfigValue"},
		},
		{name: "retry_non_idempotent", data: map[string]string{"retry-non-idempotent": "true"}, want: with(func(s *Settings) { s.RetryNonIdempotent = true })},
		{name: "body_size", data: map[string]string{"proxy-body-size": "8m"}, want: with(func(s *Settings) { s.MaxBodyBytes = 8 << 20 })},
		{
			name:   "invalid_body_size_is_no_limit",
			data:   map[string]string{"proxy-body-size": "8 MB"},
			want:   defaults,
			issues: []string{"proxy-body-size InvalidConfigValue"},
		},
		{name: "underscores", data: map[string]string{"enable-underscores-in-headers": "true"}, want: with(func(s *Settings) { s.UnderscoresInHeaders = true })},
		{
			name:   "invalid_boolean",
			data:   map[string]string{"enable-underscores-in-headers": "yes please"},
			want:   defaults,
			issues: []string{"enable-underscores-in-headers InvalidConfigValue"},
		},
		{
			name: "source_ranges",
			data: map[string]string{"whitelist-source-range": "10.0.0.0/8, 192.168.1.1", "denylist-source-range": "10.1.0.0/16"},
			want: with(func(s *Settings) {
				s.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")}
				s.Deny = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
			}),
		},
		{
			name:   "unreadable_range_denies_all",
			data:   map[string]string{"whitelist-source-range": "10.0.0.0/33"},
			want:   with(func(s *Settings) { s.DenyAll = true }),
			issues: []string{"whitelist-source-range InvalidConfigValue"},
		},
		{name: "limit_status", data: map[string]string{"limit-req-status-code": "429"}, want: with(func(s *Settings) { s.LimitReqStatus = 429 })},
		{name: "limit_conn_status", data: map[string]string{"limit-conn-status-code": "429"}, want: with(func(s *Settings) { s.LimitConnStatus = 429 })},
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
		{
			name:   "snippets_and_unknown_keys_are_reported",
			data:   map[string]string{"allow-snippet-annotations": "true", "http-snippet": "x", "use-gzip": "true", "hsts": "false", "ingress-class": "x"},
			want:   with(func(s *Settings) { s.HSTS = false }),
			issues: []string{"allow-snippet-annotations SnippetRefused", "http-snippet SnippetRefused", "ingress-class ConfigKeyIgnored", "use-gzip ConfigKeyIgnored"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, issues := ReadConfigMap(c.data)
			var got []string
			for _, is := range issues {
				got = append(got, fmt.Sprintf("%s %s", is.Name, is.Reason))
			}
			if !slices.Equal(got, c.issues) {
				t.Errorf("issues %q, want %q\n%+v", got, c.issues, issues)
			}
			equal(t, "settings", s, c.want)
		})
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
			equal(t, "body", a.Policy.MaxBodyBytes, uint64(1<<20))
			equal(t, "access", *a.Policy.Access, ir.Access{Allow: []netip.Prefix{ten}, Deny: []netip.Prefix{nine}})
		}},
		{"annotations_win", map[string]string{"ssl-redirect": "true", "proxy-body-size": "0", "allowlist-source-range": "192.168.0.0/16"}, func(t *testing.T, a *Annotations) {
			equal(t, "ssl-redirect", a.SSLRedirect, true)
			equal(t, "body", a.Policy.MaxBodyBytes, uint64(0))
			equal(t, "access", *a.Policy.Access, ir.Access{Allow: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}, Deny: []netip.Prefix{nine}})
		}},
		{"unusable_annotation_leaves_the_configmap_value", map[string]string{"proxy-body-size": "lots"}, func(t *testing.T, a *Annotations) {
			equal(t, "body", a.Policy.MaxBodyBytes, uint64(1<<20))
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
