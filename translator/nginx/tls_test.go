package nginx

import (
	"slices"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestDefaultTLS: ingress-nginx's ssl-protocols and ssl-ciphers, without
// the two DHE suites BoringSSL lacks, and Envoy's own curves.
func TestDefaultTLS(t *testing.T) {
	equal(t, "TLS", DefaultSettings().TLS, ir.TLSParams{
		MinVersion: ir.TLS12, MaxVersion: ir.TLS13,
		CipherSuites: []string{
			"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
			"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
		},
	})
}

// TestCipherSuitesAreNotRenamed: every suite rukou offers is read under its
// own OpenSSL name, so that a list ingress-nginx took is taken unchanged.
func TestCipherSuitesAreNotRenamed(t *testing.T) {
	for _, name := range ir.CipherSuites() {
		if suites, unknown := cipherSuites(name); !slices.Equal(suites, []string{name}) || unknown != nil {
			t.Errorf("%s: read as %v, unknown %v", name, suites, unknown)
		}
	}
}

// TestSSLPassthroughIsRead: the annotation is read as a boolean; whether
// it is honoured depends on --enable-ssl-passthrough, which the frontend
// knows.
func TestSSLPassthroughIsRead(t *testing.T) {
	s := DefaultSettings()
	a, issues := ReadWith(map[string]string{Prefix + "ssl-passthrough": "true"}, "default/x", &s)
	if !a.SSLPassthrough || len(issues) != 0 {
		t.Errorf("true: SSLPassthrough %t, issues %+v; want true, none", a.SSLPassthrough, issues)
	}
	a, issues = ReadWith(map[string]string{Prefix + "ssl-passthrough": "yes"}, "default/x", &s)
	if a.SSLPassthrough || len(issues) != 1 || issues[0].Reason != ir.ReasonInvalidAnnotation {
		t.Errorf("yes: SSLPassthrough %t, issues %+v; want false, one InvalidAnnotation", a.SSLPassthrough, issues)
	}
}
