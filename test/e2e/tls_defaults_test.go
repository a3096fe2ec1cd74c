package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
	"github.com/rukou/rukou/translator/ir"
)

// fakeSubject is the subject of ingress-nginx's generated certificate,
// which rukou's keeps so that monitoring that looks for it still works.
const fakeSubject = "CN=Kubernetes Ingress Controller Fake Certificate,O=Acme Co"

// startStackArgs is startStack (delta) with more flags for rukou serve.
func startStackArgs(t *testing.T, args ...string) *stack {
	t.Helper()
	s := &stack{dir: t.TempDir()}
	s.rukou = harness.StartRukou(t, append([]string{"--watch-dir", s.dir}, args...)...)
	s.envoy = harness.StartEnvoyWith(t, s.rukou.XDSAddress, harness.EnvoyOptions{Mode: "delta"})
	return s
}

// handshake opens a TLS connection to the stack's HTTPS listener with SNI
// sni ("" sends none), trusting any certificate, with tweak applied to
// the client's configuration, and returns the certificate Envoy served.
func handshake(s *stack, sni string, tweak func(*tls.Config)) (*x509.Certificate, error) {
	conf := &tls.Config{ServerName: sni, InsecureSkipVerify: true}
	if tweak != nil {
		tweak(conf)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", "127.0.0.1:"+strconv.Itoa(s.rukou.HTTPSPort), conf)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// expectDefaultCertificate waits until host answers over HTTPS with the
// generated default certificate, from backend.
func expectDefaultCertificate(t *testing.T, s *stack, host, backend string) {
	t.Helper()
	harness.Eventually(t, 15*time.Second, fmt.Sprintf("https://%s/ with the default certificate from %q", host, backend), func() error {
		cert, err := handshake(s, host, nil)
		if err != nil {
			return err
		}
		if got := cert.Subject.String(); got != fakeSubject {
			return fmt.Errorf("certificate %q", got)
		}
		r, err := s.do(call{host: host, path: "/", https: true})
		if err != nil {
			return err
		}
		if r.status != http.StatusOK || r.backend != backend {
			return fmt.Errorf("got %d from %q", r.status, r.backend)
		}
		return nil
	})
}

// TestDefaultCertificate: without --default-ssl-certificate, rukou serves a
// certificate it generated at start, with ingress-nginx's subject, to a TLS
// host whose Secret is missing (whose plain HTTP still redirects) or is
// for another host, and to clients with an unknown SNI or none, who get
// what the default server answers (404).
func TestDefaultCertificate(t *testing.T) {
	ca := newTestCA(t)
	s := startStack(t, "delta")
	s.apply(t, "tls", join(backend(t, "site-d"), backend(t, "site-w"), objs(
		tlsIngress("site-d", "d.tls.test", "missing"),
		tlsIngress("site-w", "w.tls.test", "other"),
		ca.secret(t, "other", 7, "other.tls.test"),
	))...)

	t.Run("missing_secret_serves_the_default_certificate_and_redirects", func(t *testing.T) {
		expectDefaultCertificate(t, s, "d.tls.test", "site-d")
		r := s.expect(t, "d.tls.test", "/some/path?q=1", http.StatusPermanentRedirect, "")
		want := fmt.Sprintf("https://d.tls.test:%d/some/path?q=1", s.rukou.HTTPSPort)
		if loc := r.Header.Get("Location"); loc != want {
			t.Errorf("Location = %q, want %q", loc, want)
		}
	})
	t.Run("certificate_for_another_host_is_replaced_by_the_default", func(t *testing.T) {
		waitDiagnostic(t, s, "default/site-w", "CertificateMismatch", "w.tls.test")
		expectDefaultCertificate(t, s, "w.tls.test", "site-w")
	})
	t.Run("unknown_sni_and_none_get_the_default_certificate", func(t *testing.T) {
		for _, sni := range []string{"nobody.tls.test", ""} {
			cert, err := handshake(s, sni, nil)
			if err != nil {
				t.Fatalf("SNI %q: %v", sni, err)
			}
			if got := cert.Subject.String(); got != fakeSubject || cert.VerifyHostname("ingress.local") != nil {
				t.Errorf("SNI %q: certificate %q for %v", sni, got, cert.DNSNames)
			}
		}
		r := s.must(t, call{host: "nobody.tls.test", path: "/", https: true})
		if r.status != http.StatusNotFound {
			t.Errorf("unknown host over HTTPS: %d, want 404", r.status)
		}
	})
	t.Run("private_key_never_in_the_debug_output", func(t *testing.T) {
		body, err := s.rukou.Debug("/debug/config")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "default-fake-certificate") || strings.Contains(body, "PRIVATE KEY") || strings.Contains(s.rukou.Log(), "PRIVATE KEY") {
			t.Error("the default certificate must appear by name only in /debug/config and never in the log")
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestDefaultSSLCertificateFlag: --default-ssl-certificate replaces the
// generated certificate for unknown SNI and for TLS hosts without a usable
// Secret; a change of that Secret is served without a restart, and while
// it is gone the generated one is served again.
func TestDefaultSSLCertificateFlag(t *testing.T) {
	ca := newTestCA(t)
	s := startStackArgs(t, "--default-ssl-certificate", "default/default-cert")
	site := join(backend(t, "site-d"), objs(tlsIngress("site-d", "d.tls.test", "missing")))
	s.apply(t, "site", site...)
	s.apply(t, "default-cert", ca.secret(t, "default-cert", 301, "*.tls.test"))

	expectSerial := func(t *testing.T, sni string, serial int64) {
		t.Helper()
		harness.Eventually(t, 15*time.Second, fmt.Sprintf("SNI %q gets certificate %d", sni, serial), func() error {
			cert, err := handshake(s, sni, func(c *tls.Config) { c.InsecureSkipVerify, c.RootCAs = false, ca.pool })
			if err != nil {
				return err
			}
			if cert.SerialNumber.Int64() != serial {
				return fmt.Errorf("certificate %d", cert.SerialNumber)
			}
			return nil
		})
	}
	t.Run("unknown_sni_and_a_host_without_its_secret_get_the_flags_certificate", func(t *testing.T) {
		expectSerial(t, "nobody.tls.test", 301)
		expectSerial(t, "d.tls.test", 301)
		r := s.must(t, call{host: "d.tls.test", path: "/", https: true})
		if r.status != http.StatusOK || r.backend != "site-d" {
			t.Errorf("got %d from %q", r.status, r.backend)
		}
	})
	t.Run("a_changed_secret_is_served_without_restart", func(t *testing.T) {
		s.apply(t, "default-cert", ca.secret(t, "default-cert", 302, "*.tls.test"))
		expectSerial(t, "nobody.tls.test", 302)
		expectSerial(t, "d.tls.test", 302)
	})
	t.Run("without_the_secret_the_generated_certificate_is_served", func(t *testing.T) {
		s.remove(t, "default-cert")
		expectDefaultCertificate(t, s, "d.tls.test", "site-d")
		waitDiagnostic(t, s, "default/default-cert", "SecretNotFound", "--default-ssl-certificate")
	})
	expectNoRejection(t, s.envoy)
}

// TestDefaultBackendService: with --default-backend-service, requests that
// no rule serves (an unknown host, a named host's unmatched path) go to the
// Service's first port, as in ingress-nginx; while it has no ready
// endpoint they get 404. --enable-ssl-passthrough is accepted on the way.
func TestDefaultBackendService(t *testing.T) {
	s := startStackArgs(t, "--default-backend-service", "default/fallback", "--enable-ssl-passthrough")
	fallback := harness.StartBackend(t, "fallback")
	sites := join(backend(t, "known"), objs(ingress("known", rule("known.test", path(prefix, "/only", "known")))))
	s.apply(t, "sites", sites...)
	s.apply(t, "fallback", serviceWith("fallback", endpoint(fallback, true, nil))...)

	t.Run("unknown_host_goes_to_the_default_backend", func(t *testing.T) {
		s.expect(t, "unknown.test", "/anything", http.StatusOK, "fallback")
	})
	t.Run("unmatched_path_of_a_named_host_goes_there_too", func(t *testing.T) {
		s.expect(t, "known.test", "/only", http.StatusOK, "known")
		s.expect(t, "known.test", "/other", http.StatusOK, "fallback")
	})
	t.Run("without_ready_endpoints_requests_get_404", func(t *testing.T) {
		s.apply(t, "fallback", serviceWith("fallback", endpoint(fallback, false, nil))...)
		s.expect(t, "unknown.test", "/anything", http.StatusNotFound, "")
		s.expect(t, "known.test", "/only", http.StatusOK, "known")
		s.apply(t, "fallback", serviceWith("fallback", endpoint(fallback, true, nil))...)
		s.expect(t, "unknown.test", "/anything", http.StatusOK, "fallback")
	})
	expectNoRejection(t, s.envoy)
}

// TestConfigMapTLSKeys: ssl-protocols TLSv1.3 refuses a TLS 1.2 client;
// ssl-ciphers limits TLS 1.2 to the suites it names; and Envoy accepts
// every cipher suite and curve rukou may send (none is ever NACKed).
func TestConfigMapTLSKeys(t *testing.T) {
	s := startConfigMapStack(t)
	s.apply(t, "site", join(backend(t, "site"), objs(ingress("site", rule("site.test", path(prefix, "/", "site")))))...)
	tls12 := func(suites ...uint16) func(*tls.Config) {
		return func(c *tls.Config) { c.MaxVersion, c.CipherSuites = tls.VersionTLS12, suites }
	}
	await := func(t *testing.T, what string, tweak func(*tls.Config), ok bool) {
		t.Helper()
		harness.Eventually(t, 15*time.Second, what, func() error {
			_, err := handshake(s, "site.test", tweak)
			if (err == nil) != ok {
				return fmt.Errorf("handshake error: %v", err)
			}
			return nil
		})
	}
	t.Run("tls13_only_refuses_tls12", func(t *testing.T) {
		await(t, "TLS 1.2 accepted by default", tls12(), true)
		s.applyConfigMap(t, map[string]string{"ssl-protocols": "TLSv1.3"})
		await(t, "TLS 1.2 refused", tls12(), false)
		await(t, "TLS 1.3 accepted", func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 }, true)
		r := s.must(t, call{host: "site.test", path: "/", https: true})
		if r.status != http.StatusOK || r.backend != "site" {
			t.Errorf("over TLS 1.3: %d from %q", r.status, r.backend)
		}
	})
	t.Run("ciphers_limit_tls12", func(t *testing.T) {
		s.applyConfigMap(t, map[string]string{"ssl-protocols": "TLSv1.2", "ssl-ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES256-SHA256"})
		await(t, "AES-128 refused", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), false)
		await(t, "AES-256 accepted", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), true)
		expectConfigMapDiagnostic(t, s, "data[ssl-ciphers]", "InvalidConfigValue")
	})
	t.Run("every_suite_and_curve_rukou_may_send_is_accepted", func(t *testing.T) {
		s.applyConfigMap(t, map[string]string{
			"ssl-protocols": "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", "ssl-ciphers": strings.Join(ir.CipherSuites(), ":"),
			"ssl-ecdh-curve": "X25519MLKEM768:X25519:prime256v1:secp384r1:secp521r1",
		})
		// A suite near the end of the list and a curve not in Envoy's
		// defaults: the whole list reached Envoy.
		await(t, "ECDHE-ECDSA-AES128-SHA", tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA), true)
		for _, curve := range []tls.CurveID{tls.CurveP384, tls.CurveP521} {
			await(t, curve.String(), func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{curve} }, true)
		}
		expectNoRejection(t, s.envoy)
	})
}
