package nginx

import (
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// Policy is what one Ingress asks of each request its routes serve. Zero
// fields ask nothing.
type Policy struct {
	// UpstreamHost replaces the Host header sent to the backend
	// (upstream-vhost).
	UpstreamHost string
	// ForwardedPrefix is sent to the backend as X-Forwarded-Prefix.
	ForwardedPrefix string
	// ReadTimeout bounds each silence of the backend; SendTimeout bounds a
	// stream that stays idle (see docs/annotations.md).
	ReadTimeout time.Duration
	SendTimeout time.Duration
	// MaxBodyBytes, when set, replaces the default limit of the request
	// body (the ConfigMap's proxy-body-size): a larger body gets 413; zero
	// means no limit.
	// (proxy-body-size).
	MaxBodyBytes *uint64
	// Tuning is what the proxy tuning annotations ask (limit-rate,
	// proxy-request-buffering, connection-proxy-header).
	Tuning Tuning
	// Retry, when set, replaces the ConfigMap's proxy-next-upstream
	// settings.
	Retry     *Retry
	RateLimit *RateLimit
	// GlobalRateLimit, when set, counts requests for the whole Ingress
	// across every proxy (global-rate-limit).
	GlobalRateLimit *GlobalRateLimit
	Access          *ir.Access
	CORS            *CORS
	Affinity        *Affinity
	// HashBy, when set and without Affinity, picks the endpoint by the
	// hash of these parts of the request (upstream-hash-by).
	HashBy []ir.HashKey
	// NoAccessLog leaves the Ingress's requests out of the access log
	// (enable-access-log: "false").
	NoAccessLog bool
	// ExternalAuth, when set, asks an auth service about each request
	// (auth-url); NoGlobalAuth exempts the Ingress from the ConfigMap's
	// global-auth-url (enable-global-auth: "false").
	ExternalAuth *ExternalAuth
	NoGlobalAuth bool
	// BasicAuth, when set, checks each request's Basic credentials
	// (auth-type: basic).
	BasicAuth *BasicAuth
	// SatisfyAny admits a request that passes the address ranges or any
	// authentication (satisfy: any).
	SatisfyAny bool
	// ErrorPages, when set, is what the Ingress asks of its backends'
	// error responses.
	ErrorPages *ErrorPages
	// Trace, when set, turns tracing on or off for the Ingress
	// (enable-opentelemetry), whatever the ConfigMap says; TraceOperation
	// names its spans (opentelemetry-operation-name).
	Trace          *bool
	TraceOperation string
	// Mirror, when set, sends a copy of each request to another server
	// (mirror-target).
	Mirror *Mirror
	// ResponseRewrite, when set, rewrites the backends' Location, Refresh
	// and Set-Cookie headers (proxy-redirect-*, proxy-cookie-*).
	ResponseRewrite *ir.ResponseRewrite
	// CustomHeaders names the ConfigMap (namespace/name) whose entries are
	// set on every response (custom-headers); the frontend reads it into
	// ResponseHeaders.
	CustomHeaders   string
	ResponseHeaders []ir.Header
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

// AllOrigins reports whether CORS allows every origin ("*").
func (c *CORS) AllOrigins() bool {
	return len(c.AllowOrigins) == 1 && c.AllowOrigins[0] == "*"
}

// ingress-nginx's CORS defaults.
const (
	defaultCORSMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	defaultCORSHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	defaultCORSMaxAge  = 1728000
)

// The forms ingress-nginx accepts for CORS values. Values that pass reach
// response headers as they are, so none may hold anything but these
// characters.
var (
	// An origin of any scheme (capacitor://, tauri://, as apps in web
	// views send), or null, as ingress-nginx's corsOriginRegex.
	corsOrigin        = regexp.MustCompile(`^(?:[a-z]+://(\*\.)?[A-Za-z0-9\-.]*(:[0-9]+)?|null)$`)
	corsMethods       = regexp.MustCompile(`^([A-Za-z]+,?\s?)+$`)
	corsHeaderList    = regexp.MustCompile(`^([A-Za-z0-9\-_]+,?\s?)+$`)
	corsExposeHeaders = regexp.MustCompile(`^(([A-Za-z0-9\-_]+|\*),?\s?)+$`)
	bodySize          = regexp.MustCompile(`^([0-9]+)([kKmMgG]?)$`)
)

// readUpstreamHost reads upstream-vhost: a host name or address,
// optionally with a port.
func readUpstreamHost(r *reader, a *Annotations) {
	v, ok := r.get("upstream-vhost")
	if !ok {
		return
	}
	if !hostWithPort(v) {
		r.invalid("upstream-vhost", "is not a host name with an optional port", "the Host header is kept")
		return
	}
	a.policy().UpstreamHost = v
}

func readAccessLogAnnotation(r *reader, a *Annotations) {
	if !r.boolean("enable-access-log", true) {
		a.policy().NoAccessLog = true
	}
}

// readForwardedPrefix reads x-forwarded-prefix, which ingress-nginx sets
// only where it rewrites the path.
func readForwardedPrefix(r *reader, a *Annotations) {
	v := r.pathValue("x-forwarded-prefix", "/", "no X-Forwarded-Prefix header")
	if v != "" && a.RewriteTarget == "" {
		r.issue("x-forwarded-prefix", ir.ReasonAnnotationIgnored, "applies only with rewrite-target, as in ingress-nginx; no X-Forwarded-Prefix header")
		return
	}
	if v != "" {
		a.policy().ForwardedPrefix = v
	}
}

func readReadTimeout(r *reader, a *Annotations) {
	if d := r.seconds("proxy-read-timeout"); d != 0 {
		a.policy().ReadTimeout = d
	}
}

func readSendTimeout(r *reader, a *Annotations) {
	if d := r.seconds("proxy-send-timeout"); d != 0 {
		a.policy().SendTimeout = d
	}
}

// readBodySize reads proxy-body-size in nginx's units (k, m, g: powers of
// 1024). Zero means no limit; a value that cannot be used leaves the
// default.
func readBodySize(r *reader, a *Annotations) {
	if n, ok := r.size("proxy-body-size", "the default applies (the ConfigMap's proxy-body-size, else 1m)"); ok {
		a.policy().MaxBodyBytes = &n
	}
}

// readRateLimit reads limit-rps, limit-rpm, limit-burst-multiplier,
// limit-connections and the addresses exempt from them.
func readRateLimit(r *reader, a *Annotations) {
	// Bounds keep the burst (rate times multiplier, plus one) within
	// Envoy's 32-bit token counts.
	const maxRate, maxMultiplier = 1 << 20, 1 << 10
	rl := &RateLimit{BurstMultiplier: 5}
	// 0, as in ingress-nginx, means no limit.
	if n, ok := r.number("limit-rps", 0, maxRate); ok {
		rl.RPS = uint32(n)
	}
	if n, ok := r.number("limit-rpm", 0, maxRate); ok {
		rl.RPM = uint32(n)
	}
	if n, ok := r.number("limit-burst-multiplier", 1, maxMultiplier); ok {
		rl.BurstMultiplier = uint32(n)
	}
	if n, ok := r.number("limit-connections", 0, maxRate); ok && n > 0 {
		rl.Connections = uint32(n)
		rl.Scope = r.ingress
	}
	// An exemption that cannot be read exempts nobody: the limit still
	// holds for everyone.
	rl.Exempt, _ = r.aliased("limit-allowlist", "limit-whitelist", "nobody is exempt")
	if rl.RPS == 0 && rl.RPM == 0 && rl.Connections == 0 {
		return
	}
	a.policy().RateLimit = rl
}

// readAccess reads the client address ranges. Each of the two lists that
// the Ingress sets replaces the ConfigMap's (whitelist-source-range,
// denylist-source-range), as in ingress-nginx. A range that cannot be read
// makes every request of the Ingress answer 403, rather than let through
// clients the annotation meant to keep out.
func readAccess(r *reader, a *Annotations) {
	const fallback = "every request of the Ingress answers 403"
	_, allowSet := r.get("allowlist-source-range")
	if _, former := r.get("whitelist-source-range"); former {
		allowSet = true
	}
	_, denySet := r.get("denylist-source-range")
	if !allowSet && !denySet {
		return // the ConfigMap's ranges, if any, stay
	}
	d := r.defaults
	allow, deny, denyAll := d.Allow, d.Deny, d.DenyAll
	if allowSet {
		var ok bool
		allow, ok = r.aliased("allowlist-source-range", "whitelist-source-range", fallback)
		denyAll = denyAll && denySet || !ok
	}
	if denySet {
		var ok bool
		deny, _, ok = r.addresses("denylist-source-range", fallback)
		denyAll = denyAll && allowSet || !ok
	}
	a.policy().Access = accessOf(allow, deny, denyAll)
}

// defaultAccess is the ConfigMap's access rule, nil when it has none.
func defaultAccess(d *Settings) *ir.Access { return accessOf(d.Allow, d.Deny, d.DenyAll) }

func accessOf(allow, deny []netip.Prefix, denyAll bool) *ir.Access {
	switch {
	case denyAll:
		return &ir.Access{DenyAll: true}
	case len(allow) > 0 || len(deny) > 0:
		return &ir.Access{Allow: allow, Deny: deny}
	}
	return nil
}

// readCORS reads enable-cors and the cors-* annotations, with
// ingress-nginx's defaults. Values that do not have the documented form
// fall back to the default, and origins that do not are left out.
func readCORS(r *reader, a *Annotations) {
	if !r.boolean("enable-cors", false) {
		return
	}
	c := &CORS{
		AllowOrigins:     []string{"*"},
		AllowMethods:     r.pattern("cors-allow-methods", corsMethods, defaultCORSMethods),
		AllowHeaders:     r.pattern("cors-allow-headers", corsHeaderList, defaultCORSHeaders),
		ExposeHeaders:    r.pattern("cors-expose-headers", corsExposeHeaders, ""),
		AllowCredentials: r.boolean("cors-allow-credentials", true),
		MaxAge:           defaultCORSMaxAge,
	}
	if n, ok := r.number("cors-max-age", 0, math.MaxInt32); ok {
		c.MaxAge = uint32(n)
	}
	// An empty value (only spaces, trimmed) allows every origin, as in
	// ingress-nginx, which reads it as no value.
	if v, ok := r.get("cors-allow-origin"); ok && v != "" {
		c.AllowOrigins = r.origins(v)
	}
	if len(c.AllowOrigins) == 0 {
		r.issue("cors-allow-origin", ir.ReasonInvalidAnnotation, "no valid origin; CORS is off")
		return
	}
	a.policy().CORS = c
}

// origins reads cors-allow-origin's comma-separated list.
func (r *reader) origins(v string) []string {
	var out []string
	for _, origin := range strings.Split(v, ",") {
		origin = strings.TrimSpace(origin)
		switch {
		case origin == "*":
			return []string{"*"}
		case origin == "":
		case corsOrigin.MatchString(origin):
			out = append(out, strings.ToLower(origin))
		default:
			r.issue("cors-allow-origin", ir.ReasonInvalidAnnotation, "origin %q is not scheme://host[:port] (a lowercase scheme; the host may start with *.) nor null; left out", origin)
		}
	}
	return out
}
