package nginx

import (
	"time"
)

// Keepalive is how nginx keeps connections to the endpoints open for more
// requests (the upstream-keepalive-* keys).
type Keepalive struct {
	// Connections is the number of idle connections each nginx worker
	// keeps; 0 closes every connection after its request.
	Connections uint32
	// Timeout closes a connection idle this long.
	Timeout time.Duration
	// Requests closes a connection after this many requests.
	Requests uint32
	// Time closes a connection this long after it opened, once its
	// request is done.
	Time time.Duration
}

// readKeepalive reads the upstream-keepalive-* keys.
func readKeepalive(r *reader, s *Settings) {
	k := &s.Keepalive
	if n, ok := r.number("upstream-keepalive-connections", 0, 1<<31-1); ok {
		k.Connections = uint32(n)
	}
	if d := r.seconds("upstream-keepalive-timeout"); d != 0 {
		k.Timeout = d
	}
	if n, ok := r.number("upstream-keepalive-requests", 1, 1<<31-1); ok {
		k.Requests = uint32(n)
	}
	if d, ok := r.nginxTime("upstream-keepalive-time"); ok {
		k.Time = d
	}
}

// nginxTime reads one positive nginx time value such as "1h", "90s" or
// "30" (seconds), up to maxSeconds.
func (r *reader) nginxTime(name string) (time.Duration, bool) {
	v, ok := r.get(name)
	if !ok {
		return 0, false
	}
	if d, ok := parseNginxTime(v); ok && d <= maxSeconds*time.Second {
		return d, true
	}
	r.invalid(name, "is not a time such as 1h, 30m or 90s (at most a year)", "the default applies")
	return 0, false
}
