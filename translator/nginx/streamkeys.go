package nginx

import (
	"regexp"
	"strconv"
	"time"
)

// readStreamKeys reads the ConfigMap keys of TCP services: the idle
// timeout of a connection (proxy-stream-timeout), and whether and how many
// endpoints a connection that cannot connect tries (proxy-stream-next-
// upstream and its tries; nginx's 0, "no limit", is taken as the default).
func readStreamKeys(r *reader, s *Settings) {
	if v, ok := r.get("proxy-stream-timeout"); ok {
		if d, ok := parseNginxTime(v); ok {
			s.StreamTimeout = d
		} else {
			r.invalid("proxy-stream-timeout", "is not an nginx time such as 600s, 10m or 1h 30m, from 1ms to a year", "the default applies")
		}
	}
	if n, ok := r.number("proxy-stream-next-upstream-tries", 0, 10); ok && n > 0 {
		s.StreamConnectAttempts = uint32(n)
	}
	if !r.boolean("proxy-stream-next-upstream", true) {
		s.StreamConnectAttempts = 1
	}
}

// nginxTimePart is one number of an nginx time, with its unit (seconds
// without one).
var nginxTimePart = regexp.MustCompile(`^([0-9]{1,12})(ms|[smhdwMy])?\s*`)

var nginxTimeUnits = map[string]time.Duration{
	"ms": time.Millisecond, "": time.Second, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "M": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
}

// parseNginxTime reads a time as nginx writes it ("600s", "10m", "1h 30m",
// "90"): numbers with units, added up. It must be more than zero and at
// most a year.
func parseNginxTime(v string) (time.Duration, bool) {
	var total time.Duration
	if v == "" {
		return 0, false
	}
	for v != "" {
		m := nginxTimePart.FindStringSubmatch(v)
		if m == nil {
			return 0, false
		}
		n, _ := strconv.ParseInt(m[1], 10, 64) // at most 12 digits
		total += time.Duration(n) * nginxTimeUnits[m[2]]
		if total > nginxTimeUnits["y"] {
			return 0, false
		}
		v = v[len(m[0]):]
	}
	return total, total > 0
}
