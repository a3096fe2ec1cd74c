package xds_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rukou/rukou/test/harness"
	"github.com/rukou/rukou/xds"
)

func TestTLSNamesTheFileAtFault(t *testing.T) {
	dir := t.TempDir()
	certs := harness.WriteCerts(t, dir)
	notPEM := filepath.Join(dir, "not-pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, cert, key, ca string
		wantErr             string
	}{
		{"server_only", certs.ServerCert, certs.ServerKey, "", ""},
		{"mutual", certs.ServerCert, certs.ServerKey, certs.CA, ""},
		{"missing_cert", filepath.Join(dir, "missing.pem"), certs.ServerKey, "", "missing.pem"},
		{"key_of_another_cert", certs.ServerCert, certs.ClientKey, "", "server.pem"},
		{"missing_ca", certs.ServerCert, certs.ServerKey, filepath.Join(dir, "no-ca.pem"), "no-ca.pem"},
		{"ca_without_pem", certs.ServerCert, certs.ServerKey, notPEM, "not-pem: no PEM certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := xds.TLS(c.cert, c.key, c.ca)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v; want one naming %q", err, c.wantErr)
			}
		})
	}
}
