package nginx

import (
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// rewriteOf is the ResponseRewrite the annotations ask for, nil when none.
func rewriteOf(a *Annotations) *ir.ResponseRewrite {
	if a.Policy == nil {
		return nil
	}
	return a.Policy.ResponseRewrite
}

func TestReadResponseAnnotations(t *testing.T) {
	runAnnotationCases(t, []annotationCase{
		{
			name:   "proxy_redirect_from_and_to_rewrite_location",
			values: map[string]string{"proxy-redirect-from": "http://internal:8080/", "proxy-redirect-to": "https://example.com/"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "rewrite", rewriteOf(a), &ir.ResponseRewrite{Location: &ir.TextRewrite{From: "http://internal:8080/", To: "https://example.com/"}})
			},
		},
		{
			name:   "proxy_redirect_to_relative_path",
			values: map[string]string{"proxy-redirect-from": "http://internal/app/", "proxy-redirect-to": "/"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "rewrite", rewriteOf(a), &ir.ResponseRewrite{Location: &ir.TextRewrite{From: "http://internal/app/", To: "/"}})
			},
		},
		{
			name:   "proxy_redirect_from_without_to_rewrites_nothing",
			values: map[string]string{"proxy-redirect-from": "http://internal/"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "rewrite", rewriteOf(a), (*ir.ResponseRewrite)(nil)) },
			issues: []string{"proxy-redirect-from AnnotationIgnored"},
		},
		{
			name:   "proxy_redirect_from_default_or_off_rewrites_nothing",
			values: map[string]string{"proxy-redirect-from": "default", "proxy-redirect-to": "http://x/"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "rewrite", rewriteOf(a), (*ir.ResponseRewrite)(nil)) },
			issues: []string{"proxy-redirect-to AnnotationIgnored"},
		},
		{
			name:   "proxy_redirect_regex_and_variables_are_refused",
			values: map[string]string{"proxy-redirect-from": "~^http://(.*)$", "proxy-redirect-to": "https://$host/"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "rewrite", rewriteOf(a), (*ir.ResponseRewrite)(nil)) },
			issues: []string{"proxy-redirect-from InvalidAnnotation", "proxy-redirect-to InvalidAnnotation"},
		},
		{
			name:   "cookie_domain_compares_lowercase_without_leading_dot",
			values: map[string]string{"proxy-cookie-domain": ".Internal.Local example.com", "proxy-cookie-path": "/app/  /"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "rewrite", rewriteOf(a), &ir.ResponseRewrite{
					CookieDomain: &ir.TextRewrite{From: "internal.local", To: "example.com"},
					CookiePath:   &ir.TextRewrite{From: "/app/", To: "/"},
				})
			},
		},
		{
			name:   "cookie_rewrite_off_one_word_or_regex",
			values: map[string]string{"proxy-cookie-domain": "off", "proxy-cookie-path": "/only"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "rewrite", rewriteOf(a), (*ir.ResponseRewrite)(nil)) },
			issues: []string{"proxy-cookie-path InvalidAnnotation"},
		},
		{
			name:   "custom_headers_names_a_configmap_of_the_namespace",
			values: map[string]string{"custom-headers": "default/headers"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "custom headers", a.Policy.CustomHeaders, "default/headers")
			},
		},
		{
			name:   "custom_headers_of_another_namespace_answers_503",
			values: map[string]string{"custom-headers": "other/headers"},
			check: func(t *testing.T, a *Annotations) {
				if a.Unservable == nil || a.Unservable.Name != "custom-headers" {
					t.Errorf("Unservable = %+v, want custom-headers", a.Unservable)
				}
			},
		},
		{
			name:   "custom_headers_not_a_name_is_ignored",
			values: map[string]string{"custom-headers": "headers with spaces"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "policy", a.Policy, (*Policy)(nil)) },
			issues: []string{"custom-headers InvalidAnnotation"},
		},
		{
			name:   "relative_redirect_forms",
			values: map[string]string{"permanent-redirect": "/new", "relative-redirects": "true", "use-port-in-redirects": "true"},
			check: func(t *testing.T, a *Annotations) {
				equal(t, "redirect", *a.Redirect, Redirect{Code: 301, PathAndQuery: "/new", Relative: true, KeepPort: true})
			},
		},
	})
}

func TestReadResponseConfigMapDefaults(t *testing.T) {
	s, issues := ReadConfigMap(map[string]string{
		"proxy-cookie-domain": "internal.local example.com", "proxy-cookie-path": "~/x /",
		"global-allowed-response-headers": "X-One, X-Two,bad name", "relative-redirects": "true",
	})
	var got []string
	for _, is := range issues {
		got = append(got, is.Name+" "+string(is.Reason))
	}
	equal(t, "issues", got, []string{"global-allowed-response-headers InvalidConfigValue", "proxy-cookie-path InvalidConfigValue"})
	equal(t, "allowed", s.Headers.AllowedResponseHeaders, []string{"X-One", "X-Two"})
	equal(t, "relative", s.RelativeRedirects, true)

	// An Ingress without annotations gets the defaults; one that turns
	// the cookie rewrite off gets none.
	a, _ := ReadWith(map[string]string{Prefix + "permanent-redirect": "/x"}, "default/x", &s)
	equal(t, "default rewrite", rewriteOf(a), &ir.ResponseRewrite{CookieDomain: &ir.TextRewrite{From: "internal.local", To: "example.com"}})
	equal(t, "default relative", a.Redirect.Relative, true)
	a, _ = ReadWith(map[string]string{Prefix + "proxy-cookie-domain": "off"}, "default/x", &s)
	equal(t, "rewrite turned off", rewriteOf(a), (*ir.ResponseRewrite)(nil))
}

func TestCustomHeaders(t *testing.T) {
	allowed := []string{"X-Frame-Options", "My-Header", "Host"}
	for _, c := range []struct {
		name string
		data map[string]string
		err  string
	}{
		{"allowed_headers_are_set", map[string]string{"X-Frame-Options": "DENY", "My-Header": "$remote_addr 100%"}, ""},
		{"a_name_not_allowed_is_refused", map[string]string{"X-Frame-Options": "DENY", "X-Other": "1"}, "header X-Other is not allowed"},
		{"allowed_names_match_as_written", map[string]string{"x-frame-options": "DENY"}, "header x-frame-options is not allowed"},
		{"host_is_never_set", map[string]string{"Host": "evil"}, `"Host" is not a header name rukou can set`},
		{"a_control_character_is_refused", map[string]string{"My-Header": "a\r\nInjected: 1"}, "holds characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			headers, err := CustomHeaders(c.data, allowed)
			if c.err == "" {
				if err != nil || len(headers) != len(c.data) {
					t.Fatalf("headers %v, error %v; want %d headers", headers, err, len(c.data))
				}
				for _, h := range headers {
					if h.Value != c.data[h.Name] {
						t.Errorf("%s = %q, want %q as written", h.Name, h.Value, c.data[h.Name])
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}
