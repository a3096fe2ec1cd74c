package translator

import (
	"net/netip"
	"time"
)

// The parts of the routing model that ingress-nginx's annotations add. Each
// is a plain value checked when the annotation was read; the Envoy stage only
// renders it.

// BackendProtocol is how Envoy speaks to a backend's endpoints.
type BackendProtocol string

const (
	// ProtocolHTTP is HTTP/1.1 in clear text, the default.
	ProtocolHTTP BackendProtocol = "HTTP"
	// ProtocolHTTPS is HTTP/1.1 over TLS; the backend's certificate is not
	// verified, as ingress-nginx does not verify it by default.
	ProtocolHTTPS BackendProtocol = "HTTPS"
	// ProtocolGRPC is HTTP/2 in clear text (h2c).
	ProtocolGRPC BackendProtocol = "GRPC"
	// ProtocolGRPCS is HTTP/2 over TLS, not verified.
	ProtocolGRPCS BackendProtocol = "GRPCS"
)

// Redirect is a redirect to a fixed URL (permanent-redirect,
// temporal-redirect). The request's path and query are not kept.
type Redirect struct {
	// Code is 301, 302, 303, 307 or 308.
	Code uint32
	// Scheme is "http" or "https"; Host a DNS name or an IP address; Port
	// zero when the URL names none.
	Scheme string
	Host   string
	Port   uint32
	// PathAndQuery is the URL's path ("/" when it has none) and its query,
	// if any; empty when the redirect keeps the request's own path and
	// query (nginx's $request_uri).
	PathAndQuery string
}

// Rewrite replaces the whole path with Target (rewrite-target), in which $1
// to $9 stand for the groups that Pattern captured.
type Rewrite struct {
	// Pattern is the rule's path as a regular expression, matched
	// case-insensitively from the start of the path.
	Pattern string
	// Target is the annotation's value.
	Target string
	// Groups is the number of capturing groups in Pattern; a reference to
	// a group beyond it stands for the empty string, as in nginx.
	Groups int
}

// Canary sends some requests of a route to another backend: those whose
// header says so, then those whose cookie says so, then a share by weight.
type Canary struct {
	// Backend is the canary's Backend.
	Backend string
	// Header, when set, names the request header that decides first: with
	// HeaderValue, that value sends the request to the canary; with
	// HeaderPattern, a value that the regular expression matches does;
	// with neither, "always" does and "never" keeps it on the primary.
	Header        string
	HeaderValue   string
	HeaderPattern string
	// Cookie, when set, names the cookie that decides next: "always" or
	// "never".
	Cookie string
	// Weight out of WeightTotal requests go to the canary, of those the
	// header and the cookie left undecided.
	Weight      uint32
	WeightTotal uint32
	// Legacy picks by weight on every request, even with session
	// affinity. By default the route's session cookie picks, so a client
	// that sends it stays on one side (the request that got the cookie
	// was placed by chance).
	Legacy bool
	// Source is the canary Ingress, as namespace/name.
	Source string
}

// Policy is what one Ingress asks of each request its routes serve. Zero
// fields ask nothing.
type Policy struct {
	// UpstreamHost replaces the Host header sent to the backend
	// (upstream-vhost).
	UpstreamHost string
	// ForwardedPrefix is sent to the backend as X-Forwarded-Prefix.
	ForwardedPrefix string
	// ReadTimeout bounds the wait for the backend's whole response;
	// SendTimeout bounds a stream that stays idle (see docs/annotations.md).
	ReadTimeout time.Duration
	SendTimeout time.Duration
	// MaxBodyBytes, when not zero, answers 413 to a larger request body
	// (proxy-body-size).
	MaxBodyBytes uint64
	RateLimit    *RateLimit
	Access       *Access
	CORS         *CORS
	Affinity     *Affinity
}

// RateLimit limits the requests of each client address on each Envoy, with
// a burst of the rate times BurstMultiplier, and the requests a client may
// have in flight at once; requests over a limit get 503.
type RateLimit struct {
	// RPS and RPM are requests per second and per minute; zero means no
	// limit of that kind.
	RPS, RPM        uint32
	BurstMultiplier uint32
	// Connections bounds the requests of one client in flight at once on
	// one Envoy, across the routes of Scope (the Ingress's namespace/name);
	// zero means no bound.
	Connections uint32
	Scope       string
	// Exempt are client addresses that are never limited.
	Exempt []netip.Prefix
}

// Access decides by client address which requests are served; the others
// get 403. Deny is checked first; a non-empty Allow then admits only its
// ranges.
type Access struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
	// DenyAll refuses every request: a source range annotation could not
	// be read, and rukou fails closed.
	DenyAll bool
}

// CORS answers cross-origin requests as ingress-nginx's enable-cors does.
type CORS struct {
	// AllowOrigins are "*" alone, or origins such as
	// "https://example.com:8443", where the host may start with "*." for
	// exactly one label.
	AllowOrigins     []string
	AllowMethods     string
	AllowHeaders     string
	ExposeHeaders    string
	AllowCredentials bool
	// MaxAge is in seconds.
	MaxAge uint32
}

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
