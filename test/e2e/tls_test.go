package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// testCA signs the certificates of the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rukou e2e CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// secret returns a kubernetes.io/tls Secret for hosts, signed by the CA, with
// serial as its serial number so tests can tell certificates apart.
func (ca *testCA) secret(t *testing.T, name string, serial int64, hosts ...string) *corev1.Secret {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		},
	}
}

// httpsGet sends GET https://host/path to the stack's HTTPS listener with SNI
// host, trusting pool, and returns the answer and the serving certificate.
func httpsGet(s *stack, pool *x509.CertPool, host, path string, maxVersion uint16) (harness.Response, *x509.Certificate, error) {
	addr := "127.0.0.1:" + strconv.Itoa(s.rukou.HTTPSPort)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: host, MaxVersion: maxVersion},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := c.Get("https://" + host + path)
	if err != nil {
		return harness.Response{}, nil, err
	}
	defer resp.Body.Close()
	r := harness.Response{Status: resp.StatusCode, Header: resp.Header}
	if resp.Header.Get("X-Backend") != "" {
		if err := json.NewDecoder(resp.Body).Decode(&r.Echo); err != nil {
			return r, nil, err
		}
		r.Backend = r.Echo.Backend
	}
	return r, resp.TLS.PeerCertificates[0], nil
}

// expectTLS waits until host answers over HTTPS from backend with the
// certificate of the given serial.
func expectTLS(t *testing.T, s *stack, ca *testCA, host, backend string, serial int64) harness.Response {
	t.Helper()
	var last harness.Response
	harness.Eventually(t, 15*time.Second, fmt.Sprintf("https://%s/ from %q with certificate %d", host, backend, serial), func() error {
		r, cert, err := httpsGet(s, ca.pool, host, "/", 0)
		if err != nil {
			return err
		}
		last = r
		if r.Status != http.StatusOK || r.Backend != backend || cert.SerialNumber.Int64() != serial {
			return fmt.Errorf("got %d from %q with certificate %d", r.Status, r.Backend, cert.SerialNumber)
		}
		return nil
	})
	return last
}

func tlsIngress(name, host, secret string) *networkingv1.Ingress {
	ing := ingress(name, rule(host, path(prefix, "/", name)))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secret}}
	return ing
}

// TestTLS: certificates by SNI over SDS, the 308 redirect from plain HTTP,
// ssl-redirect "false", a broken Secret reported for its own host only
// (which is served with the default certificate), TLS 1.2 as the minimum,
// and a certificate rotated in place.
func TestTLS(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { testTLS(t, mode) })
	}
}

func testTLS(t *testing.T, mode string) {
	ca := newTestCA(t)
	s := startStack(t, mode)

	plain := ingress("plain", rule("c.tls.test", path(prefix, "/", "plain")))
	plain.Annotations["nginx.ingress.kubernetes.io/ssl-redirect"] = "false"
	plain.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"c.tls.test"}, SecretName: "c"}}
	garbage := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "garbage", Namespace: ns}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("not a certificate"), corev1.TLSPrivateKeyKey: []byte("nor a key")},
	}
	services := join(backend(t, "site-a"), backend(t, "site-b"), backend(t, "plain"), backend(t, "site-d"), backend(t, "site-e"))
	ingresses := objs(
		tlsIngress("site-a", "a.tls.test", "a"),
		tlsIngress("site-b", "b.tls.test", "b"),
		plain,
		tlsIngress("site-d", "d.tls.test", "missing"),
		tlsIngress("site-e", "e.tls.test", "garbage"),
	)
	s.apply(t, "tls", join(services, ingresses, objs(
		ca.secret(t, "a", 101, "a.tls.test"), ca.secret(t, "b", 102, "b.tls.test"), ca.secret(t, "c", 103, "c.tls.test"), garbage,
	))...)

	t.Run("sni_selects_certificate", func(t *testing.T) {
		r := expectTLS(t, s, ca, "a.tls.test", "site-a", 101)
		expectTLS(t, s, ca, "b.tls.test", "site-b", 102)
		if got := first(r.Echo.Headers["X-Forwarded-Proto"]); got != "https" {
			t.Errorf("X-Forwarded-Proto = %q, want https", got)
		}
	})
	t.Run("plain_http_redirects_with_308_keeping_path_and_query", func(t *testing.T) {
		r := s.expect(t, "a.tls.test", "/some/path?q=1&r=2", http.StatusPermanentRedirect, "")
		// The stack's rukou runs with --https-redirect-port set to its
		// HTTPS listener's port.
		want := fmt.Sprintf("https://a.tls.test:%d/some/path?q=1&r=2", s.rukou.HTTPSPort)
		if loc := r.Header.Get("Location"); loc != want {
			t.Errorf("Location = %q, want %q", loc, want)
		}
	})
	t.Run("ssl_redirect_false_serves_plain_http", func(t *testing.T) {
		s.expect(t, "c.tls.test", "/", http.StatusOK, "plain")
		expectTLS(t, s, ca, "c.tls.test", "plain", 103)
	})
	t.Run("missing_secret_affects_only_its_host", func(t *testing.T) {
		// As ingress-nginx: the default certificate, and the redirect.
		waitDiagnostic(t, s, "default/site-d", "SecretNotFound", "default/missing")
		expectDefaultCertificate(t, s, "d.tls.test", "site-d")
		s.expect(t, "d.tls.test", "/", http.StatusPermanentRedirect, "")
		expectTLS(t, s, ca, "a.tls.test", "site-a", 101)
	})
	t.Run("invalid_secret_affects_only_its_host", func(t *testing.T) {
		waitDiagnostic(t, s, "default/site-e", "InvalidSecret", "default/garbage")
		expectDefaultCertificate(t, s, "e.tls.test", "site-e")
	})
	t.Run("tls_1_1_is_refused", func(t *testing.T) {
		if _, _, err := httpsGet(s, ca.pool, "a.tls.test", "/", tls.VersionTLS11); err == nil {
			t.Error("a TLS 1.1 handshake succeeded; the minimum is TLS 1.2")
		}
		if _, _, err := httpsGet(s, ca.pool, "a.tls.test", "/", tls.VersionTLS12); err != nil {
			t.Errorf("TLS 1.2: %v", err)
		}
	})
	t.Run("rotated_certificate_is_served", func(t *testing.T) {
		s.apply(t, "tls", join(services, ingresses, objs(
			ca.secret(t, "a", 201, "a.tls.test"), ca.secret(t, "b", 102, "b.tls.test"), ca.secret(t, "c", 103, "c.tls.test"), garbage,
		))...)
		expectTLS(t, s, ca, "a.tls.test", "site-a", 201)
	})
	expectNoRejection(t, s.envoy)
}
