package ingress

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// The SDS names of proxy-ssl-secret's contents. Each is followed by the
// Secret's namespace/name, so that neither meets a listener certificate's
// name (namespace/name, one "/").
const (
	clientCertificatePrefix = "proxy-ssl/"
	trustedCAPrefix         = "proxy-ssl-ca/"
)

// proxySSLSecret reads the Secret an Ingress's proxy-ssl-secret names into
// the certificate presented to its backends and the CA they are verified
// against (with proxy-ssl-verify on). A Secret that is missing, holds neither a key pair nor ca.crt,
// holds one that does not parse, or lacks ca.crt while proxy-ssl-verify is
// on makes the Ingress's paths answer 503: ingress-nginx denies them in
// the first three cases, and in the last would not verify the backend the
// annotations ask to verify.
func proxySSLSecret(ann *nginx.Annotations, secret func(string) (*corev1.Secret, bool)) {
	p := ann.ProxySSL
	if p == nil {
		return
	}
	deny := denier(ann, "proxy-ssl-secret", "; the Ingress's paths answer 503")
	s, ok := secret(p.Secret)
	if !ok {
		deny(ir.ReasonSecretNotFound, "Secret %s not found", p.Secret)
		return
	}
	chain, key, ca := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey], s.Data["ca.crt"]
	resolved := *p
	switch {
	case len(chain) > 0 != (len(key) > 0):
		deny(ir.ReasonInvalidSecret, "Secret %s has only one of %s and %s", p.Secret, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
		return
	case len(chain) == 0 && len(ca) == 0:
		deny(ir.ReasonInvalidSecret, "Secret %s holds neither a key pair (%s, %s) nor ca.crt", p.Secret, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
		return
	case len(ca) == 0 && p.Verify:
		deny(ir.ReasonInvalidSecret, "Secret %s has no ca.crt to verify the backend with (proxy-ssl-verify: on)", p.Secret)
		return
	}
	if len(chain) > 0 {
		// Envoy would refuse a pair that does not parse or match, and
		// with it the whole update of clusters.
		if _, err := tls.X509KeyPair(chain, key); err != nil {
			deny(ir.ReasonInvalidSecret, "Secret %s does not hold a valid certificate and key: %v", p.Secret, err)
			return
		}
		resolved.Certificate = &ir.Secret{Name: clientCertificatePrefix + p.Secret, Chain: chain, Key: key}
	}
	if len(ca) > 0 && p.Verify {
		if err := checkCA(ca); err != nil {
			deny(ir.ReasonInvalidSecret, "Secret %s: ca.crt %v", p.Secret, err)
			return
		}
		resolved.CA = &ir.Secret{Name: trustedCAPrefix + p.Secret, CA: ca}
	}
	ann.ProxySSL = &resolved // a copy: the annotations read are the Ingress's own
}

// denier returns a function that makes the Ingress of ann unservable
// because of the annotation name, with a message that ends with then,
// unless something else already did.
func denier(ann *nginx.Annotations, name, then string) func(reason ir.Reason, format string, args ...any) {
	return func(reason ir.Reason, format string, args ...any) {
		if ann.Unservable == nil {
			ann.Unservable = &nginx.Issue{Name: name, Reason: reason, Msg: fmt.Sprintf(format, args...) + then}
		}
	}
}

// checkCA checks that PEM data holds certificates and nothing else that
// Envoy would refuse.
func checkCA(data []byte) error {
	n := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a PEM block %q, not CERTIFICATE", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("holds a certificate that does not parse: %w", err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("holds no PEM certificate")
	}
	return nil
}

// proxySSLKey names the TLS settings of proxy-ssl-* in a cluster's name,
// so that backends with different settings are different clusters: a
// short hash of the settings, not of the Secret's contents, which reach
// Envoy over SDS and change without rebuilding the cluster.
func proxySSLKey(p *nginx.ProxySSL) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%t|%s|%t|%s|%s|%q",
		p.Secret, p.Verify, p.Name, p.ServerName, p.Params.MinVersion, p.Params.MaxVersion, p.Params.CipherSuites))
	return "tls-" + hex.EncodeToString(sum[:4])
}

// lowerProxySSL gives a cluster's TLS what proxy-ssl-* asks.
func lowerProxySSL(t *ir.UpstreamTLS, p *nginx.ProxySSL) {
	params := p.Params
	t.Params = &params
	if p.ServerName {
		t.SNI = p.Name
	}
	if p.Certificate != nil {
		t.ClientCertificate = p.Certificate.Name
	}
	if p.Verify && p.CA != nil {
		t.Verify = &ir.UpstreamVerify{CA: p.CA.Name, Name: p.Name}
	}
}

// proxySSLSecrets lists the secrets of the backends' proxy-ssl-secret:
// once each, by name.
func proxySSLSecrets(backends []*Backend) []*ir.Secret {
	seen := map[string]bool{}
	var out []*ir.Secret
	for _, be := range backends {
		if be.ProxySSL == nil {
			continue
		}
		for _, s := range []*ir.Secret{be.ProxySSL.Certificate, be.ProxySSL.CA} {
			if s != nil && !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s)
			}
		}
	}
	return out
}
