package bench

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkBasicAuthEnvoy measures what auth-type basic costs a request: one
// iteration sends one request (keep-alive, one client) through a real
// Envoy to each of three hosts of the same echo backend: without
// authentication; with the right password of a bcrypt user (cost 10, as
// htpasswd -B), which `rukou limiter` beside Envoy verifies once and then
// remembers; and with a wrong password, which costs a bcrypt every time
// (401). The limiter reads the users from rukou over SDS, as in the
// install.
func BenchmarkBasicAuthEnvoy(b *testing.B) {
	binaries(b)
	backend := harness.StartBackend(b, "echo")
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	if err != nil {
		b.Fatal(err)
	}
	users := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: users\ntype: Opaque\ndata:\n  auth: " +
		base64.StdEncoding.EncodeToString([]byte("alice:"+string(hash)+"\n")) + "\n---\n"
	basic := map[string]string{"nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "users"}
	manifest := users + harness.IngressYAML("plain", "plain.bench", "echo", nil) + "---\n" +
		harness.IngressYAML("basic", "basic.bench", "echo", basic) + "---\n" + harness.ServiceYAML("echo", backend)
	dir := b.TempDir()
	harness.WriteManifest(b, filepath.Join(dir, "bench.yaml"), manifest)
	rukou := harness.StartRukou(b, "--watch-dir", dir)
	limiter := harness.Addr(b)
	lim := harness.Start(b, "limiter", exec.Command(filepath.Join(harness.Root(b), "bin", "rukou"), "limiter",
		"--address", limiter, "--xds-address", rukou.XDSAddress), 5*time.Second)
	harness.StartEnvoyWith(b, rukou.XDSAddress, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--limiter-address", limiter}})
	awaitServed(b, rukou.HTTPPort, lim, "plain.bench")
	base := "http://127.0.0.1:" + strconv.Itoa(rukou.HTTPPort) + "/"
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(host, password string, want int) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodGet, base, nil)
			req.Host = host
			if password != "" {
				req.SetBasicAuth("alice", password)
			}
			return expectStatus(client, req, want)
		}
	}
	harness.Eventually(b, 30*time.Second, "basic.bench admits alice", get("basic.bench", "pw", http.StatusOK))
	measureEach(b, []named{
		{"plain", get("plain.bench", "", http.StatusOK)},
		{"basic-cached", get("basic.bench", "pw", http.StatusOK)},
		{"basic-bcrypt-401", get("basic.bench", "wrong", http.StatusUnauthorized)},
	})
}

// BenchmarkClientCertificate measures what auth-tls-secret costs a
// client that opens a new TLS connection per request (the worst case: a
// client that keeps its connection pays the handshake once): one
// iteration sends one request on a new connection (TLS 1.3, ECDSA P-256)
// to each of two hosts of the same echo backend, one without client
// certificates and one that verifies the client's against a CA
// (auth-tls-secret, verify-client on), and one request on a kept
// connection to the second.
func BenchmarkClientCertificate(b *testing.B) {
	binaries(b)
	backend := harness.StartBackend(b, "echo")
	// The CA and the client certificate of rukou's own mTLS tests; both
	// hosts are served with rukou's generated default certificate.
	certs := harness.WriteCerts(b, b.TempDir())
	pair, err := tls.LoadX509KeyPair(certs.ClientCert, certs.ClientKey)
	if err != nil {
		b.Fatal(err)
	}
	caPEM, err := os.ReadFile(certs.CA)
	if err != nil {
		b.Fatal(err)
	}
	secret := func(name string, data map[string][]byte) string {
		out := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ntype: Opaque\ndata:\n", name)
		for _, k := range slices.Sorted(maps.Keys(data)) {
			out += fmt.Sprintf("  %s: %s\n", k, base64.StdEncoding.EncodeToString(data[k]))
		}
		return out + "---\n"
	}
	manifest := secret("client-ca", map[string][]byte{"ca.crt": caPEM}) +
		harness.IngressYAML("plain", "plain.bench", "echo", nil) + "---\n" +
		harness.IngressYAML("mtls", "mtls.bench", "echo", map[string]string{"nginx.ingress.kubernetes.io/auth-tls-secret": "client-ca"}) + "---\n" +
		harness.ServiceYAML("echo", backend)
	dir := b.TempDir()
	harness.WriteManifest(b, filepath.Join(dir, "bench.yaml"), manifest)
	rukou := harness.StartRukou(b, "--watch-dir", dir)
	harness.StartEnvoy(b, rukou.XDSAddress, "delta")
	addr := "127.0.0.1:" + strconv.Itoa(rukou.HTTPSPort)
	client := func(host string, cert *tls.Certificate, keep bool) *http.Client {
		conf := &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
		if cert != nil {
			conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: conf, DisableKeepAlives: !keep,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}}
	}
	get := func(c *http.Client, host string) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodGet, "https://"+host+"/", nil)
			return expectStatus(c, req, http.StatusOK)
		}
	}
	harness.Eventually(b, 30*time.Second, "mtls.bench admits the client", get(client("mtls.bench", &pair, false), "mtls.bench"))
	harness.Eventually(b, 30*time.Second, "plain.bench answers", get(client("plain.bench", nil, false), "plain.bench"))
	// What is measured is a verification: a client without a certificate
	// is refused.
	req, _ := http.NewRequest(http.MethodGet, "https://mtls.bench/", nil)
	if err := expectStatus(client("mtls.bench", nil, false), req, http.StatusBadRequest); err != nil {
		b.Fatalf("mtls.bench without a client certificate: %v", err)
	}
	measureEach(b, []named{
		{"tls-new-conn", get(client("plain.bench", nil, false), "plain.bench")},
		{"mtls-new-conn", get(client("mtls.bench", &pair, false), "mtls.bench")},
		{"mtls-kept-conn", get(client("mtls.bench", &pair, true), "mtls.bench")},
	})
}

// named is one kind of request of a benchmark, by the name its figures
// are reported under.
type named struct {
	name string
	do   func() error
}

// measureEach sends, b.N times, one request of each kind in turn and
// reports the median and 99th percentile latency of each.
func measureEach(b *testing.B, kinds []named) {
	b.Helper()
	took := make([][]time.Duration, len(kinds))
	b.ResetTimer()
	for range b.N {
		for i, k := range kinds {
			start := time.Now()
			if err := k.do(); err != nil {
				b.Fatalf("%s: %v", k.name, err)
			}
			took[i] = append(took[i], time.Since(start))
		}
	}
	b.StopTimer()
	for i, k := range kinds {
		d := took[i]
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), k.name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), k.name+"-p99-µs")
	}
}

// expectStatus sends req and reads the whole answer, which must have the
// status want.
func expectStatus(c *http.Client, req *http.Request, want int) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	return nil
}
