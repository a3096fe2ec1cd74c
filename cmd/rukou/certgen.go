package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/spf13/cobra"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Keys of the certgen Secrets. The server and client Secrets have the
// layout of kubernetes.io/tls Secrets with a ca.crt, as cert-manager writes
// them, so that cert-manager can take certgen's place.
const (
	keyCACert = "ca.crt"
	keyCAKey  = "ca.key"
)

// certgenConfig says which Secrets certgen keeps, and what goes in them.
type certgenConfig struct {
	namespace                            string
	caSecret, serverSecret, clientSecret string
	// service is the name of rukou's xDS Service; the server certificate
	// holds its DNS names.
	service, clusterDomain string
	validity, renewBefore  time.Duration
}

func newCertgenCmd() *cobra.Command {
	cfg := certgenConfig{}
	var kubeconfig string
	cmd := &cobra.Command{
		Use:   "certgen",
		Short: "Create the Secrets for mTLS between Envoy and rukou, when missing or near expiry",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.renewBefore >= cfg.validity {
				return fmt.Errorf("--renew-before %v must be shorter than --validity %v", cfg.renewBefore, cfg.validity)
			}
			rc, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return fmt.Errorf("kubernetes client: %w", err)
			}
			return certgen(cmd.Context(), client, cfg, time.Now, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	kubeconfigFlag(fs, &kubeconfig)
	fs.StringVar(&cfg.namespace, "namespace", ownNamespace(), "namespace of the Secrets ($POD_NAMESPACE when set)")
	fs.StringVar(&cfg.caSecret, "ca-secret", "rukou-xds-ca", "Secret (Opaque) that holds the CA's certificate and key, ca.crt and ca.key")
	fs.StringVar(&cfg.serverSecret, "server-secret", "rukou-xds-server", "kubernetes.io/tls Secret of rukou's xDS server certificate (tls.crt, tls.key, ca.crt)")
	fs.StringVar(&cfg.clientSecret, "client-secret", "rukou-xds-client", "kubernetes.io/tls Secret of Envoy's client certificate (tls.crt, tls.key, ca.crt)")
	fs.StringVar(&cfg.service, "service", "rukou", "name of rukou's xDS Service, whose DNS names the server certificate holds")
	fs.StringVar(&cfg.clusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	fs.DurationVar(&cfg.validity, "validity", 5*365*24*time.Hour, "how long new certificates are valid")
	fs.DurationVar(&cfg.renewBefore, "renew-before", 90*24*time.Hour, "replace a certificate that expires within this time")
	return cmd
}

// certgen makes the Secrets agree with cfg, writing only what is missing or
// no longer good: a CA that expires soon, a certificate that the CA did not
// sign or that lacks a name. Another certgen writing at the same time makes
// it start over, a few times at most.
func certgen(ctx context.Context, client kubernetes.Interface, cfg certgenConfig, now func() time.Time, out io.Writer) error {
	var err error
	for range 5 {
		if err = certgenOnce(ctx, client, cfg, now(), out); !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return err
}

func certgenOnce(ctx context.Context, client kubernetes.Interface, cfg certgenConfig, now time.Time, out io.Writer) error {
	secrets := &secretWriter{client: client.CoreV1().Secrets(cfg.namespace), namespace: cfg.namespace, out: out}
	ca, err := ensureCA(ctx, secrets, cfg, now)
	if err != nil {
		return err
	}
	for _, leaf := range []leafSpec{
		{secret: cfg.serverSecret, commonName: cfg.service, usage: x509.ExtKeyUsageServerAuth, dnsNames: cfg.serverNames()},
		{secret: cfg.clientSecret, commonName: "rukou-envoy", usage: x509.ExtKeyUsageClientAuth},
	} {
		if err := ensureLeaf(ctx, secrets, ca, leaf, cfg, now); err != nil {
			return err
		}
	}
	return nil
}

// ensureCA returns the CA of cfg.caSecret, made anew and written when it is
// missing, broken or near expiry.
func ensureCA(ctx context.Context, secrets *secretWriter, cfg certgenConfig, now time.Time) (*authority, error) {
	current, err := secrets.get(ctx, cfg.caSecret)
	if err != nil {
		return nil, err
	}
	ca, err := loadCA(current, now, cfg.renewBefore)
	if err == nil {
		secrets.say(cfg.caSecret, "unchanged")
		return ca, nil
	}
	if current != nil {
		secrets.replacing(cfg.caSecret, "CA", err)
	}
	if ca, err = newCA(now, cfg.validity); err != nil {
		return nil, err
	}
	data := map[string][]byte{keyCACert: ca.certPEM, keyCAKey: ca.keyPEM}
	if err := secrets.write(ctx, current, cfg.caSecret, corev1.SecretTypeOpaque, data); err != nil {
		return nil, err
	}
	return ca, nil
}

// ensureLeaf issues the certificate of leaf with ca and writes it, unless
// its Secret already holds one that is good enough.
func ensureLeaf(ctx context.Context, secrets *secretWriter, ca *authority, leaf leafSpec, cfg certgenConfig, now time.Time) error {
	current, err := secrets.get(ctx, leaf.secret)
	if err != nil {
		return err
	}
	if err := ca.checkLeaf(current, leaf, now, cfg.renewBefore); err == nil {
		secrets.say(leaf.secret, "unchanged")
		return nil
	} else if current != nil {
		secrets.replacing(leaf.secret, "certificate", err)
	}
	certPEM, keyPEM, err := ca.issue(leaf, now, cfg.validity)
	if err != nil {
		return err
	}
	return secrets.write(ctx, current, leaf.secret, corev1.SecretTypeTLS, map[string][]byte{
		corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM, keyCACert: ca.certPEM,
	})
}

// secretWriter reads and writes certgen's Secrets in one namespace, and
// says on out what it did to each.
type secretWriter struct {
	client    typedcorev1.SecretInterface
	namespace string
	out       io.Writer
}

// say prints what became of the Secret name: unchanged, created, updated.
func (w *secretWriter) say(name, what string) {
	fmt.Fprintf(w.out, "secret %s/%s %s\n", w.namespace, name, what)
}

// replacing prints why the Secret name is being replaced.
func (w *secretWriter) replacing(name, what string, why error) {
	fmt.Fprintf(w.out, "secret %s/%s: replacing the %s: %v\n", w.namespace, name, what, why)
}

// get returns the Secret name, nil when there is none.
func (w *secretWriter) get(ctx context.Context, name string) (*corev1.Secret, error) {
	s, err := w.client.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", w.namespace, name, err)
	}
	return s, nil
}

// write creates the Secret name with data, or replaces the data of
// current, which must have type typ.
func (w *secretWriter) write(ctx context.Context, current *corev1.Secret, name string, typ corev1.SecretType, data map[string][]byte) error {
	if current == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.namespace, Labels: map[string]string{
				"app.kubernetes.io/name":       "rukou",
				"app.kubernetes.io/managed-by": "rukou-certgen",
			}},
			Type: typ,
			Data: data,
		}
		if _, err := w.client.Create(ctx, s, metav1.CreateOptions{FieldManager: "rukou-certgen"}); err != nil {
			return fmt.Errorf("secret %s/%s: creating: %w", w.namespace, name, err)
		}
		w.say(name, "created")
		return nil
	}
	if current.Type != typ {
		// The type of a Secret cannot change; certgen may not delete.
		return fmt.Errorf("secret %s/%s has type %q, want %q: delete it and run certgen again", w.namespace, name, current.Type, typ)
	}
	s := current.DeepCopy()
	s.Data = data
	if _, err := w.client.Update(ctx, s, metav1.UpdateOptions{FieldManager: "rukou-certgen"}); err != nil {
		return fmt.Errorf("secret %s/%s: updating: %w", w.namespace, name, err)
	}
	w.say(name, "updated")
	return nil
}

// serverNames are the names by which Envoys reach rukou's xDS Service.
func (c certgenConfig) serverNames() []string {
	svc := c.service + "." + c.namespace
	return []string{c.service, svc, svc + ".svc", svc + ".svc." + c.clusterDomain}
}

// leafSpec is a certificate that the CA signs.
type leafSpec struct {
	secret, commonName string
	usage              x509.ExtKeyUsage
	dnsNames           []string
}

// authority is certgen's CA.
type authority struct {
	cert            *x509.Certificate
	key             crypto.Signer
	certPEM, keyPEM []byte
}

func newCA(now time.Time, validity time.Duration) (*authority, error) {
	key, keyPEM, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "rukou-xds-ca"},
		NotBefore:             now.Add(-time.Hour), // clocks differ a little
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: pemBlock("CERTIFICATE", der), keyPEM: keyPEM}, nil
}

// loadCA reads the CA from its Secret, and says why it is not good enough
// when it is missing, broken or about to expire.
func loadCA(s *corev1.Secret, now time.Time, renewBefore time.Duration) (*authority, error) {
	if s == nil {
		return nil, errors.New("missing")
	}
	cert, key, err := parsePair(s.Data[keyCACert], s.Data[keyCAKey])
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, errors.New("ca.crt is not a CA certificate")
	}
	if err := checkDates(cert, now, renewBefore); err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: s.Data[keyCACert], keyPEM: s.Data[keyCAKey]}, nil
}

func (ca *authority) issue(leaf leafSpec, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, keyPEM, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: leaf.commonName},
		DNSNames:     leaf.dnsNames,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{leaf.usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the certificate of secret %s: %w", leaf.secret, err)
	}
	return pemBlock("CERTIFICATE", der), keyPEM, nil
}

// checkLeaf says why the certificate in s is not good enough, nil when it
// is: signed by this CA for the right use and names, with its key, the CA's
// certificate beside it, and far from expiry.
func (ca *authority) checkLeaf(s *corev1.Secret, leaf leafSpec, now time.Time, renewBefore time.Duration) error {
	if s == nil {
		return errors.New("missing")
	}
	if !bytes.Equal(s.Data[keyCACert], ca.certPEM) {
		return errors.New("ca.crt is not the CA's certificate")
	}
	cert, _, err := parsePair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{leaf.usage}}); err != nil {
		return err
	}
	for _, name := range leaf.dnsNames {
		if err := cert.VerifyHostname(name); err != nil {
			return err
		}
	}
	return checkDates(cert, now, renewBefore)
}

func checkDates(cert *x509.Certificate, now time.Time, renewBefore time.Duration) error {
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("not valid before %v", cert.NotBefore)
	}
	if now.Add(renewBefore).After(cert.NotAfter) {
		return fmt.Errorf("expires %v, within %v", cert.NotAfter, renewBefore)
	}
	return nil
}

// parsePair reads a PEM certificate and the PEM private key that goes with
// it.
func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, crypto.Signer, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, errors.New("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	block, _ = pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, errors.New("no PEM private key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("the private key cannot sign")
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, errors.New("the private key does not belong to the certificate")
	}
	return cert, key, nil
}

func newKey() (crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pemBlock("PRIVATE KEY", der), nil
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
