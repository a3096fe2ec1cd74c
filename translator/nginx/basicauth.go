package nginx

import (
	"fmt"
	"regexp"

	"github.com/rukou/rukou/translator/ir"
)

// BasicAuth is a basic authentication as read (auth-type: basic). The
// frontend reads its Secret into Credentials.
type BasicAuth struct {
	// Secret is the namespace/name of the Secret that holds the users.
	Secret string
	// Map says the Secret's keys are the users and its values their
	// hashes (auth-secret-type: auth-map); otherwise its key "auth" holds
	// htpasswd lines (auth-file).
	Map   bool
	Realm string
	// Credentials are the Secret's users, set by the frontend.
	Credentials *ir.Credentials
}

// The forms ingress-nginx accepts for the Secret's name and the realm
// (its BasicCharsRegex and CharsWithSpace): a realm of these characters
// needs no escaping in the quoted WWW-Authenticate header.
var (
	authSecretChars = regexp.MustCompile(`^[/\-._~a-zA-Z0-9:]*$`)
	authRealmChars  = regexp.MustCompile(`^[/\-._~a-zA-Z0-9: ]*$`)
)

// basicAuthFail is the end of every message that refuses a basic
// authentication.
const basicAuthFail = "; the Ingress's paths answer 503 rather than serve without authentication"

// readBasicAuth reads auth-type and the annotations that go with it. As in
// ingress-nginx, a setting that cannot be used denies the Ingress's paths
// (503); digest authentication is not supported, and refused the same way.
func readBasicAuth(r *reader, a *Annotations) {
	typ, ok := r.get("auth-type")
	if !ok {
		return
	}
	fail := func(name, format string, args ...any) {
		if a.Unservable == nil {
			a.Unservable = &Issue{name, ir.ReasonInvalidAnnotation, fmt.Sprintf(format, args...) + basicAuthFail}
		}
	}
	switch typ {
	case "basic":
	case "digest":
		if a.Unservable == nil {
			a.Unservable = &Issue{"auth-type", ir.ReasonAuthUnsupported, "digest authentication is not supported" + basicAuthFail}
		}
		return
	default:
		fail("auth-type", "%q is not basic or digest", typ)
		return
	}
	b := &BasicAuth{}
	switch st, _ := r.get("auth-secret-type"); st {
	case "", "auth-file":
	case "auth-map":
		b.Map = true
	default:
		fail("auth-secret-type", "%q is not auth-file or auth-map", st)
		return
	}
	secret, err := authSecretName(r)
	if err != nil {
		fail("auth-secret", "%v", err)
		return
	}
	b.Secret = secret
	if realm, ok := r.get("auth-realm"); ok {
		if !authRealmChars.MatchString(realm) || realm == "off" {
			// nginx's auth_basic takes the realm "off" to mean no
			// authentication at all.
			fail("auth-realm", "%q is not a realm of the characters ingress-nginx allows", realm)
			return
		}
		b.Realm = realm
	}
	a.policy().BasicAuth = b
}

// authSecretName reads auth-secret (see secretName).
func authSecretName(r *reader) (string, error) {
	v, _ := r.get("auth-secret")
	if v == "" {
		return "", fmt.Errorf("auth-type basic needs auth-secret")
	}
	return secretName(r, v)
}

// readSatisfy reads satisfy: "any" admits a request that passes the
// address ranges or an authentication, "all" (the default) needs every
// one. ingress-nginx ignores any other value.
func readSatisfy(r *reader, a *Annotations) {
	switch v, _ := r.get("satisfy"); v {
	case "any":
		a.policy().SatisfyAny = true
	case "all", "":
	default:
		r.invalid("satisfy", `is not "any" or "all"`, "all applies")
	}
}
