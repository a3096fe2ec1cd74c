package ingress

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// The keys of a Secret that verifies client certificates, as ingress-nginx
// reads them.
const (
	caKey  = "ca.crt"
	crlKey = "ca.crl"
)

// clientCAPrefix starts the SDS name of the CAs of a Secret, which may
// also hold the host's own certificate (served under the Secret's name).
const clientCAPrefix = "client-ca/"

// ClientCert is client certificate authentication on a host, from the
// first Ingress that names the host with auth-tls-secret.
type ClientCert struct {
	nginx.ClientCert
	// CA and CRL are the Secret's PEM ca.crt and ca.crl (nil without one).
	CA, CRL []byte
	// Failed, when set, says why the host cannot verify clients (a
	// missing or bad Secret, a host without a name): its paths answer
	// 503 rather than serve unprotected.
	Failed string
	// Source is the Ingress that set it.
	Source string
}

// addClientCert gives the hosts of an Ingress with auth-tls-secret its
// client certificate authentication, unless an older Ingress gave a host
// one first (ingress-nginx's server takes the first location's).
func (b *builder) addClientCert(ing *ingressRef, hosts []string) {
	cc := ing.ann.ClientCert
	if cc == nil {
		return
	}
	for _, h := range hosts {
		if prev, ok := b.clientCerts[h]; ok {
			if prev.Source != ing.source {
				b.reportField(ing.Ingress, nginx.Field("auth-tls-secret"), ir.ReasonConflict,
					"client certificates of host %q are already set by the older Ingress %s, whose settings apply to all the host's paths", h, prev.Source)
			}
			continue
		}
		c := &ClientCert{ClientCert: *cc, Source: ing.source}
		err := b.readClientCA(c)
		if h == WildcardHost {
			err = &backendError{ir.ReasonAuthUnsupported, "auth-tls-secret on rules without a host is not supported (clients are verified per host name)"}
		}
		if err != nil {
			c.Failed = err.msg
			b.reportField(ing.Ingress, nginx.Field("auth-tls-secret"), err.reason, "%s; the paths of host %q answer 503 rather than serve without client certificate authentication", err.msg, h)
		}
		b.clientCerts[h] = c
	}
}

// readClientCA reads the CAs (and CRLs) of a client certificate
// authentication's Secret. Envoy would refuse a listener whose CAs or
// CRLs do not parse, so each PEM block is checked here.
func (b *builder) readClientCA(c *ClientCert) *backendError {
	s, ok := b.tls.secret(c.Secret)
	if !ok {
		return &backendError{ir.ReasonSecretNotFound, fmt.Sprintf("auth-tls-secret: Secret %s not found", c.Secret)}
	}
	ca := s.Data[caKey]
	if len(ca) == 0 {
		return &backendError{ir.ReasonInvalidSecret, fmt.Sprintf("auth-tls-secret: Secret %s has no %s", c.Secret, caKey)}
	}
	if err := eachPEM(ca, "CERTIFICATE", func(der []byte) error { _, err := x509.ParseCertificate(der); return err }); err != nil {
		return &backendError{ir.ReasonInvalidSecret, fmt.Sprintf("auth-tls-secret: the %s of Secret %s is not PEM certificates: %v", caKey, c.Secret, err)}
	}
	if crl := s.Data[crlKey]; len(crl) > 0 {
		if err := eachPEM(crl, "X509 CRL", func(der []byte) error { _, err := x509.ParseRevocationList(der); return err }); err != nil {
			return &backendError{ir.ReasonInvalidSecret, fmt.Sprintf("auth-tls-secret: the %s of Secret %s is not PEM CRLs: %v", crlKey, c.Secret, err)}
		}
		c.CRL = crl
	}
	c.CA = ca
	return nil
}

// eachPEM checks that data is one or more PEM blocks of the given type,
// each of which parse accepts, and nothing else.
func eachPEM(data []byte, typ string, parse func([]byte) error) error {
	n := 0
	for rest := data; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return fmt.Errorf("text that is not PEM after block %d", n)
			}
			break
		}
		if block.Type != typ {
			return fmt.Errorf("block %d is %q, not %q", n+1, block.Type, typ)
		}
		if err := parse(block.Bytes); err != nil {
			return fmt.Errorf("block %d: %w", n+1, err)
		}
	}
	if n == 0 {
		return fmt.Errorf("no PEM block")
	}
	return nil
}

// hostTLS gives each virtual host the client certificate authentication
// and the TLS settings of its host (an alias those of the host it stands
// for), and, when it has either, the certificate its own filter chain
// serves.
func (b *builder) hostTLS(vhosts []*VirtualHost) {
	for _, vh := range vhosts {
		host := vh.Host
		if of, ok := b.aliasOf[host]; ok {
			host = of
		}
		vh.ClientCert, vh.Ciphers = b.clientCerts[host], b.ciphers[host]
		if vh.ClientCert == nil && vh.Ciphers == nil {
			continue
		}
		if cert := b.tls.certificateOf(vh.Host); cert != nil {
			vh.ChainSecret = cert.Secret
		} else if b.tls.deflt != nil {
			vh.ChainSecret = b.tls.deflt.Secret
		}
	}
}

// addHostCiphers gives the hosts of an Ingress its ssl-ciphers and
// ssl-prefer-server-ciphers, each unless an older Ingress set it for the
// host, as ingress-nginx's server takes the first it meets.
func (b *builder) addHostCiphers(ing *ingressRef, hosts []string) {
	c := ing.ann.Ciphers
	if c == nil {
		return
	}
	for _, h := range hosts {
		if h == WildcardHost {
			b.reportField(ing.Ingress, nginx.Field("ssl-ciphers"), ir.ReasonAnnotationIgnored,
				"ssl-ciphers and ssl-prefer-server-ciphers are set per host name; ignored on rules without a host")
			continue
		}
		cur := b.ciphers[h]
		if cur == nil {
			cur = &nginx.HostCiphers{}
			b.ciphers[h] = cur
		}
		if cur.Suites == nil {
			cur.Suites = c.Suites
		}
		if cur.PreferServer == nil {
			cur.PreferServer = c.PreferServer
		}
	}
}
