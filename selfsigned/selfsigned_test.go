package selfsigned

import (
	"crypto/tls"
	"testing"
	"time"
)

// TestFakeIsIngressNginxs: the subject and name of ingress-nginx's
// default certificate, a pair that loads, valid now and for a year.
func TestFakeIsIngressNginxs(t *testing.T) {
	now := time.Now()
	chain, key, err := Fake(now)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(chain, key)
	if err != nil {
		t.Fatal(err)
	}
	c := pair.Leaf
	if got := c.Subject.String(); got != "CN=Kubernetes Ingress Controller Fake Certificate,O=Acme Co" {
		t.Errorf("subject %q", got)
	}
	if err := c.VerifyHostname("ingress.local"); err != nil {
		t.Error(err)
	}
	if !c.NotBefore.Before(now) || c.NotAfter.Before(now.Add(364*24*time.Hour)) {
		t.Errorf("valid from %v to %v", c.NotBefore, c.NotAfter)
	}
}
