package e2e

import (
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// negotiatedSuite is the TLS 1.2 cipher suite that the stack's HTTPS listener
// picks for SNI host when the real openssl client offers suites, in that
// order of preference; "" when the handshake fails.
func negotiatedSuite(t *testing.T, s *stack, host, suites string) string {
	t.Helper()
	cmd := exec.Command("openssl", "s_client", "-connect", "127.0.0.1:"+strconv.Itoa(s.rukou.HTTPSPort),
		"-servername", host, "-tls1_2", "-cipher", suites)
	out, _ := cmd.CombinedOutput() // a failed handshake exits 1
	m := regexp.MustCompile(`Cipher is (\S+)`).FindSubmatch(out)
	if m == nil || string(m[1]) == "(NONE)" {
		return ""
	}
	return string(m[1])
}

// TestHostCiphers: ssl-ciphers and ssl-prefer-server-ciphers on an
// Ingress set its host's TLS 1.2 suites and whose order wins, checked
// with the real openssl client; other hosts on the port keep the
// ConfigMap's (ingress-nginx's default, server's order).
func TestHostCiphers(t *testing.T) {
	s := startStack(t, "delta")
	const suites = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384"
	site := func(name string, ann map[string]string) *networkingv1.Ingress {
		ing := annotated(name, ann, rule(name+".ct.test", path(prefix, "/", "web")))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{name + ".ct.test"}, SecretName: "site-tls"}}
		return ing
	}
	s.apply(t, "ciphers", join(backend(t, "web"), objs(
		newTestCA(t).secret(t, "site-tls", 1, "default.ct.test", "suites.ct.test", "client.ct.test"),
		site("default", map[string]string{}),
		site("suites", map[string]string{"ssl-ciphers": suites}),
		site("client", map[string]string{"ssl-ciphers": suites, "ssl-prefer-server-ciphers": "false"}),
	))...)
	for _, h := range []string{"default", "suites", "client"} {
		s.await(t, call{host: h + ".ct.test", path: "/", https: true}, http.StatusOK, "web")
	}
	const offer = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"
	for _, c := range []struct{ name, host, offer, want string }{
		{"default_host_server_order", "default.ct.test", offer, "ECDHE-ECDSA-AES128-GCM-SHA256"},
		{"host_suites_server_order", "suites.ct.test", offer, "ECDHE-ECDSA-CHACHA20-POLY1305"},
		{"host_suites_client_order", "client.ct.test", offer, "ECDHE-ECDSA-AES256-GCM-SHA384"},
		{"suite_not_listed_is_refused", "suites.ct.test", "ECDHE-ECDSA-AES128-GCM-SHA256", ""},
		{"suite_listed_by_default", "default.ct.test", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := negotiatedSuite(t, s, c.host, c.offer); got != c.want {
				t.Errorf("negotiated %q, want %q", got, c.want)
			}
		})
	}
	expectNoRejection(t, s.envoy)
}
