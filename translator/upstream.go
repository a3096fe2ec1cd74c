package translator

import (
	"fmt"
	"strings"
	"time"
)

// affinityAnnotations are the session affinity annotations, read on primary
// and canary Ingresses alike.
var affinityAnnotations = []string{
	"affinity", "affinity-mode", "session-cookie-change-on-failure",
	"session-cookie-conditional-samesite-none", "session-cookie-domain", "session-cookie-expires",
	"session-cookie-max-age", "session-cookie-name", "session-cookie-partitioned", "session-cookie-path",
	"session-cookie-samesite", "session-cookie-secure",
}

// upstreamAnnotations are the annotations that shape the connection to a
// backend: each distinct combination is its own Envoy cluster.
var upstreamAnnotations = append([]string{"backend-protocol", "proxy-connect-timeout"}, affinityAnnotations...)

// defaultCookieName is ingress-nginx's session cookie name.
const defaultCookieName = "INGRESSCOOKIE"

// upstream reads the upstream annotations into a.
func (r *annotationReader) upstream(a *annotations) {
	a.protocol = ProtocolHTTP
	if v, ok := r.get("backend-protocol"); ok {
		switch p := BackendProtocol(strings.ToUpper(v)); p {
		case ProtocolHTTP, ProtocolHTTPS, ProtocolGRPC, ProtocolGRPCS:
			a.protocol = p
		case "AUTO_HTTP":
			r.issue("backend-protocol", ReasonAnnotationIgnored, "AUTO_HTTP (the client's scheme) is not supported; using HTTP")
		case "FCGI", "AJP":
			a.unservable = &unservable{"backend-protocol", ReasonBackendProtocol,
				fmt.Sprintf("backend-protocol %s is not supported; the Ingress's paths answer 503", p)}
		default:
			r.invalid("backend-protocol", "is not HTTP, HTTPS, GRPC, GRPCS, FCGI or AJP", "using HTTP")
		}
	}
	a.connectTimeout = r.seconds("proxy-connect-timeout")
	if aff := r.affinity(); aff != nil {
		a.policy = &Policy{Affinity: aff}
	}
}

// affinity reads affinity: cookie and the session cookie's settings.
func (r *annotationReader) affinity() *Affinity {
	v, ok := r.get("affinity")
	if !ok {
		return nil
	}
	if v != "cookie" {
		r.invalid("affinity", `is not "cookie"`, "no session affinity")
		return nil
	}
	if mode, ok := r.get("affinity-mode"); ok && mode != "balanced" {
		// Envoy's ring hash moves some sessions when endpoints change, as
		// ingress-nginx's "balanced" mode does.
		r.issue("affinity-mode", ReasonAnnotationIgnored, "%q is not supported; sessions are balanced (some move when endpoints change)", mode)
	}
	aff := &Affinity{CookieName: defaultCookieName}
	if name, ok := r.get("session-cookie-name"); ok {
		if isToken(name) {
			aff.CookieName = name
		} else {
			r.invalid("session-cookie-name", "is not a cookie name", "using "+defaultCookieName)
		}
	}
	if p, ok := r.get("session-cookie-path"); ok {
		if strings.HasPrefix(p, "/") && validURIChars(p, "/") && !strings.Contains(p, ";") {
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
	if d, ok := r.get("session-cookie-domain"); ok {
		if d = strings.TrimPrefix(strings.ToLower(d), "."); validHost(d) && !strings.HasPrefix(d, "*.") {
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
		r.issue("session-cookie-conditional-samesite-none", ReasonAnnotationIgnored,
			"Envoy does not look at the User-Agent; SameSite=None is sent to every client")
	}
	aff.Secure = r.boolean("session-cookie-secure", false)
	aff.Partitioned = r.boolean("session-cookie-partitioned", false)
	if r.boolean("session-cookie-change-on-failure", false) {
		r.issue("session-cookie-change-on-failure", ReasonAnnotationIgnored,
			"Envoy keeps the cookie; while its endpoint is gone, the ring sends it to another one")
	}
	return aff
}

// isToken reports whether s is an RFC 7230 token: a valid header or cookie
// name.
func isToken(s string) bool {
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

// upstreamKind is what, besides the Service port, makes a backend its own
// Envoy cluster.
type upstreamKind struct {
	protocol       BackendProtocol
	affinity       bool
	connectTimeout time.Duration
}

// kind returns the upstream settings of an Ingress's backends.
func (a *annotations) kind() upstreamKind {
	k := upstreamKind{protocol: a.protocol, connectTimeout: a.connectTimeout}
	if k.protocol == "" {
		k.protocol = ProtocolHTTP
	}
	k.affinity = a.policy != nil && a.policy.Affinity != nil
	return k
}

// backendName names the cluster of a Service port with upstream settings:
// namespace/service/port, and "/" with the settings that differ from plain
// HTTP, joined by "+" (default/grpc/50051/grpc+affinity+connect-10s).
func backendName(namespace, service string, port int32, k upstreamKind) string {
	name := fmt.Sprintf("%s/%s/%d", namespace, service, port)
	var parts []string
	if k.protocol != ProtocolHTTP && k.protocol != "" {
		parts = append(parts, strings.ToLower(string(k.protocol)))
	}
	if k.affinity {
		parts = append(parts, "affinity")
	}
	if k.connectTimeout != 0 {
		parts = append(parts, fmt.Sprintf("connect-%ds", int64(k.connectTimeout/time.Second)))
	}
	if len(parts) > 0 {
		name += "/" + strings.Join(parts, "+")
	}
	return name
}
