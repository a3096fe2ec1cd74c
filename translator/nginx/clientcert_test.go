package nginx

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

func TestReadClientCert(t *testing.T) {
	read := func(want ClientCert) func(t *testing.T, a *Annotations) {
		return func(t *testing.T, a *Annotations) {
			t.Helper()
			if a.Unservable != nil || a.ClientCert == nil {
				t.Fatalf("ClientCert %+v, Unservable %+v; want %+v", a.ClientCert, a.Unservable, want)
			}
			equal(t, "client certificates", *a.ClientCert, want)
		}
	}
	denied := func(name string) func(t *testing.T, a *Annotations) {
		return func(t *testing.T, a *Annotations) {
			if a.Unservable == nil || a.Unservable.Name != name || a.Unservable.Reason != ir.ReasonInvalidAnnotation || a.ClientCert != nil {
				t.Errorf("Unservable = %+v, ClientCert %+v; want %s refusing the paths", a.Unservable, a.ClientCert, name)
			}
		}
	}
	runAnnotationCases(t, []annotationCase{
		{
			name:   "defaults_of_ingress_nginx",
			values: map[string]string{"auth-tls-secret": "ca"},
			check:  read(ClientCert{Secret: "default/ca", Verify: VerifyOn, Depth: 1}),
		},
		{
			name: "every_setting",
			values: map[string]string{"auth-tls-secret": "default/ca", "auth-tls-verify-client": "optional_no_ca", "auth-tls-verify-depth": "3",
				"auth-tls-error-page": "https://errors.example.com:8443/cert.html", "auth-tls-pass-certificate-to-upstream": "true", "auth-tls-match-cn": "CN=(alice|bob)$"},
			check: read(ClientCert{Secret: "default/ca", Verify: VerifyOptionalNoCA, Depth: 3, ErrorPage: "https://errors.example.com:8443/cert.html",
				PassCertificate: true, MatchCN: "(alice|bob)$"}),
		},
		{
			name:   "unknown_verify_mode_and_depth_zero_fall_back",
			values: map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "sometimes", "auth-tls-verify-depth": "0"},
			check:  read(ClientCert{Secret: "default/ca", Verify: VerifyOn, Depth: 1}),
			issues: []string{"auth-tls-verify-client InvalidAnnotation"},
		},
		{name: "secret_of_another_namespace", values: map[string]string{"auth-tls-secret": "other/ca"}, check: denied("auth-tls-secret")},
		{name: "nginx_named_location_as_error_page", values: map[string]string{"auth-tls-secret": "ca", "auth-tls-error-page": "@fallback"}, check: denied("auth-tls-error-page")},
		{name: "match_cn_without_prefix", values: map[string]string{"auth-tls-secret": "ca", "auth-tls-match-cn": "alice"}, check: denied("auth-tls-match-cn")},
		{name: "match_cn_bad_regex", values: map[string]string{"auth-tls-secret": "ca", "auth-tls-match-cn": "CN=(alice"}, check: denied("auth-tls-match-cn")},
		{name: "pass_certificate_not_a_boolean", values: map[string]string{"auth-tls-secret": "ca", "auth-tls-pass-certificate-to-upstream": "yes"}, check: denied("auth-tls-pass-certificate-to-upstream")},
		{
			name:   "settings_without_a_secret_do_nothing_and_are_reported",
			values: map[string]string{"auth-tls-verify-client": "on"},
			issues: []string{"auth-tls-verify-client AnnotationIgnored"},
			check: func(t *testing.T, a *Annotations) {
				if a.ClientCert != nil || a.Unservable != nil {
					t.Errorf("ClientCert %+v, Unservable %+v; want neither", a.ClientCert, a.Unservable)
				}
			},
		},
	})
}

func TestReadHostCiphers(t *testing.T) {
	ciphers := func(want *HostCiphers) func(t *testing.T, a *Annotations) {
		return func(t *testing.T, a *Annotations) {
			t.Helper()
			equal(t, "ciphers", a.Ciphers, want)
		}
	}
	off := false
	runAnnotationCases(t, []annotationCase{
		{
			name:   "suites_in_the_given_order_unknown_left_out",
			values: map[string]string{"ssl-ciphers": "ECDHE-RSA-AES256-GCM-SHA384:HIGH:!aNULL:ECDHE-RSA-AES128-GCM-SHA256"},
			check:  ciphers(&HostCiphers{Suites: []string{"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"}}),
			issues: []string{"ssl-ciphers InvalidAnnotation"},
		},
		{
			name:   "nothing_usable_keeps_the_listeners",
			values: map[string]string{"ssl-ciphers": "HIGH:DHE-RSA-AES256-SHA256"},
			check:  ciphers(nil),
			issues: []string{"ssl-ciphers InvalidAnnotation", "ssl-ciphers InvalidAnnotation"},
		},
		{name: "client_order", values: map[string]string{"ssl-prefer-server-ciphers": "false"}, check: ciphers(&HostCiphers{PreferServer: &off})},
		{name: "not_a_boolean", values: map[string]string{"ssl-prefer-server-ciphers": "off"}, check: func(t *testing.T, a *Annotations) {
			if a.Ciphers == nil || a.Ciphers.PreferServer == nil || !*a.Ciphers.PreferServer {
				t.Errorf("ciphers %+v, want the server's order", a.Ciphers)
			}
		}, issues: []string{"ssl-prefer-server-ciphers InvalidAnnotation"}},
	})
}
