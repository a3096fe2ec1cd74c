package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// TestAnnotationProxySSL: the proxy-ssl-* annotations through a real Envoy
// to real TLS backends, with certificates that openssl makes. The backend
// "strict" holds a certificate for backend.internal issued by an
// intermediate CA under the root, and requires a client certificate of
// that root; it tells which SNI and client certificate it got.
func TestAnnotationProxySSL(t *testing.T) {
	pki := newOpenSSLPKI(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.read(t, "root.crt"))
	strict := pki.serve(t, "strict", "backend", &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots})
	balancer := pki.serve(t, "balancer", "balancer", &tls.Config{})
	tls12 := pki.serve(t, "tls12", "backend", &tls.Config{MaxVersion: tls.VersionTLS12})
	aes256 := pki.serve(t, "aes256", "backend", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}})

	secret := func(name string, keys map[string]string) runtime.Object {
		data := map[string][]byte{}
		for k, file := range keys {
			data[k] = pki.read(t, file)
		}
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	}
	good := map[string]string{"tls.crt": "client.crt", "tls.key": "client.key", "ca.crt": "root.crt"}
	https := func(name, service string, ann map[string]string) runtime.Object {
		ann["backend-protocol"] = "HTTPS"
		return annotated(name, ann, rule(name+".test", path(prefix, "/", service)))
	}
	verified := func(secret string) map[string]string {
		return map[string]string{"proxy-ssl-secret": ns + "/" + secret, "proxy-ssl-verify": "on", "proxy-ssl-name": "backend.internal"}
	}
	withSNI := verified("good")
	withSNI["proxy-ssl-server-name"] = "on"
	withSNI["proxy-ssl-verify-depth"] = "2"
	s := startStack(t, "delta")
	s.apply(t, "proxyssl", join(strict, balancer, tls12, aes256, objs(
		secret("good", good),
		secret("wrong-ca", map[string]string{"tls.crt": "client.crt", "tls.key": "client.key", "ca.crt": "other.crt"}),
		secret("ca-only", map[string]string{"ca.crt": "root.crt"}),
		secret("no-ca", map[string]string{"tls.crt": "client.crt", "tls.key": "client.key"}),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad-pem", Namespace: ns}, Data: map[string][]byte{"ca.crt": []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")}},
		https("verified", "strict", withSNI),
		https("no-sni", "strict", verified("good")),
		https("wrong-ca", "strict", verified("wrong-ca")),
		https("no-client-cert", "strict", verified("ca-only")),
		https("default-name", "strict", map[string]string{"proxy-ssl-secret": ns + "/good", "proxy-ssl-verify": "on"}),
		https("balancer", "balancer", map[string]string{"proxy-ssl-secret": ns + "/good", "proxy-ssl-verify": "on", "proxy-ssl-server-name": "on"}),
		https("tls12", "tls12", map[string]string{"proxy-ssl-secret": ns + "/good"}),
		https("tls13", "tls12", map[string]string{"proxy-ssl-secret": ns + "/good", "proxy-ssl-protocols": "TLSv1.3"}),
		https("aes256", "aes256", map[string]string{"proxy-ssl-secret": ns + "/good", "proxy-ssl-ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"}),
		https("aes128", "aes256", map[string]string{"proxy-ssl-secret": ns + "/good", "proxy-ssl-ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"}),
		https("missing", "strict", verified("nowhere")),
		https("no-ca", "strict", verified("no-ca")),
		https("bad-pem", "strict", verified("bad-pem")),
	))...)

	t.Run("verified_with_ca_and_name_presents_the_client_certificate_and_sends_sni", func(t *testing.T) {
		r := s.await(t, call{host: "verified.test", path: "/"}, http.StatusOK, "strict")
		if sni, cn := r.header.Get("X-Backend-SNI"), r.header.Get("X-Client-CN"); sni != "backend.internal" || cn != "rukou-client" {
			t.Errorf("the backend got SNI %q and client certificate %q, want backend.internal and rukou-client", sni, cn)
		}
		// Envoy cannot bound a backend's chain: the depth is refused, and
		// said so.
		waitDiagnostic(t, s, ns+"/verified", "AnnotationIgnored", "a backend's chain")
	})
	t.Run("the_same_service_with_server_name_off_gets_no_sni", func(t *testing.T) {
		r := s.await(t, call{host: "no-sni.test", path: "/"}, http.StatusOK, "strict")
		if sni := r.header.Get("X-Backend-SNI"); sni != "" {
			t.Errorf("the backend got SNI %q, want none (proxy-ssl-server-name off)", sni)
		}
	})
	t.Run("a_certificate_the_ca_did_not_issue_answers_502", func(t *testing.T) {
		s.await(t, call{host: "wrong-ca.test", path: "/"}, http.StatusBadGateway, "")
	})
	t.Run("a_backend_requiring_a_client_certificate_refuses_a_secret_without_one", func(t *testing.T) {
		s.await(t, call{host: "no-client-cert.test", path: "/"}, http.StatusBadGateway, "")
	})
	t.Run("without_proxy_ssl_name_the_certificate_must_name_upstream_balancer", func(t *testing.T) {
		s.await(t, call{host: "default-name.test", path: "/"}, http.StatusBadGateway, "")
		r := s.await(t, call{host: "balancer.test", path: "/"}, http.StatusOK, "balancer")
		if sni := r.header.Get("X-Backend-SNI"); sni != "upstream_balancer" {
			t.Errorf("the backend got SNI %q, want upstream_balancer (nginx's $proxy_host)", sni)
		}
	})
	t.Run("proxy_ssl_protocols_restrict_the_versions", func(t *testing.T) {
		r := s.await(t, call{host: "tls12.test", path: "/"}, http.StatusOK, "tls12")
		if v := r.header.Get("X-Backend-TLS-Version"); v != "TLS 1.2" {
			t.Errorf("spoke %s by default, want TLS 1.2 (ingress-nginx's proxy-ssl-protocols)", v)
		}
		s.await(t, call{host: "tls13.test", path: "/"}, http.StatusBadGateway, "")
	})
	t.Run("proxy_ssl_ciphers_restrict_the_suites", func(t *testing.T) {
		r := s.await(t, call{host: "aes256.test", path: "/"}, http.StatusOK, "aes256")
		if c := r.header.Get("X-Backend-Cipher"); c != "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" {
			t.Errorf("spoke %s, want TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", c)
		}
		s.await(t, call{host: "aes128.test", path: "/"}, http.StatusBadGateway, "")
	})
	t.Run("an_unusable_secret_answers_503_with_its_reason", func(t *testing.T) {
		for _, c := range []struct{ name, reason, mention string }{
			{"missing", "SecretNotFound", "nowhere"},
			{"no-ca", "InvalidSecret", "no ca.crt"},
			{"bad-pem", "InvalidSecret", "ca.crt"},
		} {
			waitDiagnostic(t, s, ns+"/"+c.name, c.reason, c.mention)
			s.await(t, call{host: c.name + ".test", path: "/"}, http.StatusServiceUnavailable, "")
		}
		s.await(t, call{host: "verified.test", path: "/"}, http.StatusOK, "strict")
	})
	expectNoRejection(t, s.envoy)
}

// openSSLPKI is a directory of keys and certificates made with openssl: a
// root CA, an intermediate CA under it, a server certificate for
// backend.internal issued by the intermediate (backend.crt holds the
// chain), one for upstream_balancer issued by the root, a client
// certificate (CN rukou-client) issued by the root, and an unrelated CA
// (other.crt).
type openSSLPKI struct{ dir string }

func newOpenSSLPKI(t *testing.T) *openSSLPKI {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is missing: install it (apt-get install openssl); the proxy-ssl tests make their certificates with it")
	}
	p := &openSSLPKI{dir: t.TempDir()}
	p.write(t, "ca.cnf", "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n")
	p.ca(t, "root", "")
	p.ca(t, "other", "")
	p.ca(t, "int", "root")
	p.leaf(t, "backend", "int", "DNS:backend.internal")
	p.leaf(t, "balancer", "root", "DNS:upstream_balancer")
	p.leaf(t, "client", "root", "DNS:rukou-client")
	// The server sends its certificate with the intermediate's.
	p.write(t, "backend.crt", string(p.read(t, "backend.crt"))+string(p.read(t, "int.crt")))
	return p
}

func (p *openSSLPKI) openssl(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// ca makes name.key and name.crt: self-signed, or issued by issuer.
func (p *openSSLPKI) ca(t *testing.T, name, issuer string) {
	t.Helper()
	newKey := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key", "-subj", "/CN=rukou e2e " + name, "-config", "ca.cnf"}
	if issuer == "" {
		p.openssl(t, append([]string{"req", "-x509", "-days", "2", "-extensions", "v3", "-out", name + ".crt"}, newKey...)...)
		return
	}
	p.openssl(t, append([]string{"req", "-new", "-out", name + ".csr"}, newKey...)...)
	p.openssl(t, "x509", "-req", "-in", name+".csr", "-CA", issuer+".crt", "-CAkey", issuer+".key", "-CAcreateserial",
		"-days", "2", "-extfile", "ca.cnf", "-extensions", "v3", "-out", name+".crt")
}

// leaf makes name.key and name.crt for san, issued by issuer, for
// servers and clients alike.
func (p *openSSLPKI) leaf(t *testing.T, name, issuer, san string) {
	t.Helper()
	cn := san[len("DNS:"):]
	p.write(t, name+".cnf", "[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName="+san+"\n")
	p.openssl(t, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name+".key",
		"-subj", "/CN="+cn, "-config", "ca.cnf", "-out", name+".csr")
	p.openssl(t, "x509", "-req", "-in", name+".csr", "-CA", issuer+".crt", "-CAkey", issuer+".key", "-CAcreateserial",
		"-days", "2", "-extfile", name+".cnf", "-extensions", "v3", "-out", name+".crt")
}

func (p *openSSLPKI) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *openSSLPKI) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve runs an echo backend over TLS with the certificate cert (a name
// of the PKI) and the settings of conf, as the Service name. Its answers
// say which SNI, TLS version, cipher suite and client certificate it got.
func (p *openSSLPKI) serve(t *testing.T, name, cert string, conf *tls.Config) []runtime.Object {
	t.Helper()
	pair, err := tls.X509KeyPair(p.read(t, cert+".crt"), p.read(t, cert+".key"))
	if err != nil {
		t.Fatal(err)
	}
	conf.Certificates, conf.NextProtos = []tls.Certificate{pair}, []string{"http/1.1"}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-SNI", r.TLS.ServerName)
		w.Header().Set("X-Backend-TLS-Version", tls.VersionName(r.TLS.Version))
		w.Header().Set("X-Backend-Cipher", tls.CipherSuiteName(r.TLS.CipherSuite))
		if len(r.TLS.PeerCertificates) > 0 {
			w.Header().Set("X-Client-CN", r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		echo.Handler(name).ServeHTTP(w, r)
	})
	return serviceWith(name, endpoint(serveTLS(t, handler, conf), true, nil))
}

// TestAnnotationProxySSLSecretChanges: a Secret's new contents reach Envoy
// over SDS (a CA replaced: from 502 to 200), and an Ingress that names
// another Secret gets a cluster of its own with that Secret, while every
// request keeps an answer from the backend's side (no 503 of a cluster
// without its certificate).
func TestAnnotationProxySSLSecretChanges(t *testing.T) {
	pki := newOpenSSLPKI(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.read(t, "root.crt"))
	strict := pki.serve(t, "strict", "backend", &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots})
	secret := func(name, ca string) runtime.Object {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{
			"tls.crt": pki.read(t, "client.crt"), "tls.key": pki.read(t, "client.key"), "ca.crt": pki.read(t, ca),
		}}
	}
	ing := func(secret string) runtime.Object {
		return annotated("rotate", map[string]string{"backend-protocol": "HTTPS", "proxy-ssl-secret": ns + "/" + secret,
			"proxy-ssl-verify": "on", "proxy-ssl-name": "backend.internal"}, rule("rotate.test", path(prefix, "/", "strict")))
	}
	s := startStack(t, "delta")
	s.apply(t, "rotate", join(strict, objs(secret("first", "other.crt"), secret("second", "root.crt"), ing("first")))...)
	s.await(t, call{host: "rotate.test", path: "/"}, http.StatusBadGateway, "")

	s.apply(t, "rotate", join(strict, objs(secret("first", "root.crt"), secret("second", "root.crt"), ing("first")))...)
	s.await(t, call{host: "rotate.test", path: "/"}, http.StatusOK, "strict")

	s.apply(t, "rotate", join(strict, objs(secret("first", "other.crt"), secret("second", "root.crt"), ing("second")))...)
	start := time.Now()
	var statuses []int
	harness.Eventually(t, 15*time.Second, "rotate.test answers from the cluster of Secret second", func() error {
		r, err := s.do(call{host: "rotate.test", path: "/"})
		if err != nil {
			return err
		}
		statuses = append(statuses, r.status)
		if r.status != http.StatusOK || time.Since(start) < 2*time.Second {
			return fmt.Errorf("got %d", r.status)
		}
		return nil
	})
	for _, st := range statuses {
		if st != http.StatusOK && st != http.StatusBadGateway {
			t.Errorf("while the Ingress moved to another Secret, answers were %v: want only 200 (and 502 before the move)", statuses)
			break
		}
	}
	t.Logf("moved to the other Secret in %s (%d requests)", time.Since(start).Round(time.Millisecond), len(statuses))
	expectNoRejection(t, s.envoy)
}
