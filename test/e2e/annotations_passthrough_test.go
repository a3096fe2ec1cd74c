package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// passthroughIngress is an Ingress with ssl-passthrough for host, whose
// path "/" goes to service, with a spec.tls entry naming secret (none when
// empty).
func passthroughIngress(name, host, service, secret string) *networkingv1.Ingress {
	ing := annotated(name, map[string]string{"ssl-passthrough": "true"}, rule(host, path(prefix, "/", service)))
	if secret != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secret}}
	}
	return ing
}

// expectPeerCertificate waits until a TLS handshake with SNI sni (none
// when empty) gets want as the server's certificate.
func expectPeerCertificate(t *testing.T, s *stack, sni string, want []byte) {
	t.Helper()
	harness.Eventually(t, 15*time.Second, fmt.Sprintf("SNI %q gets the expected certificate", sni), func() error {
		cert, err := handshake(s, sni, nil)
		if err != nil {
			return err
		}
		if !bytes.Equal(cert.Raw, want) {
			return fmt.Errorf("got the certificate of %q (%s)", cert.Subject.CommonName, cert.Issuer.CommonName)
		}
		return nil
	})
}

// TestAnnotationSSLPassthrough: with --enable-ssl-passthrough, a host
// whose Ingress sets ssl-passthrough has its TLS connections handed,
// unopened, to the backend of its path "/", which terminates TLS with its
// own certificate; a wildcard host too. Another host's TLS is still
// terminated by Envoy with its Secret, plain HTTP to the passthrough host
// still gets the 308 to HTTPS (and, on a host without TLS, reaches the
// backend over HTTPS, as ingress-nginx proxies to it), and a client
// without SNI gets the default certificate. Without the flag the annotation is reported and ignored.
func TestAnnotationSSLPassthrough(t *testing.T) {
	ca := newTestCA(t)
	own := keyPair(t, "pass.test")
	wild := keyPair(t, "*.wild.test")
	s := startStackArgs(t, "--enable-ssl-passthrough")
	s.apply(t, "passthrough", join(
		echoService(t, "pass", echo.Handler("pass"), &own),
		echoService(t, "wild", echo.Handler("wild"), &wild),
		backend(t, "term"),
		objs(
			ca.secret(t, "pass-tls", 8, "pass.test"),
			ca.secret(t, "term-tls", 7, "term.test"),
			passthroughIngress("pass", "pass.test", "pass", "pass-tls"),
			passthroughIngress("wild", "*.wild.test", "wild", ""),
			passthroughIngress("cleartext", "cleartext.test", "pass", ""),
			tlsIngress("term", "term.test", "term-tls"),
		),
	)...)

	t.Run("the_backend_terminates_tls_with_its_own_certificate", func(t *testing.T) {
		expectPeerCertificate(t, s, "pass.test", own.Certificate[0])
		s.await(t, call{host: "pass.test", path: "/through", https: true}, http.StatusOK, "pass")
	})
	t.Run("a_wildcard_host_passes_through", func(t *testing.T) {
		expectPeerCertificate(t, s, "a.wild.test", wild.Certificate[0])
		s.await(t, call{host: "a.wild.test", path: "/", https: true}, http.StatusOK, "wild")
	})
	t.Run("another_host_is_still_terminated_by_envoy", func(t *testing.T) {
		expectTLS(t, s, ca, "term.test", "term", 7)
	})
	t.Run("plain_http_still_redirects_to_https", func(t *testing.T) {
		r := s.await(t, call{host: "pass.test", path: "/x?q=1"}, http.StatusPermanentRedirect, "")
		// The harness's HTTPS port is not 443, so the Location names it.
		if got, want := r.header.Get("Location"), fmt.Sprintf("https://pass.test:%d/x?q=1", s.rukou.HTTPSPort); got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
	})
	t.Run("plain_http_not_redirected_reaches_the_backend_over_https", func(t *testing.T) {
		s.await(t, call{host: "cleartext.test", path: "/"}, http.StatusOK, "pass")
	})
	t.Run("a_client_without_sni_gets_the_default_certificate", func(t *testing.T) {
		cert, err := handshake(s, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := cert.Subject.String(); got != fakeSubject {
			t.Errorf("certificate %q, want the default %q", got, fakeSubject)
		}
	})
	expectNoRejection(t, s.envoy)

	t.Run("without_the_flag_it_is_reported_and_tls_is_terminated", func(t *testing.T) {
		plain := startStack(t, "delta")
		plain.apply(t, "passthrough", join(
			echoService(t, "pass", echo.Handler("pass"), &own),
			objs(ca.secret(t, "pass-tls", 8, "pass.test"), passthroughIngress("pass", "pass.test", "pass", "pass-tls")),
		)...)
		waitDiagnostic(t, plain, "default/pass", "AnnotationIgnored", "--enable-ssl-passthrough")
		// Envoy's own chain for the host: its Secret's certificate
		// (serial 8), not the backend's (serial 1).
		harness.Eventually(t, 15*time.Second, "pass.test terminated with its Secret", func() error {
			cert, err := handshake(plain, "pass.test", nil)
			if err != nil {
				return err
			}
			if cert.SerialNumber.Int64() != 8 {
				return fmt.Errorf("certificate serial %d", cert.SerialNumber)
			}
			return nil
		})
		expectNoRejection(t, plain.envoy)
	})
}
