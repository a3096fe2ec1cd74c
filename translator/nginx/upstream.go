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
	// Expires, when not zero, gives the cookie an Expires attribute that
	// long after the response.
	Expires time.Duration
	// Domain and SameSite are the cookie's attributes of those names;
	// empty leaves them out.
	Domain, SameSite string
	// Secure marks the cookie Secure on plain HTTP too; over TLS it always
	// is.
	Secure bool
	// Partitioned adds the attribute of that name (CHIPS).
	Partitioned bool
	// Persistent keeps a session on its endpoint whatever endpoints join
	// (affinity-mode: persistent).
	Persistent bool
	// ChangeOnFailure sets the cookie again for the endpoint that answers
	// when the session's endpoint failed and another one was tried
	// (session-cookie-change-on-failure).
	ChangeOnFailure bool
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
			fmt.Sprintf("backend-protocol %s is refused: Envoy speaks neither FastCGI nor AJP; the Ingress's paths answer 503", p)}
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
	aff := &Affinity{CookieName: DefaultCookieName}
	switch mode, _ := r.get("affinity-mode"); mode {
	case "", "balanced":
		// Envoy's ring hash moves some sessions when endpoints change, as
		// ingress-nginx's "balanced" mode does.
	case "persistent":
		aff.Persistent = true
	default:
		r.invalid("affinity-mode", `is not "balanced" or "persistent"`, "sessions are balanced")
	}
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
	// ingress-nginx's Expires comes from expires and its Max-Age from
	// max-age. Envoy's cookies need a lifetime, written as Max-Age: from
	// max-age when given, else from expires (the same lifetime).
	if n, ok := r.number("session-cookie-expires", 0, maxSeconds); ok {
		aff.Expires = time.Duration(n) * time.Second
		aff.MaxAge = aff.Expires
	}
	if n, ok := r.number("session-cookie-max-age", 0, maxSeconds); ok {
		aff.MaxAge = time.Duration(n) * time.Second
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
	aff.ChangeOnFailure = r.boolean("session-cookie-change-on-failure", false)
}

// Balance is how a backend picks an endpoint among its own (load-balance).
type Balance string

const (
	// BalanceRoundRobin takes the endpoints in turn, the default.
	BalanceRoundRobin Balance = "round_robin"
	// BalanceEWMA prefers the endpoints that answer fastest. Envoy has no
	// latency average; its closest policy is least request, which picks
	// the endpoint with the fewest requests in flight (of two drawn at
	// random), so a slow endpoint, which holds its requests longer, gets
	// fewer.
	BalanceEWMA Balance = "ewma"
)

// balance reads a load-balance value; ok is false when rukou cannot honour
// it, after reporting it.
func (r *reader) balance(name string) (b Balance, ok bool) {
	v, set := r.get(name)
	if !set {
		return "", false
	}
	switch b := Balance(strings.ToLower(v)); b {
	case BalanceRoundRobin, BalanceEWMA:
		return b, true
	}
	r.invalid(name, "is not round_robin or ewma (chash and sticky_* come from upstream-hash-by and affinity)", "using round_robin")
	return BalanceRoundRobin, true
}

func readLoadBalance(r *reader, a *Annotations) {
	if b, ok := r.balance("load-balance"); ok {
		a.Balance = b
	}
}

// loadBalanceNote is the docs' note on load-balance, annotation and key.
const loadBalanceNote = "`round_robin`; `ewma` is Envoy's least request (fewest requests in flight of two endpoints drawn at random), the closest Envoy has to a latency average"
