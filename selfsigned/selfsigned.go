// Package selfsigned makes self-signed TLS certificates: the default
// certificate rukou serves when no --default-ssl-certificate can be used,
// and the certificates of tests.
//
// It may import only the standard library.
package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// FakeSubject is the subject of ingress-nginx's generated default
// certificate, which rukou's keeps, so that monitoring that recognises an
// unconfigured host by it keeps working.
var FakeSubject = pkix.Name{Organization: []string{"Acme Co"}, CommonName: "Kubernetes Ingress Controller Fake Certificate"}

// FakeHost is the one DNS name of ingress-nginx's default certificate.
const FakeHost = "ingress.local"

// Fake makes rukou's default certificate: FakeSubject, for FakeHost, valid
// for a year from now, as ingress-nginx makes its own (with an ECDSA P-256
// key where ingress-nginx takes RSA 2048: as widely accepted, and made in
// well under a millisecond).
func Fake(now time.Time) (chain, key []byte, err error) {
	return New(FakeSubject, []string{FakeHost}, now, 365*24*time.Hour)
}

// New makes a self-signed server certificate for dnsNames, valid from an
// hour before now (clocks differ) for validity, with a new ECDSA P-256
// key; both come back PEM-encoded.
func New(subject pkix.Name, dnsNames []string, now time.Time, validity time.Duration) (chain, key []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("generating a serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		DNSNames:              dnsNames,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
