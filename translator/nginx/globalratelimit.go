package nginx

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// GlobalRateLimit is global-rate-limit: at most Limit requests per window
// for each value of Key, counted for the whole Ingress across every proxy.
type GlobalRateLimit struct {
	// ID names the limit: the Ingress's namespace/name, the limit and its
	// unit, so that a new limit starts new counts.
	ID string
	// Limit requests per Unit, the window the rate limit service counts
	// in (see readGlobalRateLimit for windows that are not one unit).
	Limit uint32
	Unit  ir.RateLimitUnit
	// Key are the parts of the request whose values name a client's
	// count, in the order of the annotation.
	Key []ir.HashKey
	// Ignored are client addresses that are never counted.
	Ignored []netip.Prefix
}

// maxKeyParts bounds the variables of global-rate-limit-key: the rate
// limit service's configuration holds one entry for every subset of the
// variables that may be absent.
const maxKeyParts = 4

// windowUnits are the windows the rate limit service counts in, longest
// first.
var windowUnits = []struct {
	unit ir.RateLimitUnit
	d    time.Duration
}{
	{ir.RateLimitDay, 24 * time.Hour},
	{ir.RateLimitHour, time.Hour},
	{ir.RateLimitMinute, time.Minute},
	{ir.RateLimitSecond, time.Second},
}

// readGlobalRateLimit reads global-rate-limit, its window, key and ignored
// addresses. As in ingress-nginx, both the limit and the window must be
// set, the window is whole seconds, and an empty key counts by client
// address. The rate limit service counts in fixed windows of one second,
// minute, hour or day: another window counts in the longest of those
// shorter than it, with the limit scaled down to that unit (at least 1),
// and is reported.
func readGlobalRateLimit(r *reader, a *Annotations) {
	limit, limitOK := r.number("global-rate-limit", 0, math.MaxUint32)
	v, windowSet := r.get("global-rate-limit-window")
	if !limitOK || limit == 0 || !windowSet {
		return
	}
	window, err := time.ParseDuration(v)
	window = window.Truncate(time.Second)
	if err != nil || window < time.Second {
		r.invalid("global-rate-limit-window", "is not a duration of at least one second such as 1m or 10s", "the Ingress has no global rate limit")
		return
	}
	g := &GlobalRateLimit{Limit: uint32(limit), Key: readRateLimitKey(r)}
	g.Unit, g.Limit = windowUnit(window, g.Limit)
	if g.Limit != uint32(limit) || windowUnitDuration(g.Unit) != window {
		r.issue("global-rate-limit-window", ir.ReasonInvalidAnnotation,
			"%q is not one second, minute, hour or day, the windows the rate limit service counts in; counting %d per %s instead of %d per %s",
			v, g.Limit, g.Unit, limit, v)
	}
	// An exemption that cannot be read exempts nobody: the limit still
	// holds for everyone.
	g.Ignored, _, _ = r.addresses("global-rate-limit-ignored-cidrs", "nobody is exempt")
	g.ID = fmt.Sprintf("%s:%d/%s", r.ingress, g.Limit, g.Unit)
	a.policy().GlobalRateLimit = g
}

// windowUnit is the longest unit not longer than window, and limit scaled
// to it.
func windowUnit(window time.Duration, limit uint32) (ir.RateLimitUnit, uint32) {
	for _, u := range windowUnits {
		if u.d <= window {
			scaled := uint64(limit) * uint64(u.d) / uint64(window)
			return u.unit, uint32(max(scaled, 1))
		}
	}
	return ir.RateLimitSecond, limit
}

func windowUnitDuration(unit ir.RateLimitUnit) time.Duration {
	for _, u := range windowUnits {
		if u.unit == unit {
			return u.d
		}
	}
	return 0
}

// readRateLimitKey reads global-rate-limit-key: nginx variables, of which
// rukou counts by $remote_addr, $request_uri, $host, $http_* and $arg_*.
// Text between them is left out: it is the same for every request. A key
// rukou cannot count by is reported and the client address counts
// instead, as ingress-nginx does with a key it cannot read.
func readRateLimitKey(r *reader) []ir.HashKey {
	address := []ir.HashKey{{ClientAddress: true}}
	v, ok := r.get("global-rate-limit-key")
	if !ok || v == "" {
		return address
	}
	const fallback = "counting by $remote_addr"
	if !hashByValue.MatchString(v) {
		r.invalid("global-rate-limit-key", "is not nginx variables and text", fallback)
		return address
	}
	var keys []ir.HashKey
	for _, m := range hashVariable.FindAllStringSubmatch(v, -1) {
		k, ok := hashKey(m[1] + m[2])
		if !ok || k.Cookie != "" {
			r.invalid("global-rate-limit-key", fmt.Sprintf("uses $%s%s, which rukou cannot count by (it counts by $remote_addr, $request_uri, $host, $http_* and $arg_*)", m[1], m[2]), fallback)
			return address
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	switch {
	case len(keys) == 0:
		r.invalid("global-rate-limit-key", "has no variable", fallback)
		return address
	case len(keys) > maxKeyParts:
		r.invalid("global-rate-limit-key", fmt.Sprintf("has more than %d variables", maxKeyParts), fallback)
		return address
	}
	return keys
}
