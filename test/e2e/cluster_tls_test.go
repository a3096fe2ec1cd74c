package e2e

import (
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// TestClusterModeDefaultSSLCertificate: through a real API server, with
// --watch-namespace shop, the Secret that --default-ssl-certificate names in
// another namespace is watched there (by name) and served to an unknown
// SNI; an update of it is served without a restart.
func TestClusterModeDefaultSSLCertificate(t *testing.T) {
	cluster := harness.StartCluster(t)
	ctx := harness.Context(t)
	kc := cluster.Client
	ca := newTestCA(t)
	for _, name := range []string{"shop", "certs"} {
		must(t, func() error {
			_, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			return err
		})
	}
	secret := func(serial int64) *corev1.Secret {
		s := ca.secret(t, "default-tls", serial, "*.cluster.test")
		s.Namespace = "certs"
		return s
	}
	must(t, func() error {
		_, err := kc.CoreV1().Secrets("certs").Create(ctx, secret(401), metav1.CreateOptions{})
		return err
	})
	s := &stack{rukou: harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--watch-namespace", "shop", "--default-ssl-certificate", "certs/default-tls")}
	s.envoy = harness.StartEnvoy(t, s.rukou.XDSAddress, "delta")

	expectSerial := func(serial int64) {
		t.Helper()
		harness.Eventually(t, 20*time.Second, fmt.Sprintf("certificate %d for an unknown SNI", serial), func() error {
			cert, err := handshake(s, "nobody.cluster.test", func(c *tls.Config) { c.InsecureSkipVerify, c.RootCAs = false, ca.pool })
			if err != nil {
				return err
			}
			if cert.SerialNumber.Int64() != serial {
				return fmt.Errorf("certificate %d", cert.SerialNumber)
			}
			return nil
		})
	}
	expectSerial(401)
	must(t, func() error {
		_, err := kc.CoreV1().Secrets("certs").Update(ctx, secret(402), metav1.UpdateOptions{})
		return err
	})
	expectSerial(402)
	expectNoRejection(t, s.envoy)
}
