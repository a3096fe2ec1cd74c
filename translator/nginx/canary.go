package nginx

import (
	"fmt"
	"math"
	"regexp/syntax"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
)

// Canary is how a canary Ingress splits the traffic of the primary routes
// it joins: by header first, then by cookie, then by weight.
type Canary struct {
	// Header, when set, names the request header that decides first: with
	// HeaderValue, that value sends the request to the canary; with
	// HeaderPattern, a value that the regular expression matches does;
	// with neither, "always" does and "never" keeps it on the primary.
	Header        string
	HeaderValue   string
	HeaderPattern string
	// BadHeaderPattern is set when canary-by-header-pattern cannot be
	// used: a request with the header then stays on the primary, as
	// ingress-nginx stops at the pattern's error.
	BadHeaderPattern bool
	// Cookie, when set, names the cookie that decides next: "always" or
	// "never".
	Cookie string
	// Weight out of WeightTotal requests go to the canary, of those the
	// header and the cookie left undecided.
	Weight      uint32
	WeightTotal uint32
	// Legacy picks by weight on every request, even with session
	// affinity. By default the route's session cookie picks, so a client
	// that sends it stays on one side.
	Legacy bool
}

// readCanary reads the canary-* annotations of an Ingress marked as a
// canary.
func readCanary(r *reader, a *Annotations) {
	c := a.Canary
	if c == nil {
		return // a primary Ingress: canary is "false" or unset
	}
	c.WeightTotal = 100
	r.canaryHeader(c)
	if v, ok := r.get("canary-by-cookie"); ok {
		if valid.Token(v) {
			c.Cookie = v
		} else {
			r.invalid("canary-by-cookie", "is not a cookie name", "no routing by cookie")
		}
	}
	// Read on the canary, as ingress-nginx reads it; it matters only
	// when the route has session affinity.
	if v, ok := r.get("affinity-canary-behavior"); ok {
		switch v {
		case "sticky":
		case "legacy":
			c.Legacy = true
		default:
			r.invalid("affinity-canary-behavior", `is not "sticky" or "legacy"`, "sticky applies")
		}
	}
	if n, ok := r.number("canary-weight-total", 1, math.MaxInt32); ok {
		c.WeightTotal = uint32(n)
	}
	if n, ok := r.number("canary-weight", 0, math.MaxInt32); ok {
		c.Weight = uint32(n)
		if c.Weight > c.WeightTotal {
			r.invalid("canary-weight", fmt.Sprintf("is more than the total weight %d", c.WeightTotal), "every request goes to the canary")
			c.Weight = c.WeightTotal
		}
	}
}

// canaryHeader reads canary-by-header and the value or pattern it asks.
func (r *reader) canaryHeader(c *Canary) {
	if v, ok := r.get("canary-by-header"); ok {
		if valid.Token(v) {
			c.Header = strings.ToLower(v)
		} else {
			r.invalid("canary-by-header", "is not a header name", "no routing by header")
		}
	}
	if v, ok := r.get("canary-by-header-value"); ok && c.Header != "" {
		if v != "" && valid.Printable(v) {
			c.HeaderValue = v
		} else {
			r.invalid("canary-by-header-value", "is not a printable header value", `"always" and "never" apply`)
		}
	}
	if v, ok := r.get("canary-by-header-pattern"); ok && v != "" && c.Header != "" && c.HeaderValue == "" {
		if _, err := syntax.Parse(v, syntax.Perl); err == nil && valid.Printable(v) {
			c.HeaderPattern = v
		} else {
			c.BadHeaderPattern = true
			r.invalid("canary-by-header-pattern", "is not a regular expression RE2 accepts",
				"a request with the header "+c.Header+" goes to the primary, whatever its cookie, as in ingress-nginx")
		}
	}
}
