package nginx

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestReadProxySSL: ingress-nginx's defaults and checks of the proxy-ssl-*
// annotations, and what is reported.
func TestReadProxySSL(t *testing.T) {
	defaults := ProxySSL{Secret: "default/s", Name: UpstreamBalancer, Params: ir.TLSParams{MinVersion: ir.TLS12, MaxVersion: ir.TLS12}}
	for _, c := range []struct {
		name string
		ann  map[string]string
		// want is nil when the annotations give no ProxySSL.
		want *ProxySSL
		// issues are the names reported, with their reasons.
		issues     map[string]ir.Reason
		unservable ir.Reason
	}{
		{name: "nothing_without_the_secret", ann: map[string]string{"proxy-ssl-verify": "on", "proxy-ssl-name": "a.b"},
			issues: map[string]ir.Reason{"proxy-ssl-verify": ir.ReasonAnnotationIgnored, "proxy-ssl-name": ir.ReasonAnnotationIgnored}},
		{name: "defaults_verify_nothing_and_speak_tls_1_2", ann: map[string]string{"proxy-ssl-secret": "default/s"}, want: &defaults},
		{name: "every_setting", ann: map[string]string{
			"proxy-ssl-secret": "default/s", "proxy-ssl-verify": "on", "proxy-ssl-name": "API.internal", "proxy-ssl-server-name": "on",
			"proxy-ssl-protocols": "TLSv1.3 TLSv1.2", "proxy-ssl-ciphers": "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
		}, want: &ProxySSL{Secret: "default/s", Verify: true, Name: "api.internal", ServerName: true, Params: ir.TLSParams{
			MinVersion: ir.TLS12, MaxVersion: ir.TLS13, CipherSuites: []string{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
		}}},
		{name: "bad_values_fall_back_and_are_reported", ann: map[string]string{
			"proxy-ssl-secret": "default/s", "proxy-ssl-verify": "yes", "proxy-ssl-name": "$host", "proxy-ssl-protocols": "TLSv1.1", "proxy-ssl-ciphers": "HIGH:!aNULL",
		}, want: &defaults, issues: map[string]ir.Reason{
			"proxy-ssl-verify": ir.ReasonInvalidAnnotation, "proxy-ssl-name": ir.ReasonInvalidAnnotation,
			"proxy-ssl-protocols": ir.ReasonInvalidAnnotation, "proxy-ssl-ciphers": ir.ReasonInvalidAnnotation,
		}},
		{name: "depth_is_refused", ann: map[string]string{"proxy-ssl-secret": "default/s", "proxy-ssl-verify-depth": "2"},
			want: &defaults, issues: map[string]ir.Reason{"proxy-ssl-verify-depth": ir.ReasonAnnotationIgnored}},
		{name: "another_namespace_answers_503", ann: map[string]string{"proxy-ssl-secret": "other/s"}, unservable: ir.ReasonInvalidAnnotation},
		{name: "not_namespace_name_answers_503", ann: map[string]string{"proxy-ssl-secret": "s"}, unservable: ir.ReasonInvalidAnnotation},
		{name: "an_http_backend_is_reported", ann: map[string]string{"proxy-ssl-secret": "default/s", "backend-protocol": "HTTP"},
			want: &defaults, issues: map[string]ir.Reason{"proxy-ssl-secret": ir.ReasonAnnotationIgnored}},
	} {
		t.Run(c.name, func(t *testing.T) {
			all := map[string]string{}
			for k, v := range c.ann {
				all[Prefix+k] = v
			}
			if _, ok := c.ann["backend-protocol"]; !ok {
				all[Prefix+"backend-protocol"] = "HTTPS"
			}
			a, issues := Read(all, "default/x")
			got := map[string]ir.Reason{}
			for _, is := range issues {
				got[is.Name] = is.Reason
			}
			equal(t, "issues", got, orEmpty(c.issues))
			var unservable ir.Reason
			if a.Unservable != nil {
				unservable = a.Unservable.Reason
			}
			if unservable != c.unservable {
				t.Errorf("unservable %q, want %q", unservable, c.unservable)
			}
			equal(t, "ProxySSL", a.ProxySSL, c.want)
		})
	}
}

func orEmpty(m map[string]ir.Reason) map[string]ir.Reason {
	if m == nil {
		return map[string]ir.Reason{}
	}
	return m
}
