package nginx

import (
	"testing"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

func TestReadExternalAuth(t *testing.T) {
	authOf := func(t *testing.T, a *Annotations) *ExternalAuth {
		t.Helper()
		if a.Unservable != nil {
			t.Fatalf("unservable: %+v", a.Unservable)
		}
		if a.Policy == nil || a.Policy.ExternalAuth == nil {
			t.Fatal("no external authentication read")
		}
		return a.Policy.ExternalAuth
	}
	denied := func(name string) func(t *testing.T, a *Annotations) {
		return func(t *testing.T, a *Annotations) {
			if a.Unservable == nil || a.Unservable.Name != name || a.Unservable.Reason != ir.ReasonInvalidAnnotation {
				t.Errorf("Unservable = %+v, want %s refusing the paths", a.Unservable, name)
			}
		}
	}
	runAnnotationCases(t, []annotationCase{
		{
			name: "oauth2_proxy_recipe_maps_nginx_variables",
			values: map[string]string{
				"auth-url":              "https://$host/oauth2/auth",
				"auth-signin":           "https://$host/oauth2/start?rd=$escaped_request_uri",
				"auth-response-headers": "X-Auth-Request-User, X-Auth-Request-Email",
				"auth-method":           "POST",
				"auth-request-redirect": "https://app.example.com/",
			},
			check: func(t *testing.T, a *Annotations) {
				ext := authOf(t, a)
				equal(t, "URL", ext.URL, ir.Text{{Literal: "https://"}, {Value: ir.ValueHost}, {Literal: "/oauth2/auth"}})
				equal(t, "signin", ext.SigninURL, ir.Text{{Literal: "https://"}, {Value: ir.ValueHost}, {Literal: "/oauth2/start?rd="}, {Value: ir.ValueEscapedRequestURI}})
				equal(t, "response headers", ext.ResponseHeaders, []string{"X-Auth-Request-User", "X-Auth-Request-Email"})
				equal(t, "method", ext.Method, "POST")
				equal(t, "request redirect", ext.RequestRedirect, "https://app.example.com/")
			},
		},
		{
			name:   "header_argument_and_cookie_variables",
			values: map[string]string{"auth-url": "http://auth/$http_x_tenant/$arg_page/$cookie_Session", "auth-cache-key": "$remote_user$http_authorization"},
			check: func(t *testing.T, a *Annotations) {
				ext := authOf(t, a)
				equal(t, "URL", ext.URL, ir.Text{{Literal: "http://auth/"}, {Value: ir.ValueHeader, Name: "x-tenant"}, {Literal: "/"},
					{Value: ir.ValueQueryParam, Name: "page"}, {Literal: "/"}, {Value: ir.ValueCookie, Name: "session"}})
				equal(t, "cache rules", ext.Cache.Rules, []ir.CacheRule{{Statuses: []uint32{200, 202, 401}, TTL: ir.Duration(5 * time.Minute)}})
			},
		},
		{
			name:   "cache_durations_as_nginx_reads_them",
			values: map[string]string{"auth-url": "http://auth/", "auth-cache-key": "fixed", "auth-cache-duration": "200 201 1h 30m, any 10s, 5m"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "cache rules", authOf(t, a).Cache.Rules, []ir.CacheRule{
					{Statuses: []uint32{200, 201}, TTL: ir.Duration(90 * time.Minute)},
					{Any: true, TTL: ir.Duration(10 * time.Second)},
					{Statuses: []uint32{200, 301, 302}, TTL: ir.Duration(5 * time.Minute)},
				})
			},
		},
		{
			name:   "keepalive_with_a_fixed_host",
			values: map[string]string{"auth-url": "http://auth:8080/check", "auth-keepalive": "8", "auth-keepalive-timeout": "30"},
			check: func(t *testing.T, a *Annotations) {
				ext := authOf(t, a)
				equal(t, "keepalive", [3]any{ext.Keepalive, ext.KeepaliveRequests, ext.KeepaliveTimeout}, [3]any{uint32(8), uint32(1000), ir.Duration(30 * time.Second)})
			},
		},
		{
			name:   "keepalive_with_a_variable_host_is_dropped",
			values: map[string]string{"auth-url": "http://$host/check", "auth-keepalive": "8"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "keepalive", authOf(t, a).Keepalive, uint32(0)) },
			issues: []string{"auth-keepalive AnnotationIgnored"},
		},
		{
			name:   "bad_signin_and_cache_key_are_dropped_as_in_ingress_nginx",
			values: map[string]string{"auth-url": "http://auth/", "auth-signin": "http://login/$nope", "auth-cache-key": "a b"},
			check: func(t *testing.T, a *Annotations) {
				ext := authOf(t, a)
				if ext.SigninURL != nil || ext.Cache != nil {
					t.Errorf("signin %v, cache %v, want neither", ext.SigninURL, ext.Cache)
				}
			},
			issues: []string{"auth-cache-key InvalidAnnotation", "auth-signin InvalidAnnotation"},
		},
		{name: "unknown_variable_refuses_the_paths", values: map[string]string{"auth-url": "http://auth/$upstream_addr"}, check: denied("auth-url")},
		{name: "url_without_host_refuses_the_paths", values: map[string]string{"auth-url": "http:///check"}, check: denied("auth-url")},
		{name: "double_dot_host_refuses_the_paths", values: map[string]string{"auth-url": "https://invalid..auth.url"}, check: denied("auth-url")},
		{name: "bad_method_refuses_the_paths", values: map[string]string{"auth-url": "http://auth/", "auth-method": "FETCH"}, check: denied("auth-method")},
		{name: "bad_response_header_refuses_the_paths", values: map[string]string{"auth-url": "http://auth/", "auth-response-headers": "X-User, X:Y"}, check: denied("auth-response-headers")},
		{name: "bad_cache_duration_refuses_the_paths", values: map[string]string{"auth-url": "http://auth/", "auth-cache-key": "k", "auth-cache-duration": "200"}, check: denied("auth-cache-duration")},
		{name: "other_namespace_headers_refuse_the_paths", values: map[string]string{"auth-url": "http://auth/", "auth-proxy-set-headers": "kube-system/h"}, check: denied("auth-proxy-set-headers")},
		{
			name:   "proxy_set_headers_of_the_namespace",
			values: map[string]string{"auth-url": "http://auth/", "auth-proxy-set-headers": "h"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "ConfigMap", authOf(t, a).ProxySetHeaders, "default/h") },
		},
		{
			name:   "enable_global_auth_false_opts_out",
			values: map[string]string{"enable-global-auth": "false"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "opted out", a.Policy != nil && a.Policy.NoGlobalAuth, true)
			},
		},
		{name: "auth_snippet_is_refused", values: map[string]string{"auth-url": "http://auth/", "auth-snippet": "return 200;"}, issues: []string{"auth-snippet SnippetRefused"}},
	})
}

func TestAuthRequestHeaders(t *testing.T) {
	h, err := AuthRequestHeaders(map[string]string{"X-Tenant": "blue", "X-Host": "$http_host"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "headers", h, []ir.TextHeader{{Name: "X-Host", Value: ir.Text{{Value: ir.ValueAuthority}}}, {Name: "X-Tenant", Value: ir.Text{{Literal: "blue"}}}})
	for _, bad := range []map[string]string{{"X Bad": "1"}, {"X-Ok": "$nope"}} {
		if _, err := AuthRequestHeaders(bad); err == nil {
			t.Errorf("%v read without error", bad)
		}
	}
}
