package nginx

import (
	"fmt"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// Protocol is how Envoy speaks to a backend's endpoints (backend-protocol).
type Protocol string

const (
	// ProtocolHTTP is HTTP/1.1 in clear text, the default.
	ProtocolHTTP Protocol = "HTTP"
	// ProtocolHTTPS is HTTP/1.1 over TLS; the backend's certificate is not
	// verified, as ingress-nginx does not verify it by default.
	ProtocolHTTPS Protocol = "HTTPS"
	// ProtocolGRPC is HTTP/2 in clear text (h2c).
	ProtocolGRPC Protocol = "GRPC"
	// ProtocolGRPCS is HTTP/2 over TLS, not verified.
	ProtocolGRPCS Protocol = "GRPCS"
	// ProtocolAutoHTTP is the client's scheme: HTTP/1.1 over TLS, not
	// verified, for requests that came over TLS, else in clear text
	// (nginx's $scheme in proxy_pass).
	ProtocolAutoHTTP Protocol = "AUTO_HTTP"
)

// DefaultCookieName is ingress-nginx's session cookie name.
const DefaultCookieName = "INGRESSCOOKIE"

// Affinity keeps a client on one endpoint with a cookie that Envoy sets
// when the request has none.
type Affinity struct {
	CookieName string
	// CookiePath is the cookie's Path; empty means the route's path.
	CookiePath string
	// MaxAge is the cookie's lifetime; zero makes a session cookie.
	MaxAge time.Duration
	// Domain and SameSite are the cookie's attributes of those names;
	// empty leaves them out.
	Domain, SameSite string
	// Secure marks the cookie Secure on plain HTTP too; over TLS it always
	// is.
	Secure bool
	// Partitioned adds the attribute of that name (CHIPS).
	Partitioned bool
}

func readProtocol(r *reader, a *Annotations) {
	v, ok := r.get("backend-protocol")
	if !ok {
		return
	}
	switch p := Protocol(strings.ToUpper(v)); p {
	case ProtocolHTTP, ProtocolHTTPS, ProtocolGRPC, ProtocolGRPCS, ProtocolAutoHTTP:
		a.Protocol = p
	case "FCGI", "AJP":
		a.Unservable = &Issue{"backend-protocol", ir.ReasonBackendProtocol,
			fmt.Sprintf("backend-protocol %s is not supported; the Ingress's paths answer 503", p)}
	default:
		r.invalid("backend-protocol", "is not HTTP, HTTPS, GRPC, GRPCS, FCGI or AJP", "using HTTP")
	}
}

// readServiceUpstream reads service-upstream; the Service's ClusterIP
// then stands for its endpoints, so that kube-proxy balances.
func readServiceUpstream(r *reader, a *Annotations) {
	a.ServiceUpstream = r.boolean("service-upstream", false)
}

func readConnectTimeout(r *reader, a *Annotations) {
	a.ConnectTimeout = r.seconds("proxy-connect-timeout")
}

// readAuthentication makes the Ingress unservable when it asks for an
// authentication rukou does not enforce yet: serving its paths without it
// would expose what they protect. The first such annotation, by name,
// gives the one diagnostic.
func readAuthentication(r *reader, a *Annotations) {
	for _, name := range []string{"auth-tls-secret", "auth-type"} {
		if _, ok := r.get(name); ok && a.Unservable == nil {
			a.Unservable = &Issue{name, ir.ReasonAuthUnsupported,
				name + " asks for an authentication rukou does not support yet; the Ingress's paths answer 503 rather than serve without it"}
		}
	}
}

// readAffinity reads affinity: cookie and the session cookie's settings.
func readAffinity(r *reader, a *Annotations) {
	v, ok := r.get("affinity")
	if !ok {
		return
	}
	if v != "cookie" {
		r.invalid("affinity", `is not "cookie"`, "no session affinity")
		return
	}
	if mode, ok := r.get("affinity-mode"); ok && mode != "balanced" {
		// Envoy's ring hash moves some sessions when endpoints change, as
		// ingress-nginx's "balanced" mode does.
		r.issue("affinity-mode", ir.ReasonAnnotationIgnored, "%q is not supported; sessions are balanced (some move when endpoints change)", mode)
	}
	aff := &Affinity{CookieName: DefaultCookieName}
	if name, ok := r.get("session-cookie-name"); ok {
		if valid.Token(name) {
			aff.CookieName = name
		} else {
			r.invalid("session-cookie-name", "is not a cookie name", "using "+DefaultCookieName)
		}
	}
	if p, ok := r.get("session-cookie-path"); ok {
		if strings.HasPrefix(p, "/") && valid.URIChars(p, "/") && !strings.Contains(p, ";") {
			aff.CookiePath = p
		} else {
			r.invalid("session-cookie-path", "is not a path starting with /", "using the rule's path")
		}
	}
	// ingress-nginx sets both Expires and Max-Age; Envoy sets Max-Age, from
	// max-age when given, else from expires.
	for _, name := range []string{"session-cookie-expires", "session-cookie-max-age"} {
		if n, ok := r.number(name, 0, maxSeconds); ok {
			aff.MaxAge = time.Duration(n) * time.Second
		}
	}
	r.cookieAttributes(aff)
	a.policy().Affinity = aff
}

// cookieAttributes reads the session cookie's Domain, SameSite, Secure and
// Partitioned, and reports what Envoy cannot do.
func (r *reader) cookieAttributes(aff *Affinity) {
	if d, ok := r.get("session-cookie-domain"); ok {
		if d = strings.TrimPrefix(strings.ToLower(d), "."); valid.Host(d) && !strings.HasPrefix(d, "*.") {
			aff.Domain = d
		} else {
			r.invalid("session-cookie-domain", "is not a domain name", "the cookie has no Domain")
		}
	}
	if v, ok := r.get("session-cookie-samesite"); ok {
		switch strings.ToLower(v) {
		case "none":
			aff.SameSite = "None"
		case "lax":
			aff.SameSite = "Lax"
		case "strict":
			aff.SameSite = "Strict"
		default:
			r.invalid("session-cookie-samesite", "is not None, Lax or Strict", "the cookie has no SameSite")
		}
	}
	if r.boolean("session-cookie-conditional-samesite-none", false) && aff.SameSite == "None" {
		r.issue("session-cookie-conditional-samesite-none", ir.ReasonAnnotationIgnored,
			"Envoy does not look at the User-Agent; SameSite=None is sent to every client")
	}
	aff.Secure = r.boolean("session-cookie-secure", false)
	aff.Partitioned = r.boolean("session-cookie-partitioned", false)
	if r.boolean("session-cookie-change-on-failure", false) {
		r.issue("session-cookie-change-on-failure", ir.ReasonAnnotationIgnored,
			"Envoy keeps the cookie; while its endpoint is gone, the ring sends it to another one")
	}
}
