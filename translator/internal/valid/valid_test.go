package valid

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// TestHostAgreesWithKubernetes checks Host against the validation the
// API server applies to Ingress hosts, on names built to hit each rule.
func TestHostAgreesWithKubernetes(t *testing.T) {
	hosts := []string{
		"", "a", "example.com", "a.b.c.d", "xn--bcher-kva.example", "1.2.3.4", "a-b.c-d",
		"-a.com", "a-.com", "a..com", ".a.com", "a.com.", "A.com", "a_b.com", "a b.com", "a.com:80",
		"*.example.com", "*.a", "*", "*.", "**.a.com", "a.*.com", "*.*.com", "*.-a.com", "*a.com",
		strings.Repeat("a", 63) + ".com", strings.Repeat("a", 64) + ".com",
		strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127) + "a",
		"*." + strings.Repeat("a.", 125) + "a", "*." + strings.Repeat("a.", 126) + "a",
		"é.com", "a\x00.com",
	}
	for _, h := range hosts {
		want := len(validation.IsDNS1123Subdomain(h)) == 0
		if strings.HasPrefix(h, "*.") {
			want = len(validation.IsWildcardDNS1123Subdomain(h)) == 0
		}
		if got := Host(h); got != want {
			t.Errorf("Host(%q) = %v, Kubernetes says %v", h, got, want)
		}
	}
}

// FuzzHostAgreesWithKubernetes runs the same comparison on any input.
func FuzzHostAgreesWithKubernetes(f *testing.F) {
	for _, s := range []string{"example.com", "*.example.com", "a-.b", "*.*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		want := len(validation.IsDNS1123Subdomain(h)) == 0
		if strings.HasPrefix(h, "*.") {
			want = len(validation.IsWildcardDNS1123Subdomain(h)) == 0
		}
		if got := Host(h); got != want {
			t.Errorf("Host(%q) = %v, Kubernetes says %v", h, got, want)
		}
	})
}
