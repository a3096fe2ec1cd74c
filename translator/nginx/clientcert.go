package nginx

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// VerifyClient is how a host asks for client certificates
// (auth-tls-verify-client), as nginx's ssl_verify_client.
type VerifyClient string

// The values of auth-tls-verify-client.
const (
	// VerifyOn requires a certificate that verifies: others get 400.
	VerifyOn VerifyClient = "on"
	// VerifyOff asks for none.
	VerifyOff VerifyClient = "off"
	// VerifyOptional admits clients without a certificate; one that does
	// not verify gets 400.
	VerifyOptional VerifyClient = "optional"
	// VerifyOptionalNoCA admits every client, with or without a
	// certificate that verifies, and tells the backend which.
	VerifyOptionalNoCA VerifyClient = "optional_no_ca"
)

// ClientCert is client certificate authentication as read (auth-tls-*).
// It applies to the hosts of the Ingress that names them first; the
// frontend reads the Secret.
type ClientCert struct {
	// Secret is the namespace/name of the Secret whose ca.crt verifies
	// clients (and whose ca.crl, when present, revokes some).
	Secret string
	Verify VerifyClient
	// Depth is how many certificates may stand between the client's and
	// a CA of the Secret (auth-tls-verify-depth, nginx's ssl_verify_depth).
	Depth uint32
	// ErrorPage, when set, is where a client whose certificate fails is
	// redirected with 302 instead of getting 400: an http(s) URL or a path.
	ErrorPage string
	// PassCertificate sends the client's certificate to the backend.
	PassCertificate bool
	// MatchCN, when set, is an RE2 expression (after "CN=") that the
	// client certificate's subject must contain a match of, else 403.
	MatchCN string
}

// The forms ingress-nginx accepts for auth-tls-error-page (its
// redirectRegex): an http(s) URL or a path; "@name" is an nginx location.
var errorPageChars = regexp.MustCompile(`^((https?://)[A-Za-z0-9\-.]+(:\d+)?)?(/[A-Za-z0-9\-_.]+)*/?$`)

// clientCertFail ends every message that refuses client certificate
// authentication.
const clientCertFail = "; the Ingress's paths answer 503 rather than serve without client certificate authentication"

// readClientCert reads auth-tls-secret and the annotations that go with
// it. As in ingress-nginx, a value that cannot be used denies the
// Ingress's paths; a verify mode or depth that cannot be read falls back
// to "on" and 1.
func readClientCert(r *reader, a *Annotations) {
	v, ok := r.get("auth-tls-secret")
	if !ok {
		r.ignoredWithout("auth-tls-secret", "auth-tls-error-page", "auth-tls-match-cn", "auth-tls-pass-certificate-to-upstream", "auth-tls-verify-client", "auth-tls-verify-depth")
		return
	}
	fail := func(name, format string, args ...any) {
		if a.Unservable == nil {
			a.Unservable = &Issue{name, ir.ReasonInvalidAnnotation, fmt.Sprintf(format, args...) + clientCertFail}
		}
	}
	secret, err := secretName(r, v)
	if err != nil {
		fail("auth-tls-secret", "%v", err)
		return
	}
	c := &ClientCert{Secret: secret, Verify: VerifyOn, Depth: 1}
	if mode, ok := r.get("auth-tls-verify-client"); ok {
		switch m := VerifyClient(mode); m {
		case VerifyOn, VerifyOff, VerifyOptional, VerifyOptionalNoCA:
			c.Verify = m
		default:
			r.invalid("auth-tls-verify-client", "is not on, off, optional or optional_no_ca", "using on")
		}
	}
	if n, ok := r.number("auth-tls-verify-depth", 0, 100); ok && n > 0 {
		c.Depth = uint32(n)
	}
	if page, ok := r.get("auth-tls-error-page"); ok {
		if page == "" || !errorPageChars.MatchString(page) {
			fail("auth-tls-error-page", "%q is not an http(s) URL or a path", page)
			return
		}
		c.ErrorPage = page
	}
	if p, ok := r.get("auth-tls-pass-certificate-to-upstream"); ok {
		if p != "true" && p != "false" {
			fail("auth-tls-pass-certificate-to-upstream", "%q is not true or false", p)
			return
		}
		c.PassCertificate = p == "true"
	}
	if cn, ok := r.get("auth-tls-match-cn"); ok {
		expr, found := strings.CutPrefix(cn, "CN=")
		if _, err := regexp.Compile(expr); !found || err != nil {
			fail("auth-tls-match-cn", "%q is not \"CN=\" followed by a regular expression", cn)
			return
		}
		c.MatchCN = expr
	}
	a.ClientCert = c
}

// secretName reads a Secret's name or namespace/name of the Ingress's
// namespace; ingress-nginx refuses other namespaces unless its
// ConfigMap's allow-cross-namespace-resources says otherwise, which rukou
// does not support.
func secretName(r *reader, v string) (string, error) {
	ingressNS, _, _ := strings.Cut(r.ingress, "/")
	ns, name, found := strings.Cut(v, "/")
	if !found {
		ns, name = ingressNS, v
	}
	switch {
	case !authSecretChars.MatchString(v) || name == "" || ns == "" || strings.Contains(name, "/"):
		return "", fmt.Errorf("%q is not a Secret's name or namespace/name", v)
	case ns != ingressNS:
		return "", fmt.Errorf("%q is a Secret of another namespace, which ingress-nginx refuses (allow-cross-namespace-resources is not supported)", v)
	}
	return ns + "/" + name, nil
}
