package e2e

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// clientPKI is what the client certificate tests present: certificates
// made by openssl under one CA (with a CRL), another CA, and an
// intermediate CA of the first.
type clientPKI struct {
	ca                                 *opensslCA
	good, other, expired, revoked, cn2 *tls.Certificate
	oneIntermediate, twoIntermediates  *tls.Certificate
	goodPEM                            string
}

func newClientPKI(t *testing.T) *clientPKI {
	t.Helper()
	ca := newOpenSSLCA(t, "/O=rukou/CN=rukou client CA")
	p := &clientPKI{ca: ca}
	p.good = ca.keyPair(t, ca.issue(t, "good", "/O=rukou/CN=client-1", "client", "", ""))
	p.goodPEM = ca.read(t, "good.crt")
	p.cn2 = ca.keyPair(t, ca.issue(t, "cn2", "/O=rukou/CN=client-2", "client", "", ""))
	p.expired = ca.keyPair(t, ca.issue(t, "expired", "/CN=client-1", "client", "20200101000000Z", "20200102000000Z"))
	p.revoked = ca.keyPair(t, ca.issue(t, "revoked", "/CN=client-1", "client", "", ""))
	ca.revoke(t, "revoked")
	other := newOpenSSLCA(t, "/CN=another CA")
	p.other = other.keyPair(t, other.issue(t, "stranger", "/CN=client-1", "client", "", ""))
	// Two intermediate CAs: client-1 <- inner <- outer <- the CA.
	ca.issue(t, "outer", "/CN=rukou outer CA", "sub_ca", "", "")
	outer := subCA(t, ca, "outer")
	outer.issue(t, "inner", "/CN=rukou inner CA", "sub_ca", "", "")
	inner := subCA(t, outer, "inner")
	p.oneIntermediate = outer.keyPair(t, outer.issue(t, "leaf", "/CN=client-1", "client", "", ""), ca.read(t, "outer.crt"))
	p.twoIntermediates = inner.keyPair(t, inner.issue(t, "leaf", "/CN=client-1", "client", "", ""), outer.read(t, "inner.crt"), ca.read(t, "outer.crt"))
	return p
}

// subCA is an intermediate CA that ca issued as name, ready to issue.
func subCA(t *testing.T, ca *opensslCA, name string) *opensslCA {
	t.Helper()
	sub := newOpenSSLCA(t, "/CN=replaced")
	noErr(t, os.WriteFile(filepath.Join(sub.dir, "ca.crt"), []byte(ca.read(t, name+".crt")), 0o644))
	noErr(t, os.WriteFile(filepath.Join(sub.dir, "ca.key"), []byte(ca.read(t, name+".key")), 0o600))
	return sub
}

// clientCertObjects are the hosts of TestClientCertificates, with the
// CA of Secret ca-only (depth1, depth2 and notls.cc.test verify with it).
func clientCertObjects(t *testing.T, p *clientPKI) func(caOnly string) []runtime.Object {
	t.Helper()
	hosts := []string{"on", "optional", "noca", "errpage", "cn", "cnalt", "depth1", "depth2", "missing", "nokey", "bad", "open", "off", "plain"}
	site := func(name string, ann map[string]string) *networkingv1.Ingress {
		ing := annotated(name, ann, rule(name+".cc.test", path(prefix, "/", "web")))
		for _, h := range hosts {
			ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{Hosts: []string{h + ".cc.test"}, SecretName: "site-tls"})
		}
		return ing
	}
	ca := p.ca.read(t, "ca.crt")
	fqdn := make([]string, len(hosts))
	for i, h := range hosts {
		fqdn[i] = h + ".cc.test"
	}
	serverTLS := newTestCA(t).secret(t, "site-tls", 1, fqdn...)
	web := backend(t, "web")
	// depth1.cc.test and notls.cc.test verify with the CA of ca-only; a
	// host without spec.tls is served with the default certificate, which
	// its own chain takes.
	return func(caOnly string) []runtime.Object {
		return join(web, objs(
			serverTLS,
			opaque("ca", map[string]string{"ca.crt": ca, "ca.crl": p.ca.read(t, "ca.crl")}),
			opaque("ca-only", map[string]string{"ca.crt": caOnly}),
			opaque("nokey", map[string]string{"tls.crt": ca}),
			opaque("bad", map[string]string{"ca.crt": "not a certificate"}),
			site("on", map[string]string{"auth-tls-secret": "default/ca", "auth-tls-pass-certificate-to-upstream": "true"}),
			site("optional", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "optional"}),
			site("noca", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "optional_no_ca"}),
			site("errpage", map[string]string{"auth-tls-secret": "ca", "auth-tls-error-page": "http://errors.cc.test/cert-error"}),
			site("cn", map[string]string{"auth-tls-secret": "ca", "auth-tls-match-cn": "CN=client-1"}),
			site("cnalt", map[string]string{"auth-tls-secret": "ca", "auth-tls-match-cn": "CN=(nomatch|client-1)"}),
			site("depth1", map[string]string{"auth-tls-secret": "ca-only"}),
			site("depth2", map[string]string{"auth-tls-secret": "ca-only", "auth-tls-verify-depth": "2"}),
			site("missing", map[string]string{"auth-tls-secret": "absent"}),
			site("nokey", map[string]string{"auth-tls-secret": "nokey"}),
			site("bad", map[string]string{"auth-tls-secret": "bad"}),
			site("open", map[string]string{}),
			site("off", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "off"}),
			site("plain", map[string]string{"auth-tls-secret": "ca", "ssl-redirect": "false"}),
			annotated("notls", map[string]string{"auth-tls-secret": "ca-only"}, rule("notls.cc.test", path(prefix, "/", "web"))),
		))
	}
}

// certCall is an HTTPS GET of host.cc.test presenting cert (none when
// nil).
func certCall(host string, cert *tls.Certificate) call {
	return call{host: host + ".cc.test", path: "/", https: true, clientCert: cert}
}

// TestClientCertificates: auth-tls-* as ingress-nginx enforces them, with
// certificates and a CRL made by openssl: each verify mode's answers to no
// certificate, a good one, an expired, a revoked and another CA's; the
// error page; the verify depth with an intermediate CA; match-cn; the
// ssl-client-* headers the backend gets, a client's own copies never
// reaching it; a request for the host over another host's TLS connection
// (421); Secrets that cannot be used (503); and the other hosts on the
// same port unaffected.
func TestClientCertificates(t *testing.T) {
	p := newClientPKI(t)
	s := startStack(t, "delta")
	objects := clientCertObjects(t, p)
	s.apply(t, "clientcert", objects(p.ca.read(t, "ca.crt"))...)
	get := certCall
	s.await(t, get("on", p.good), http.StatusOK, "web")

	for _, c := range []struct {
		name   string
		call   call
		status int
		verify string // ssl-client-verify at the backend, when it answers
	}{
		{"on_good", get("on", p.good), 200, "SUCCESS"},
		{"on_none", get("on", nil), 400, ""},
		{"on_expired", get("on", p.expired), 400, ""},
		{"on_revoked", get("on", p.revoked), 400, ""},
		{"on_other_ca", get("on", p.other), 400, ""},
		{"optional_none", get("optional", nil), 200, "NONE"},
		{"optional_good", get("optional", p.good), 200, "SUCCESS"},
		{"optional_other_ca", get("optional", p.other), 400, ""},
		{"optional_no_ca_none", get("noca", nil), 200, "NONE"},
		{"optional_no_ca_good", get("noca", p.good), 200, "SUCCESS"},
		{"optional_no_ca_other_ca", get("noca", p.other), 200, "FAILED"},
		{"optional_no_ca_expired", get("noca", p.expired), 200, "FAILED"},
		{"match_cn", get("cn", p.good), 200, "SUCCESS"},
		{"match_cn_other_cn", get("cn", p.cn2), 403, ""},
		{"match_cn_none", get("cn", nil), 400, ""},
		{"match_cn_one_of_the_alternatives", get("cnalt", p.good), 200, "SUCCESS"},
		{"match_cn_none_of_the_alternatives", get("cnalt", p.cn2), 403, ""},
		{"error_page_host_good", get("errpage", p.good), 200, "SUCCESS"},
		{"depth_1_direct", get("depth1", p.good), 200, "SUCCESS"},
		{"depth_1_one_intermediate", get("depth1", p.oneIntermediate), 200, "SUCCESS"},
		{"depth_1_two_intermediates", get("depth1", p.twoIntermediates), 400, ""},
		{"depth_2_two_intermediates", get("depth2", p.twoIntermediates), 200, "SUCCESS"},
		{"missing_secret", get("missing", p.good), 503, ""},
		{"secret_without_ca", get("nokey", p.good), 503, ""},
		{"unparsable_ca", get("bad", p.good), 503, ""},
		{"other_host_without_cert", get("open", nil), 200, ""},
		{"other_host_with_cert", get("open", p.good), 200, ""},
		{"plain_http_redirects", call{host: "on.cc.test", path: "/"}, 308, ""},
		{"plain_http_without_redirect_has_no_certificate", call{host: "plain.cc.test", path: "/"}, 400, ""},
		{"verify_off", get("off", p.good), 200, "NONE"},
		{"verify_off_none", get("off", nil), 200, "NONE"},
		{"host_on_the_default_certificate_none", get("notls", nil), 400, ""},
		{"host_on_the_default_certificate_good", get("notls", p.good), 200, "SUCCESS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.must(t, c.call)
			if r.status != c.status {
				t.Fatalf("got %d (%q), want %d", r.status, r.body, c.status)
			}
			if v, _ := echoHeader(r, "ssl-client-verify"); r.echo != nil && v != c.verify {
				t.Errorf("ssl-client-verify %q, want %q", v, c.verify)
			}
		})
	}

	testCertHeaders(t, s, p)
	testErrorPage(t, s, p)
	testServerNameOfAnotherHost(t, s, p)
	testMatchCNChange(t, s, p)
	t.Run("new_ca_takes_effect", func(t *testing.T) {
		other := newOpenSSLCA(t, "/CN=another CA")
		stranger := other.keyPair(t, other.issue(t, "stranger", "/CN=client-1", "client", "", ""))
		s.apply(t, "clientcert", objects(other.read(t, "ca.crt"))...)
		s.await(t, get("notls", stranger), http.StatusOK, "web")
		if r := s.must(t, get("notls", p.good)); r.status != http.StatusBadRequest {
			t.Errorf("a certificate of the former CA: got %d, want 400", r.status)
		}
	})
	expectNoRejection(t, s.envoy)
}

// testCertHeaders checks the ssl-client-* headers a backend gets, and
// that a client's own copies (and of the subject match-cn reads) never
// count.
func testCertHeaders(t *testing.T, s *stack, p *clientPKI) {
	get := certCall
	t.Run("headers_reach_the_backend", func(t *testing.T) {
		r := s.must(t, get("on", p.good))
		if v, _ := echoHeader(r, "ssl-client-subject-dn"); v != subject(t, p.goodPEM) {
			t.Errorf("ssl-client-subject-dn %q, want %q", v, subject(t, p.goodPEM))
		}
		if v, _ := echoHeader(r, "ssl-client-issuer-dn"); v != subject(t, p.ca.read(t, "ca.crt")) {
			t.Errorf("ssl-client-issuer-dn %q, want %q", v, subject(t, p.ca.read(t, "ca.crt")))
		}
		v, _ := echoHeader(r, "ssl-client-cert")
		if pemText, err := url.QueryUnescape(v); err != nil || strings.TrimSpace(pemText) != strings.TrimSpace(p.goodPEM) {
			t.Errorf("ssl-client-cert %q is not the URL-encoded PEM of the client's certificate", v)
		}
		// nginx's $ssl_client_escaped_cert: spaces as %20, new lines as %0A.
		if !strings.HasPrefix(v, "-----BEGIN%20CERTIFICATE-----%0A") {
			t.Errorf("ssl-client-cert %q does not start as nginx escapes it", v)
		}
	})
	t.Run("forged_headers_are_replaced_or_removed", func(t *testing.T) {
		forged := headers("ssl-client-verify", "SUCCESS", "ssl-client-subject-dn", "CN=admin", "ssl-client-issuer-dn", "CN=forged", "ssl-client-cert", "forged")
		c := get("optional", nil)
		c.header = forged
		r := s.must(t, c)
		for name, want := range map[string]string{"ssl-client-verify": "NONE", "ssl-client-subject-dn": "", "ssl-client-issuer-dn": "", "ssl-client-cert": ""} {
			if v, _ := echoHeader(r, name); v != want {
				t.Errorf("%s %q at the backend, want %q", name, v, want)
			}
		}
		c = get("on", p.good)
		c.header = forged
		if v, _ := echoHeader(s.must(t, c), "ssl-client-subject-dn"); v != subject(t, p.goodPEM) {
			t.Errorf("ssl-client-subject-dn %q with a forged one sent, want %q", v, subject(t, p.goodPEM))
		}
		c = get("cn", p.cn2)
		c.header = headers("x-rukou-client-subject", "CN=client-1")
		if r := s.must(t, c); r.status != http.StatusForbidden {
			t.Errorf("match-cn with a forged internal subject header: got %d, want 403", r.status)
		}
	})
}

// testMatchCNChange: a change of auth-tls-match-cn takes effect
// (ingress-nginx's "should reload the nginx config when auth-tls-match-cn
// is updated"), on a host of the default certificate.
func testMatchCNChange(t *testing.T, s *stack, p *clientPKI) {
	t.Run("match_cn_change_takes_effect", func(t *testing.T) {
		site := func(cn string) runtime.Object {
			return annotated("cnupdate", map[string]string{"auth-tls-secret": "ca", "auth-tls-match-cn": cn}, rule("cnupdate.cc.test", path(prefix, "/", "web")))
		}
		s.apply(t, "cnupdate", site("CN=notvalid"))
		s.await(t, certCall("cnupdate", p.good), http.StatusForbidden, "")
		s.apply(t, "cnupdate", site("CN=client-1"))
		s.await(t, certCall("cnupdate", p.good), http.StatusOK, "web")
	})
}

// testErrorPage: with auth-tls-error-page, a failed verification is a
// 302 to the page.
func testErrorPage(t *testing.T, s *stack, p *clientPKI) {
	t.Run("error_page", func(t *testing.T) {
		for _, cert := range []*tls.Certificate{nil, p.other} {
			r := s.must(t, certCall("errpage", cert))
			if r.status != http.StatusFound || r.header.Get("Location") != "http://errors.cc.test/cert-error" {
				t.Errorf("got %d to %q, want 302 to http://errors.cc.test/cert-error", r.status, r.header.Get("Location"))
			}
		}
	})
}

// testServerNameOfAnotherHost: a request for a host with client
// certificates over another host's TLS connection is 421, whatever the
// certificate; the other way round it is served.
func testServerNameOfAnotherHost(t *testing.T, s *stack, p *clientPKI) {
	t.Run("server_name_of_another_host", func(t *testing.T) {
		for _, cert := range []*tls.Certificate{p.good, nil} {
			c := certCall("on", cert)
			c.sni = "open.cc.test"
			if r := s.must(t, c); r.status != http.StatusMisdirectedRequest {
				t.Errorf("SNI open.cc.test, Host on.cc.test: got %d, want 421", r.status)
			}
		}
		c := certCall("open", p.good)
		c.sni = "on.cc.test"
		if r := s.must(t, c); r.status != http.StatusOK || r.backend != "web" {
			t.Errorf("SNI on.cc.test, Host open.cc.test: got %d, want 200 from open's backend", r.status)
		}
	})
}
