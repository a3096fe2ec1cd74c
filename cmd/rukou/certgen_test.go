package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var testCertgen = certgenConfig{
	namespace: "rukou-system", caSecret: "rukou-xds-ca", serverSecret: "rukou-xds-server", clientSecret: "rukou-xds-client",
	service: "rukou", clusterDomain: "cluster.local",
	validity: 5 * 365 * 24 * time.Hour, renewBefore: 90 * 24 * time.Hour,
}

// runCertgenAt runs certgen as if at now and returns its output and the
// writes it made.
func runCertgenAt(t *testing.T, client *fake.Clientset, now time.Time) (string, []string) {
	t.Helper()
	client.ClearActions()
	var out bytes.Buffer
	if err := certgen(context.Background(), client, testCertgen, func() time.Time { return now }, &out); err != nil {
		t.Fatalf("certgen: %v\n%s", err, out.String())
	}
	var writes []string
	for _, a := range client.Actions() {
		switch w := a.(type) {
		case k8stesting.GetAction:
		case k8stesting.CreateAction: // creates and updates
			writes = append(writes, a.GetVerb()+" "+w.GetObject().(*corev1.Secret).Name)
		default:
			writes = append(writes, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out.String(), writes
}

func getSecret(t *testing.T, client *fake.Clientset, name string) *corev1.Secret {
	t.Helper()
	s, err := client.CoreV1().Secrets("rukou-system").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parseCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("no PEM in %q", b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertgenCreatesWhatIsMissing(t *testing.T) {
	client := fake.NewClientset()
	now := time.Now()
	out, writes := runCertgenAt(t, client, now)
	if want := []string{"create rukou-xds-ca", "create rukou-xds-server", "create rukou-xds-client"}; strings.Join(writes, ",") != strings.Join(want, ",") {
		t.Errorf("writes %v, want %v\n%s", writes, want, out)
	}
	ca, server, client1 := getSecret(t, client, "rukou-xds-ca"), getSecret(t, client, "rukou-xds-server"), getSecret(t, client, "rukou-xds-client")

	t.Run("secret_types_and_keys", func(t *testing.T) {
		if ca.Type != corev1.SecretTypeOpaque || len(ca.Data[keyCAKey]) == 0 || len(ca.Data[keyCACert]) == 0 {
			t.Errorf("CA Secret: type %s, keys %v", ca.Type, keys(ca.Data))
		}
		for _, s := range []*corev1.Secret{server, client1} {
			if s.Type != corev1.SecretTypeTLS || !bytes.Equal(s.Data[keyCACert], ca.Data[keyCACert]) || len(s.Data[corev1.TLSPrivateKeyKey]) == 0 {
				t.Errorf("Secret %s: type %s, keys %v, ca.crt equal to the CA: %v", s.Name, s.Type, keys(s.Data), bytes.Equal(s.Data[keyCACert], ca.Data[keyCACert]))
			}
		}
	})
	t.Run("certificates", func(t *testing.T) {
		caCert := parseCert(t, ca.Data[keyCACert])
		if !caCert.IsCA || !caCert.MaxPathLenZero {
			t.Error("the CA certificate is not a CA limited to signing leaves")
		}
		roots := x509.NewCertPool()
		roots.AddCert(caCert)
		srv := parseCert(t, server.Data[corev1.TLSCertKey])
		for _, name := range []string{"rukou", "rukou.rukou-system", "rukou.rukou-system.svc", "rukou.rukou-system.svc.cluster.local"} {
			if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("server certificate for %s: %v", name, err)
			}
		}
		cli := parseCert(t, client1.Data[corev1.TLSCertKey])
		if _, err := cli.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
			t.Error("the client certificate can serve: it must be for client authentication only")
		}
		if got := srv.NotAfter.Sub(now); got < testCertgen.validity-time.Minute || got > testCertgen.validity {
			t.Errorf("server certificate valid for %v, want %v", got, testCertgen.validity)
		}
	})
	t.Run("mutual_tls_handshake", func(t *testing.T) {
		// rukou's side as xds.TLS sets it up, Envoy's with its Secret.
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca.Data[keyCACert])
		srvPair, err := tls.X509KeyPair(server.Data[corev1.TLSCertKey], server.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			t.Fatal(err)
		}
		cliPair, err := tls.X509KeyPair(client1.Data[corev1.TLSCertKey], client1.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		errs := make(chan error, 1)
		go func() {
			errs <- tls.Server(a, &tls.Config{Certificates: []tls.Certificate{srvPair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}).Handshake()
		}()
		if err := tls.Client(b, &tls.Config{Certificates: []tls.Certificate{cliPair}, RootCAs: pool, ServerName: "rukou.rukou-system.svc"}).Handshake(); err != nil {
			t.Errorf("client handshake: %v", err)
		}
		if err := <-errs; err != nil {
			t.Errorf("server handshake: %v", err)
		}
	})
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCertgenKeepsWhatIsGood(t *testing.T) {
	client := fake.NewClientset()
	now := time.Now()
	runCertgenAt(t, client, now)

	cases := []struct {
		name       string
		at         time.Time
		breakIt    func(t *testing.T)
		wantWrites []string
	}{
		{"second_run_writes_nothing", now, nil, nil},
		{"a_year_later_writes_nothing", now.AddDate(1, 0, 0), nil, nil},
		{"deleted_server_secret_is_made_again_alone", now, func(t *testing.T) {
			if err := client.CoreV1().Secrets("rukou-system").Delete(context.Background(), "rukou-xds-server", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"create rukou-xds-server"}},
		{"client_certificate_of_another_ca_is_replaced", now, func(t *testing.T) {
			other := fake.NewClientset()
			runCertgenAt(t, other, now)
			foreign := getSecret(t, other, "rukou-xds-client")
			mine := getSecret(t, client, "rukou-xds-client")
			// Its own ca.crt is kept: the certificate is what is wrong.
			mine.Data[corev1.TLSCertKey], mine.Data[corev1.TLSPrivateKeyKey] = foreign.Data[corev1.TLSCertKey], foreign.Data[corev1.TLSPrivateKeyKey]
			if _, err := client.CoreV1().Secrets("rukou-system").Update(context.Background(), mine, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"update rukou-xds-client"}},
		{"key_that_does_not_match_is_replaced", now, func(t *testing.T) {
			s := getSecret(t, client, "rukou-xds-server")
			s.Data[corev1.TLSPrivateKeyKey] = getSecret(t, client, "rukou-xds-client").Data[corev1.TLSPrivateKeyKey]
			if _, err := client.CoreV1().Secrets("rukou-system").Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"update rukou-xds-server"}},
		{"ca_near_expiry_replaces_everything", now.Add(testCertgen.validity - testCertgen.renewBefore + time.Hour), nil,
			[]string{"update rukou-xds-ca", "update rukou-xds-server", "update rukou-xds-client"}},
		{"new_ca_then_nothing", now.Add(testCertgen.validity - testCertgen.renewBefore + 2*time.Hour), nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.breakIt != nil {
				tc.breakIt(t)
			}
			out, writes := runCertgenAt(t, client, tc.at)
			if strings.Join(writes, ",") != strings.Join(tc.wantWrites, ",") {
				t.Errorf("writes %v, want %v\n%s", writes, tc.wantWrites, out)
			}
			for _, name := range []string{"rukou-xds-ca", "rukou-xds-server", "rukou-xds-client"} {
				written := false
				for _, w := range tc.wantWrites {
					written = written || strings.HasSuffix(w, " "+name)
				}
				if !written && !strings.Contains(out, "secret rukou-system/"+name+" unchanged") {
					t.Errorf("output does not say %s is unchanged:\n%s", name, out)
				}
			}
		})
	}
}

func TestCertgenRefusesASecretOfAnotherType(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "rukou-xds-server", Namespace: "rukou-system"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte("x")},
	})
	err := certgen(context.Background(), client, testCertgen, time.Now, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `secret rukou-system/rukou-xds-server has type "Opaque"`) {
		t.Errorf("certgen: %v; want it to refuse the Opaque Secret by name", err)
	}
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok {
			t.Errorf("certgen deleted %s", d.GetName())
		}
	}
}

func TestCertgenFlags(t *testing.T) {
	code, _, stderr := runCmd(t, "certgen", "--validity", "24h", "--renew-before", "48h")
	if code != 1 || !strings.Contains(stderr, "--renew-before 48h0m0s must be shorter than --validity 24h0m0s") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
