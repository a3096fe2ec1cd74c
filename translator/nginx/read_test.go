package nginx

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// annotationCase reads one set of annotations (short names) and checks the
// parsed values and the issues ("name ir.Reason", in order).
type annotationCase struct {
	name   string
	values map[string]string
	check  func(t *testing.T, a *Annotations)
	issues []string
}

func runAnnotationCases(t *testing.T, cases []annotationCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := map[string]string{"kubernetes.io/ingress.class": "rukou"} // not ours to read
			for k, v := range c.values {
				all[Prefix+k] = v
			}
			a, issues := Read(all, "default/x")
			var got []string
			for _, is := range issues {
				got = append(got, fmt.Sprintf("%s %s", is.Name, is.Reason))
			}
			if !slices.Equal(got, c.issues) {
				t.Errorf("issues %q, want %q\n%+v", got, c.issues, issues)
			}
			if c.check != nil {
				c.check(t, a)
			}
		})
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func TestReadAnnotationsFramework(t *testing.T) {
	runAnnotationCases(t, []annotationCase{
		{
			name: "no_annotations_give_ingress_nginx_defaults",
			check: func(t *testing.T, a *Annotations) {
				equal(t, "annotations", *a, Annotations{SSLRedirect: true, Protocol: ProtocolHTTP, Balance: BalanceRoundRobin})
			},
		},
		{
			name:   "values_are_trimmed",
			values: map[string]string{"ssl-redirect": " false\n", "use-regex": "True"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "sslRedirect", a.SSLRedirect, false)
				equal(t, "useRegex", a.UseRegex, true)
			},
		},
		{
			name: "every_snippet_is_refused",
			values: map[string]string{
				"server-snippet": "x", "configuration-snippet": "x", "auth-snippet": "x", "stream-snippet": "x", "modsecurity-snippet": "x",
			},
			issues: []string{
				"auth-snippet SnippetRefused", "configuration-snippet SnippetRefused", "modsecurity-snippet SnippetRefused",
				"server-snippet SnippetRefused", "stream-snippet SnippetRefused",
			},
		},
		{
			name: "annotations_without_an_envoy_counterpart_are_refused_not_as_snippets",
			values: map[string]string{
				"enable-modsecurity": "true", "fastcgi-index": "index.php", "influxdb-host": "127.0.0.1", "enable-opentracing": "true", "http2-push-preload": "true",
			},
			issues: []string{
				"enable-modsecurity AnnotationIgnored", "enable-opentracing AnnotationIgnored", "fastcgi-index AnnotationIgnored",
				"http2-push-preload AnnotationIgnored", "influxdb-host AnnotationIgnored",
			},
		},
		{
			name:   "unsupported_annotations_are_reported_once_each_by_name",
			values: map[string]string{"auth-tls-match-cn": "CN=x", "made-up-annotation": "1", "ssl-redirect": "true"},
			issues: []string{"auth-tls-match-cn AnnotationIgnored", "made-up-annotation AnnotationIgnored"},
		},
		{
			name:   "digest_authentication_makes_the_ingress_unservable",
			values: map[string]string{"auth-type": "digest", "auth-secret": "users"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "unservable", *a.Unservable, Issue{"auth-type", ir.ReasonAuthUnsupported, a.Unservable.Msg})
			},
		},
		{
			name: "basic_authentication_names_a_secret_of_the_ingress_namespace",
			values: map[string]string{"auth-type": "basic", "auth-secret": "users", "auth-secret-type": "auth-map",
				"auth-realm": "test auth", "satisfy": "any"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "basic", *a.Policy.BasicAuth, BasicAuth{Secret: "default/users", Map: true, Realm: "test auth"})
				equal(t, "satisfy any", a.Policy.SatisfyAny, true)
			},
		},
		{
			name:   "basic_authentication_refuses_another_namespace",
			values: map[string]string{"auth-type": "basic", "auth-secret": "other/users"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "unservable", *a.Unservable, Issue{"auth-secret", ir.ReasonInvalidAnnotation, a.Unservable.Msg})
			},
		},
		{
			name:   "basic_authentication_without_a_secret_is_refused",
			values: map[string]string{"auth-type": "basic", "auth-realm": `say "hi"`},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "unservable", *a.Unservable, Issue{"auth-secret", ir.ReasonInvalidAnnotation, a.Unservable.Msg})
			},
		},
		{
			name:   "a_realm_nginx_would_not_quote_is_refused",
			values: map[string]string{"auth-type": "basic", "auth-secret": "users", "auth-realm": `say "hi"`},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "unservable", *a.Unservable, Issue{"auth-realm", ir.ReasonInvalidAnnotation, a.Unservable.Msg})
			},
		},
		{
			name:   "affinity_mode_balanced_is_what_envoy_does",
			values: map[string]string{"affinity": "cookie", "affinity-mode": "balanced", "preserve-trailing-slash": "true"},
		},
		{
			name:   "affinity_mode_persistent_pins_the_endpoint",
			values: map[string]string{"affinity": "cookie", "affinity-mode": "persistent"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "persistent", a.Policy.Affinity.Persistent, true) },
		},
		{
			name:   "affinity_mode_unknown_is_reported",
			values: map[string]string{"affinity": "cookie", "affinity-mode": "sticky"},
			issues: []string{"affinity-mode InvalidAnnotation"},
		},
		{
			name:   "canary_annotations_on_a_primary_are_reported",
			values: map[string]string{"canary": "false", "canary-weight": "10"},
			issues: []string{"canary-weight AnnotationIgnored"},
		},
		{
			name: "canary_reads_only_canary_and_affinity_annotations",
			values: map[string]string{
				"canary": "true", "canary-weight": "10", "affinity": "cookie",
				"rewrite-target": "/", "limit-rps": "3", "server-snippet": "x",
			},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "canary", *a.Canary, Canary{Weight: 10, WeightTotal: 100})
				equal(t, "affinity", *a.Policy, Policy{Affinity: &Affinity{CookieName: "INGRESSCOOKIE"}})
				equal(t, "rewriteTarget", a.RewriteTarget, "")
			},
			issues: []string{"limit-rps AnnotationIgnored", "rewrite-target AnnotationIgnored", "server-snippet SnippetRefused"},
		},
		{
			name:   "invalid_boolean_falls_back_to_the_default",
			values: map[string]string{"ssl-redirect": "nope", "force-ssl-redirect": "yes"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "sslRedirect", a.SSLRedirect, true)
				equal(t, "forceSSLRedirect", a.ForceSSLRedirect, false)
			},
			issues: []string{"force-ssl-redirect InvalidAnnotation", "ssl-redirect InvalidAnnotation"},
		},
	})
}

func TestReadRoutingAnnotations(t *testing.T) {
	runAnnotationCases(t, []annotationCase{
		{
			name:   "rewrite_target_with_groups",
			values: map[string]string{"rewrite-target": "/$2/x/$1"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "rewriteTarget", a.RewriteTarget, "/$2/x/$1")
				equal(t, "badRewrite", a.BadRewrite, false)
			},
		},
		{
			name:   "rewrite_target_with_an_nginx_variable_is_invalid",
			values: map[string]string{"rewrite-target": "/$host/$1"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "badRewrite", a.BadRewrite, true) },
			issues: []string{"rewrite-target InvalidAnnotation"},
		},
		{
			name:   "rewrite_target_with_a_query_is_invalid",
			values: map[string]string{"rewrite-target": "/x?a=1"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "badRewrite", a.BadRewrite, true) },
			issues: []string{"rewrite-target InvalidAnnotation"},
		},
		{
			name:   "rewrite_target_must_be_a_path",
			values: map[string]string{"rewrite-target": "http://elsewhere/"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "badRewrite", a.BadRewrite, true) },
			issues: []string{"rewrite-target InvalidAnnotation"},
		},
		{
			name:   "permanent_redirect_defaults_to_301",
			values: map[string]string{"permanent-redirect": "https://Example.org/a%20b?x=1"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 301, Scheme: "https", Host: "example.org", PathAndQuery: "/a%20b?x=1"})
			},
		},
		{
			name:   "permanent_redirect_code_and_port",
			values: map[string]string{"permanent-redirect": "http://example.org:8080", "permanent-redirect-code": "308"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 308, Scheme: "http", Host: "example.org", Port: 8080})
				equal(t, "location", a.Redirect.Location(), "http://example.org:8080")
			},
		},
		{
			name:   "redirect_code_envoy_cannot_send_falls_back",
			values: map[string]string{"permanent-redirect": "https://example.org/", "permanent-redirect-code": "300"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "code", a.Redirect.Code, uint32(301)) },
			issues: []string{"permanent-redirect-code InvalidAnnotation"},
		},
		{
			name:   "temporal_redirect_wins_with_its_code",
			values: map[string]string{"permanent-redirect": "https://p.example/", "temporal-redirect": "https://t.example/", "temporal-redirect-code": "307"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 307, Scheme: "https", Host: "t.example", PathAndQuery: "/"})
			},
			issues: []string{"permanent-redirect AnnotationIgnored"},
		},
		{
			name:   "zero_limits_mean_none",
			values: map[string]string{"limit-rps": "0", "limit-rpm": "0", "limit-connections": "0"},
			check: func(t *testing.T, a *Annotations) {
				if a.Policy != nil {
					t.Errorf("policy = %+v, want none", *a.Policy)
				}
			},
		},
		{
			name:   "redirect_keeps_the_request_uri",
			values: map[string]string{"permanent-redirect": "https://new.example$request_uri"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 301, Scheme: "https", Host: "new.example", KeepRequestURI: true})
			},
		},
		{
			name:   "other_nginx_variables_are_refused",
			values: map[string]string{"permanent-redirect": "https://$host/x", "temporal-redirect": "https://new.example/a?from=$host"},
			check: func(t *testing.T, a *Annotations) {
				if a.Redirect != nil {
					t.Errorf("redirect = %+v, want none", *a.Redirect)
				}
			},
			issues: []string{"permanent-redirect InvalidAnnotation", "temporal-redirect InvalidAnnotation"},
		},
		{
			name:   "request_uri_after_a_path_is_refused",
			values: map[string]string{"permanent-redirect": "https://new.example/base$request_uri"},
			issues: []string{"permanent-redirect InvalidAnnotation"},
		},
		{
			name:   "relative_redirect_goes_as_written",
			values: map[string]string{"permanent-redirect": "/new-location?x=1"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 301, PathAndQuery: "/new-location?x=1"})
				equal(t, "location", a.Redirect.Location(), "/new-location?x=1")
			},
		},
		{
			name:   "protocol_relative_redirect_is_refused",
			values: map[string]string{"permanent-redirect": "//evil.example/"},
			issues: []string{"permanent-redirect InvalidAnnotation"},
		},
		{
			name:   "redirect_to_ipv6_address",
			values: map[string]string{"temporal-redirect": "http://[2001:db8::1]:81/x"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 302, Scheme: "http", Host: "[2001:db8::1]", Port: 81, PathAndQuery: "/x"})
			},
		},
		{
			name: "invalid_redirect_urls_are_ignored",
			values: map[string]string{
				"permanent-redirect": "ftp://example.org/", "temporal-redirect": "https://user:pw@example.org/",
			},
			check:  func(t *testing.T, a *Annotations) { equal(t, "redirect", a.Redirect, (*Redirect)(nil)) },
			issues: []string{"permanent-redirect InvalidAnnotation", "temporal-redirect InvalidAnnotation"},
		},
		{
			name:   "app_root_is_a_path",
			values: map[string]string{"app-root": "/app?tab=1"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "appRoot", a.AppRoot, "/app?tab=1") },
		},
		{
			name:   "app_root_without_slash_is_invalid",
			values: map[string]string{"app-root": "app"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "appRoot", a.AppRoot, "") },
			issues: []string{"app-root InvalidAnnotation"},
		},
	})
}

func TestReadUpstreamAnnotations(t *testing.T) {
	runAnnotationCases(t, []annotationCase{
		{
			name:   "backend_protocol_is_case_insensitive",
			values: map[string]string{"backend-protocol": "grpcs"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "protocol", a.Protocol, ProtocolGRPCS) },
		},
		{
			name:   "fcgi_is_unsupported",
			values: map[string]string{"backend-protocol": "FCGI"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "unservable", a.Unservable.Reason, ir.ReasonBackendProtocol)
			},
		},
		{
			name:   "unknown_protocol_falls_back_to_http",
			values: map[string]string{"backend-protocol": "SPDY"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "protocol", a.Protocol, ProtocolHTTP) },
			issues: []string{"backend-protocol InvalidAnnotation"},
		},
		{
			name:   "timeouts_are_seconds",
			values: map[string]string{"proxy-connect-timeout": "3", "proxy-read-timeout": "120", "proxy-send-timeout": "30"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "connectTimeout", a.ConnectTimeout, 3*time.Second)
				equal(t, "read", a.Policy.ReadTimeout, 120*time.Second)
				equal(t, "send", a.Policy.SendTimeout, 30*time.Second)
			},
		},
		{
			name:   "timeouts_must_be_positive_whole_seconds",
			values: map[string]string{"proxy-connect-timeout": "0", "proxy-read-timeout": "60s", "proxy-send-timeout": "-1"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "connectTimeout", a.ConnectTimeout, time.Duration(0))
				equal(t, "policy", a.Policy, (*Policy)(nil))
			},
			issues: []string{"proxy-connect-timeout InvalidAnnotation", "proxy-read-timeout InvalidAnnotation", "proxy-send-timeout InvalidAnnotation"},
		},
		{
			name: "affinity_cookie_with_settings",
			values: map[string]string{
				"affinity": "cookie", "session-cookie-name": "route", "session-cookie-path": "/shop", "session-cookie-max-age": "3600",
			},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "affinity", *a.Policy.Affinity, Affinity{CookieName: "route", CookiePath: "/shop", MaxAge: time.Hour})
			},
		},
		{
			name:   "session_cookie_expires_gives_the_expires_and_the_max_age",
			values: map[string]string{"affinity": "cookie", "session-cookie-expires": "60"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "affinity", *a.Policy.Affinity, Affinity{CookieName: "INGRESSCOOKIE", MaxAge: time.Minute, Expires: time.Minute})
			},
		},
		{
			name:   "max_age_gives_the_max_age_and_expires_the_expires",
			values: map[string]string{"affinity": "cookie", "session-cookie-expires": "172800", "session-cookie-max-age": "259200"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "affinity", *a.Policy.Affinity, Affinity{CookieName: "INGRESSCOOKIE", MaxAge: 72 * time.Hour, Expires: 48 * time.Hour})
			},
		},
		{
			name:   "change_on_failure_is_read",
			values: map[string]string{"affinity": "cookie", "session-cookie-change-on-failure": "true"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "affinity", *a.Policy.Affinity, Affinity{CookieName: "INGRESSCOOKIE", ChangeOnFailure: true})
			},
		},
		{
			name:   "only_cookie_affinity_exists",
			values: map[string]string{"affinity": "ip", "session-cookie-name": "bad name"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
			issues: []string{"affinity InvalidAnnotation"},
		},
		{
			name:   "next_upstream_overrides_the_configmap",
			values: map[string]string{"proxy-next-upstream": "http_502 non_idempotent", "proxy-next-upstream-tries": "5"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "retry", *a.Policy.Retry, Retry{On: NextUpstream{Statuses: []uint32{502}, NonIdempotent: true}, Tries: 5})
			},
		},
		{
			name:   "next_upstream_tries_alone_keeps_the_conditions",
			values: map[string]string{"proxy-next-upstream-tries": "1", "proxy-next-upstream-timeout": "9"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "retry", *a.Policy.Retry, Retry{On: NextUpstream{Error: true, Timeout: true}, Tries: 1, Timeout: 9 * time.Second})
			},
		},
		{
			name:   "invalid_next_upstream_keeps_the_default",
			values: map[string]string{"proxy-next-upstream": "error sometimes"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "retry", *a.Policy.Retry, DefaultSettings().Retry)
			},
			issues: []string{"proxy-next-upstream InvalidAnnotation"},
		},
		{
			name:   "invalid_cookie_name_falls_back",
			values: map[string]string{"affinity": "cookie", "session-cookie-name": "bad name"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "name", a.Policy.Affinity.CookieName, "INGRESSCOOKIE") },
			issues: []string{"session-cookie-name InvalidAnnotation"},
		},
	})
}

func TestReadPolicyAnnotations(t *testing.T) {
	prefixes := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range s {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	runAnnotationCases(t, []annotationCase{
		{
			name:   "upstream_vhost_and_forwarded_prefix",
			values: map[string]string{"upstream-vhost": "api.internal:8080", "x-forwarded-prefix": "/api", "rewrite-target": "/"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "policy", *a.Policy, Policy{UpstreamHost: "api.internal:8080", ForwardedPrefix: "/api"})
			},
		},
		{
			name:   "access_log_off_for_the_ingress",
			values: map[string]string{"enable-access-log": "false"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "policy", *a.Policy, Policy{NoAccessLog: true})
			},
		},
		{
			name:   "access_log_on_asks_nothing",
			values: map[string]string{"enable-access-log": "true"},
			check: func(t *testing.T, a *Annotations) {
				if a.Policy != nil {
					t.Errorf("policy = %+v, want none", *a.Policy)
				}
			},
		},
		{
			name:   "forwarded_prefix_only_with_a_rewrite",
			values: map[string]string{"x-forwarded-prefix": "/api"},
			issues: []string{"x-forwarded-prefix AnnotationIgnored"},
			check: func(t *testing.T, a *Annotations) {
				if a.Policy != nil {
					t.Errorf("policy = %+v, want none", *a.Policy)
				}
			},
		},
		{
			name:   "upstream_vhost_and_prefix_refuse_nginx_variables",
			values: map[string]string{"upstream-vhost": "$host", "x-forwarded-prefix": "/$1"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
			issues: []string{"upstream-vhost InvalidAnnotation", "x-forwarded-prefix InvalidAnnotation"},
		},
		{
			name:   "body_size_units",
			values: map[string]string{"proxy-body-size": "8m"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "max", *a.Policy.MaxBodyBytes, uint64(8<<20)) },
		},
		{
			name:   "body_size_kilobytes_upper_case",
			values: map[string]string{"proxy-body-size": "64K"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "max", *a.Policy.MaxBodyBytes, uint64(64<<10)) },
		},
		{
			name:   "body_size_zero_is_no_limit",
			values: map[string]string{"proxy-body-size": "0"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "max", *a.Policy.MaxBodyBytes, uint64(0)) },
		},
		{
			// Envoy would hold a gRPC stream's body until it ends.
			name:   "grpc_backends_get_no_default_body_limit",
			values: map[string]string{"backend-protocol": "GRPC"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "max", *a.Policy.MaxBodyBytes, uint64(0)) },
		},
		{
			name:   "grpc_backends_get_the_body_limit_they_ask",
			values: map[string]string{"backend-protocol": "GRPCS", "proxy-body-size": "8m"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "max", *a.Policy.MaxBodyBytes, uint64(8<<20)) },
		},
		{
			name:   "body_size_in_other_units_is_invalid",
			values: map[string]string{"proxy-body-size": "1.5m"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
			issues: []string{"proxy-body-size InvalidAnnotation"},
		},
		{
			name:   "rate_limits_with_default_multiplier",
			values: map[string]string{"limit-rps": "2", "limit-rpm": "30"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "rateLimit", *a.Policy.RateLimit, RateLimit{RPS: 2, RPM: 30, BurstMultiplier: 5})
			},
		},
		{
			name:   "limit_allowlist_wins_over_whitelist",
			values: map[string]string{"limit-rps": "1", "limit-allowlist": "10.0.0.0/8, 192.168.1.7", "limit-whitelist": "172.16.0.0/12"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "exempt", a.Policy.RateLimit.Exempt, prefixes("10.0.0.0/8", "192.168.1.7/32"))
			},
			issues: []string{"limit-whitelist AnnotationIgnored"},
		},
		{
			name:   "unreadable_exemption_exempts_nobody",
			values: map[string]string{"limit-rps": "1", "limit-whitelist": "10.0.0.0/8, nope", "limit-burst-multiplier": "0"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "rateLimit", *a.Policy.RateLimit, RateLimit{RPS: 1, BurstMultiplier: 5})
			},
			issues: []string{"limit-burst-multiplier InvalidAnnotation", "limit-whitelist InvalidAnnotation"},
		},
		{
			name:   "source_ranges_are_masked",
			values: map[string]string{"whitelist-source-range": "10.1.2.3/8", "denylist-source-range": "2001:db8::1/32"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "access", *a.Policy.Access, ir.Access{Allow: prefixes("10.0.0.0/8"), Deny: prefixes("2001:db8::/32")})
			},
		},
		{
			name:   "unreadable_source_range_denies_all",
			values: map[string]string{"denylist-source-range": "10.0.0.0/33"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "access", *a.Policy.Access, ir.Access{DenyAll: true}) },
			issues: []string{"denylist-source-range InvalidAnnotation"},
		},
		{
			name:   "cors_defaults",
			values: map[string]string{"enable-cors": "true"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "cors", *a.Policy.CORS, CORS{
					AllowOrigins: []string{"*"}, AllowMethods: defaultCORSMethods, AllowHeaders: defaultCORSHeaders,
					AllowCredentials: true, MaxAge: defaultCORSMaxAge,
				})
			},
		},
		{
			name: "cors_values",
			values: map[string]string{
				"enable-cors": "true", "cors-allow-origin": "https://a.example, http://*.b.example:8080, bad origin",
				"cors-allow-methods": "GET,POST", "cors-allow-headers": "X-A", "cors-expose-headers": "*, X-B",
				"cors-allow-credentials": "false", "cors-max-age": "60",
			},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "cors", *a.Policy.CORS, CORS{
					AllowOrigins: []string{"https://a.example", "http://*.b.example:8080"}, AllowMethods: "GET,POST", AllowHeaders: "X-A",
					ExposeHeaders: "*, X-B", MaxAge: 60,
				})
			},
			issues: []string{"cors-allow-origin InvalidAnnotation"},
		},
		{
			name:   "cors_origins_of_any_scheme_and_null",
			values: map[string]string{"enable-cors": "true", "cors-allow-origin": "capacitor://localhost, tauri://localhost, null, HTTPS://upper.example, https://a.example/path"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "origins", a.Policy.CORS.AllowOrigins, []string{"capacitor://localhost", "tauri://localhost", "null"})
			},
			issues: []string{"cors-allow-origin InvalidAnnotation", "cors-allow-origin InvalidAnnotation"},
		},
		{
			name:   "cors_origin_of_only_spaces_allows_all",
			values: map[string]string{"enable-cors": "true", "cors-allow-origin": "   "},
			check:  func(t *testing.T, a *Annotations) { equal(t, "origins", a.Policy.CORS.AllowOrigins, []string{"*"}) },
		},
		{
			name:   "cors_star_among_origins_allows_all",
			values: map[string]string{"enable-cors": "true", "cors-allow-origin": "https://a.example, *"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "origins", a.Policy.CORS.AllowOrigins, []string{"*"}) },
		},
		{
			name:   "cors_values_with_other_characters_fall_back",
			values: map[string]string{"enable-cors": "true", "cors-allow-methods": "GET; rm", "cors-allow-headers": "X-%s"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "methods", a.Policy.CORS.AllowMethods, defaultCORSMethods)
				equal(t, "headers", a.Policy.CORS.AllowHeaders, defaultCORSHeaders)
			},
			issues: []string{"cors-allow-headers InvalidAnnotation", "cors-allow-methods InvalidAnnotation"},
		},
		{
			name:   "cors_without_any_valid_origin_is_off",
			values: map[string]string{"enable-cors": "true", "cors-allow-origin": "example.com"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
			issues: []string{"cors-allow-origin InvalidAnnotation", "cors-allow-origin InvalidAnnotation"},
		},
		{
			name:   "cors_annotations_without_enable_do_nothing",
			values: map[string]string{"cors-allow-origin": "https://a.example"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
		},
	})
}

func TestReadCanaryAnnotations(t *testing.T) {
	runAnnotationCases(t, []annotationCase{
		{
			name: "header_value_wins_over_pattern",
			values: map[string]string{
				"canary": "true", "canary-by-header": "X-Canary", "canary-by-header-value": "yes", "canary-by-header-pattern": "^y",
			},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "canary", *a.Canary, Canary{Header: "x-canary", HeaderValue: "yes", WeightTotal: 100})
			},
		},
		{
			name:   "header_pattern_must_be_re2",
			values: map[string]string{"canary": "true", "canary-by-header": "X-Canary", "canary-by-header-pattern": "(?!x)"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "canary", *a.Canary, Canary{Header: "x-canary", BadHeaderPattern: true, WeightTotal: 100})
			},
			issues: []string{"canary-by-header-pattern InvalidAnnotation"},
		},
		{
			name:   "weight_above_total_is_clamped",
			values: map[string]string{"canary": "true", "canary-weight": "30", "canary-weight-total": "20", "canary-by-cookie": "beta"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "canary", *a.Canary, Canary{Cookie: "beta", Weight: 20, WeightTotal: 20})
			},
			issues: []string{"canary-weight InvalidAnnotation"},
		},
		{
			name:   "invalid_names_are_reported",
			values: map[string]string{"canary": "true", "canary-by-header": "X Canary", "canary-by-cookie": "a=b"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "canary", *a.Canary, Canary{WeightTotal: 100}) },
			issues: []string{"canary-by-cookie InvalidAnnotation", "canary-by-header InvalidAnnotation"},
		},
	})
}
