// Package pki writes the certificates and kubeconfigs of the one-node
// cluster (make cluster-up): one CA, a serving certificate for the API
// server and for the kubelet, and a client certificate per component, each
// with the identity that Kubernetes' built-in RBAC and Node authorizer give
// least privilege to. Nothing here is for production: keys are unencrypted
// files under the cluster's state directory.
//
// It may import only the standard library and client-go's clientcmd.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Node is what the certificates name: the node and where the API server
// listens.
type Node struct {
	Name string // the node's name (its hostname)
	IP   net.IP // the node's address; the API server and kubelet listen there
	// ServiceIP is the first address of the Service range: the
	// kubernetes.default Service, which pods use to reach the API server.
	ServiceIP net.IP
	Port      int // the API server's secure port
}

// client is one component's identity: its kubeconfig is Name.kubeconfig.
type client struct {
	name, cn string
	orgs     []string
}

// clients: the user's admin (system:masters), and each component as the
// user that Kubernetes' bootstrap RBAC policy (or the Node authorizer, for
// the kubelet) grants exactly what it needs.
func clients(node string) []client {
	return []client{
		{name: "admin", cn: "rukou-cluster-admin", orgs: []string{"system:masters"}},
		{name: "kubelet", cn: "system:node:" + node, orgs: []string{"system:nodes"}},
		{name: "kube-proxy", cn: "system:kube-proxy"},
		{name: "kube-controller-manager", cn: "system:kube-controller-manager"},
		{name: "kube-scheduler", cn: "system:kube-scheduler"},
	}
}

// APIServerKubeletClient is the user the API server presents to kubelets
// (logs, exec, port-forward); cluster-up binds it to system:kubelet-api-admin.
const APIServerKubeletClient = "kube-apiserver-kubelet-client"

// Write creates in dir, unless they are there for the same node already:
// ca.crt/ca.key, apiserver.crt/.key, kubelet-serving.crt/.key,
// apiserver-kubelet-client.crt/.key, sa.key/sa.pub (service-account
// tokens), and NAME.kubeconfig (with NAME.crt/.key) for each client.
func Write(dir string, n Node) error {
	if current(dir, n) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := newCA(dir, time.Now())
	if err != nil {
		return err
	}
	issue := ca.issue
	apiDNS := []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"}
	if _, _, err := issue("apiserver", "kube-apiserver", nil, x509.ExtKeyUsageServerAuth, apiDNS, []net.IP{n.IP, n.ServiceIP, net.IPv4(127, 0, 0, 1)}); err != nil {
		return err
	}
	if _, _, err := issue("kubelet-serving", "system:node:"+n.Name, []string{"system:nodes"}, x509.ExtKeyUsageServerAuth, []string{n.Name}, []net.IP{n.IP}); err != nil {
		return err
	}
	if _, _, err := issue("apiserver-kubelet-client", APIServerKubeletClient, nil, x509.ExtKeyUsageClientAuth, nil, nil); err != nil {
		return err
	}
	if err := writeServiceAccountKey(dir); err != nil {
		return err
	}
	server := fmt.Sprintf("https://%s", net.JoinHostPort(n.IP.String(), fmt.Sprint(n.Port)))
	for _, c := range clients(n.Name) {
		der, key, err := issue(c.name, c.cn, c.orgs, x509.ExtKeyUsageClientAuth, nil, nil)
		if err != nil {
			return fmt.Errorf("certificate of %s: %w", c.name, err)
		}
		if err := writeKubeconfig(filepath.Join(dir, c.name+".kubeconfig"), server, ca.der, der, key); err != nil {
			return fmt.Errorf("kubeconfig of %s: %w", c.name, err)
		}
	}
	// Written last: its presence says the rest is complete.
	return os.WriteFile(filepath.Join(dir, "node"), []byte(n.Name+" "+n.IP.String()+"\n"), 0o644)
}

// authority is the cluster's CA, which signs every other certificate.
type authority struct {
	dir  string
	now  time.Time
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// newCA makes the CA and writes it to dir as ca.crt and ca.key.
func newCA(dir string, now time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "rukou-cluster-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{dir: dir, now: now, cert: cert, der: der, key: key}, writePair(dir, "ca", der, key)
}

// issue signs a certificate for cn and writes it to dir as file.crt and
// file.key.
func (ca *authority) issue(file, cn string, orgs []string, usage x509.ExtKeyUsage, dns []string, ips []net.IP) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    ca.now.Add(-time.Hour),
		NotAfter:     ca.now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	return der, key, writePair(ca.dir, file, der, key)
}

// writeServiceAccountKey writes the key that signs ServiceAccount tokens
// (sa.key) and its public half (sa.pub).
func writeServiceAccountKey(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, "sa.key"), key); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}

// current reports whether dir holds a complete set for n whose CA has a
// month or more left.
func current(dir string, n Node) bool {
	b, err := os.ReadFile(filepath.Join(dir, "node"))
	if err != nil || string(b) != n.Name+" "+n.IP.String()+"\n" {
		return false
	}
	ca, err := readCert(filepath.Join(dir, "ca.crt"))
	return err == nil && time.Until(ca.NotAfter) > 30*24*time.Hour
}

func readCert(file string) (*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New(file + ": no PEM block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func writePair(dir, name string, der []byte, key crypto.Signer) error {
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), certPEM(der), 0o644); err != nil {
		return err
	}
	return writeKey(filepath.Join(dir, name+".key"), key)
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func writeKey(file string, key crypto.Signer) error {
	b, err := keyPEM(key)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

func writeKubeconfig(file, server string, caDER, der []byte, key crypto.Signer) error {
	kb, err := keyPEM(key)
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["rukou-cluster"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: certPEM(caDER)}
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM(der), ClientKeyData: kb}
	cfg.Contexts["rukou-cluster"] = &clientcmdapi.Context{Cluster: "rukou-cluster", AuthInfo: "user"}
	cfg.CurrentContext = "rukou-cluster"
	return clientcmd.WriteToFile(*cfg, file)
}
