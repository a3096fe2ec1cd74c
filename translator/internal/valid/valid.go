// Package valid holds the checks that the frontends share for values they
// place in configuration: host names, tokens, URI paths. Every value that
// reaches Envoy has passed one of them.
//
// It may import only the standard library and k8s.io/apimachinery's
// validation.
package valid

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Host reports whether host (lower case) is a DNS name or a one-label
// wildcard such as "*.example.com", as Ingress rules allow: exactly what
// Kubernetes' validation.IsDNS1123Subdomain and IsWildcardDNS1123Subdomain
// accept (a test compares them), without their regular expressions, since
// every host of every rebuild passes here.
func Host(host string) bool {
	if len(host) > validation.DNS1123SubdomainMaxLength {
		return false
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		host = rest
	}
	for label := range strings.SplitSeq(host, ".") {
		if !dnsLabel(label) {
			return false
		}
	}
	return true
}

// dnsLabel reports whether s is lower-case letters, digits and hyphens,
// starting and ending with a letter or digit (its length is not bounded
// here, as IsDNS1123Subdomain does not bound it).
func dnsLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Token reports whether s is an RFC 7230 token: a valid header or cookie
// name.
func Token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Printable reports whether s holds only printable ASCII.
func Printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// URIChars reports whether s holds only characters of a URI path segment
// (RFC 3986 pchar, with %-escapes) and those of extra.
func URIChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0, strings.IndexByte(extra, c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
