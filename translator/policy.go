package translator

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// policyAnnotations are the annotations that act on each request of a route:
// headers, timeouts, body size, rate limits, client address ranges, CORS.
var policyAnnotations = []string{
	"allowlist-source-range", "cors-allow-credentials", "cors-allow-headers", "cors-allow-methods",
	"cors-allow-origin", "cors-expose-headers", "cors-max-age", "denylist-source-range", "enable-cors",
	"limit-allowlist", "limit-burst-multiplier", "limit-connections", "limit-rpm", "limit-rps", "limit-whitelist",
	"proxy-body-size", "proxy-read-timeout", "proxy-send-timeout", "upstream-vhost",
	"whitelist-source-range", "x-forwarded-prefix",
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
	corsOrigin        = regexp.MustCompile(`^https?://(\*\.)?[A-Za-z0-9\-.]+(:[0-9]+)?$`)
	corsMethods       = regexp.MustCompile(`^([A-Za-z]+,?\s?)+$`)
	corsHeaderList    = regexp.MustCompile(`^([A-Za-z0-9\-_]+,?\s?)+$`)
	corsExposeHeaders = regexp.MustCompile(`^(([A-Za-z0-9\-_]+|\*),?\s?)+$`)
	bodySize          = regexp.MustCompile(`^([0-9]+)([kKmMgG]?)$`)
)

// policy reads the policy annotations into a.policy, which stays nil when
// none applies.
func (r *annotationReader) policy(a *annotations) {
	p := &Policy{}
	if a.policy != nil {
		p = a.policy
	}
	p.UpstreamHost = r.upstreamHost()
	p.ForwardedPrefix = r.pathValue("x-forwarded-prefix", "/", "no X-Forwarded-Prefix header")
	if p.ForwardedPrefix != "" && a.rewriteTarget == "" {
		// ingress-nginx sets the header only where it rewrites the path.
		r.issue("x-forwarded-prefix", ReasonAnnotationIgnored, "applies only with rewrite-target, as in ingress-nginx; no X-Forwarded-Prefix header")
		p.ForwardedPrefix = ""
	}
	p.ReadTimeout = r.seconds("proxy-read-timeout")
	p.SendTimeout = r.seconds("proxy-send-timeout")
	p.MaxBodyBytes = r.bodySize()
	p.RateLimit = r.rateLimit()
	p.Access = r.access()
	p.CORS = r.cors()
	if reflect.ValueOf(*p).IsZero() {
		a.policy = nil
		return
	}
	a.policy = p
}

// upstreamHost reads upstream-vhost: a host name or address, optionally
// with a port.
func (r *annotationReader) upstreamHost() string {
	v, ok := r.get("upstream-vhost")
	if !ok {
		return ""
	}
	host, port := v, ""
	if h, p, found := strings.Cut(v, ":"); found && !strings.Contains(p, ":") {
		host, port = h, p
	}
	_, addrErr := netip.ParseAddr(strings.Trim(host, "[]"))
	okHost := addrErr == nil || (validHost(strings.ToLower(host)) && !strings.HasPrefix(host, "*."))
	if n, err := strconv.ParseUint(port, 10, 16); port != "" && (err != nil || n == 0) {
		okHost = false
	}
	if !okHost {
		r.invalid("upstream-vhost", "is not a host name with an optional port", "the Host header is kept")
		return ""
	}
	return v
}

// bodySize reads proxy-body-size in nginx's units (k, m, g: powers of
// 1024). Zero means no limit.
func (r *annotationReader) bodySize() uint64 {
	v, ok := r.get("proxy-body-size")
	if !ok {
		return 0
	}
	m := bodySize.FindStringSubmatch(v)
	if m == nil {
		r.invalid("proxy-body-size", "is not a size such as 8m (k, m and g units)", "no limit")
		return 0
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0 // more digits than any body has bytes: no limit
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30}[strings.ToLower(m[2])]
	if n > math.MaxUint64>>shift {
		return 0 // larger than any body: no limit
	}
	return n << shift
}

// rateLimit reads limit-rps, limit-rpm, limit-burst-multiplier,
// limit-connections and the addresses exempt from them.
func (r *annotationReader) rateLimit() *RateLimit {
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
	// 0, as in ingress-nginx, means no limit.
	if n, ok := r.number("limit-connections", 0, maxRate); ok && n > 0 {
		rl.Connections = uint32(n)
		rl.Scope = r.ingress
	}
	// An exemption that cannot be read exempts nobody: the limit still
	// holds for everyone.
	rl.Exempt, _ = r.aliased("limit-allowlist", "limit-whitelist", "nobody is exempt")
	if rl.RPS == 0 && rl.RPM == 0 && rl.Connections == 0 {
		return nil
	}
	return rl
}

// access reads the client address ranges. A range that cannot be read
// makes every request of the Ingress answer 403, rather than let through
// clients the annotation meant to keep out.
func (r *annotationReader) access() *Access {
	const fallback = "every request of the Ingress answers 403"
	allow, allowOK := r.aliased("allowlist-source-range", "whitelist-source-range", fallback)
	deny, _, denyOK := r.addresses("denylist-source-range", fallback)
	switch {
	case !allowOK || !denyOK:
		return &Access{DenyAll: true}
	case len(allow) == 0 && len(deny) == 0:
		return nil
	}
	return &Access{Allow: allow, Deny: deny}
}

// aliased reads an address list under its current name or, when that is
// not set, under its former name (whitelist, now allowlist).
func (r *annotationReader) aliased(name, former, fallback string) ([]netip.Prefix, bool) {
	list, set, ok := r.addresses(name, fallback)
	if set {
		if _, both := r.get(former); both {
			r.issue(former, ReasonAnnotationIgnored, "ignored: %s is set and takes precedence", name)
		}
		return list, ok
	}
	list, _, ok = r.addresses(former, fallback)
	return list, ok
}

// cors reads enable-cors and the cors-* annotations, with ingress-nginx's
// defaults. Values that do not have the documented form fall back to the
// default, and origins that do not are left out.
func (r *annotationReader) cors() *CORS {
	if !r.boolean("enable-cors", false) {
		return nil
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
	v, ok := r.get("cors-allow-origin")
	if !ok {
		return c
	}
	c.AllowOrigins = nil
	for _, origin := range strings.Split(v, ",") {
		origin = strings.TrimSpace(origin)
		switch {
		case origin == "*":
			c.AllowOrigins = []string{"*"}
			return c
		case origin == "":
		case corsOrigin.MatchString(origin):
			c.AllowOrigins = append(c.AllowOrigins, strings.ToLower(origin))
		default:
			r.issue("cors-allow-origin", ReasonInvalidAnnotation, "origin %q is not http(s)://host[:port] (the host may start with *.); left out", origin)
		}
	}
	if len(c.AllowOrigins) == 0 {
		r.issue("cors-allow-origin", ReasonInvalidAnnotation, "no valid origin; CORS is off")
		return nil
	}
	return c
}

// pattern reads a value that must match re, or gives def.
func (r *annotationReader) pattern(name string, re *regexp.Regexp, def string) string {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	if !re.MatchString(v) {
		r.invalid(name, "does not have the documented form", fmt.Sprintf("using %q", def))
		return def
	}
	return v
}
