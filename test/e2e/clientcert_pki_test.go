package e2e

// A small certificate authority run with the real openssl, as users make
// the CAs, client certificates and CRLs that auth-tls-secret holds.

import (
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// opensslCA is a CA in a directory of its own: its certificate, key,
// openssl ca database and configuration.
type opensslCA struct {
	dir string
}

// caConfig is the openssl ca configuration: any subject with a CN,
// client certificates, intermediate CAs, and CRLs.
const caConfig = `[ ca ]
default_ca = ca_default
[ ca_default ]
dir = DIR
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
default_days = 2
default_crl_days = 2
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
organizationName = optional
[ client ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ sub_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
`

// openssl runs openssl in dir and fails the test, with how to install
// it, when it cannot.
func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s(openssl comes with Debian: apt-get install openssl)", strings.Join(args, " "), err, out)
	}
}

// newOpenSSLCA makes a self-signed CA with the subject subj.
func newOpenSSLCA(t *testing.T, subj string) *opensslCA {
	t.Helper()
	ca := &opensslCA{dir: t.TempDir()}
	noErr(t, os.Mkdir(filepath.Join(ca.dir, "new"), 0o755))
	noErr(t, os.WriteFile(filepath.Join(ca.dir, "index.txt"), nil, 0o644))
	noErr(t, os.WriteFile(filepath.Join(ca.dir, "serial"), []byte("1000\n"), 0o644))
	noErr(t, os.WriteFile(filepath.Join(ca.dir, "crlnumber"), []byte("1000\n"), 0o644))
	noErr(t, os.WriteFile(filepath.Join(ca.dir, "ca.cnf"), []byte(strings.ReplaceAll(caConfig, "DIR", ca.dir)), 0o644))
	openssl(t, ca.dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", "ca.key", "-out", "ca.crt", "-subj", subj, "-days", "2",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return ca
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// read returns a file of the CA's directory.
func (ca *opensslCA) read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ca.dir, name))
	noErr(t, err)
	return string(b)
}

// issue signs a new key for subj with the extensions ext ("client" or
// "sub_ca"), valid from start to end (openssl's YYYYMMDDHHMMSSZ; empty
// for now and two days), and returns the name of its files (name.crt,
// name.key).
func (ca *opensslCA) issue(t *testing.T, name, subj, ext, start, end string) string {
	t.Helper()
	openssl(t, ca.dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", name+".key", "-out", name+".csr", "-subj", subj)
	args := []string{"ca", "-batch", "-notext", "-config", "ca.cnf", "-extensions", ext, "-in", name + ".csr", "-out", name + ".crt"}
	if start != "" {
		args = append(args, "-startdate", start, "-enddate", end)
	}
	openssl(t, ca.dir, args...)
	return name
}

// revoke revokes a certificate the CA issued and writes its CRL, ca.crl.
func (ca *opensslCA) revoke(t *testing.T, name string) {
	t.Helper()
	openssl(t, ca.dir, "ca", "-config", "ca.cnf", "-revoke", name+".crt")
	openssl(t, ca.dir, "ca", "-config", "ca.cnf", "-gencrl", "-out", "ca.crl")
}

// keyPair is the certificate name, with the chain of certificates of
// other CAs (an intermediate's, say) after it, as a client presents it.
func (ca *opensslCA) keyPair(t *testing.T, name string, chain ...string) *tls.Certificate {
	t.Helper()
	pemChain := ca.read(t, name+".crt") + strings.Join(chain, "")
	pair, err := tls.X509KeyPair([]byte(pemChain), []byte(ca.read(t, name+".key")))
	noErr(t, err)
	return &pair
}

// subject is the subject of a PEM certificate as openssl prints it in
// RFC 2253 form, which nginx's $ssl_client_s_dn is.
func subject(t *testing.T, certPEM string) string {
	t.Helper()
	cmd := exec.Command("openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253")
	cmd.Stdin = strings.NewReader(certPEM)
	out, err := cmd.Output()
	noErr(t, err)
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "subject=")
}
