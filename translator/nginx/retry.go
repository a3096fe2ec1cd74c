package nginx

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// NextUpstream is when nginx passes a request on to the next endpoint
// (proxy_next_upstream), read from its space-separated conditions.
type NextUpstream struct {
	// Error and Timeout are nginx's "error" and "timeout": the endpoint
	// could not be reached in time, dropped the connection, or (Timeout)
	// stayed silent past the read timeout.
	Error, Timeout bool
	// InvalidHeader is "invalid_header": the endpoint's response was not
	// HTTP.
	InvalidHeader bool
	// Statuses are the http_NNN conditions: responses with these statuses
	// go on to the next endpoint.
	Statuses []uint32
	// NonIdempotent is "non_idempotent": POST, PATCH and LOCK requests go
	// on too once sent, which nginx otherwise never does.
	NonIdempotent bool
}

// Off reports whether no condition passes a request on ("off").
func (n NextUpstream) Off() bool {
	return !n.Error && !n.Timeout && !n.InvalidHeader && len(n.Statuses) == 0
}

// Retry is how a route passes a request on to the next endpoint: nginx's
// proxy_next_upstream, proxy_next_upstream_tries and
// proxy_next_upstream_timeout.
type Retry struct {
	On NextUpstream
	// Tries is how many endpoints a request may try in all, the first
	// included.
	Tries uint32
	// Timeout, when not zero, bounds the time a request may take with all
	// its tries.
	Timeout time.Duration
}

// nextUpstreamStatuses are the statuses nginx's http_NNN conditions name.
var nextUpstreamStatuses = []uint32{403, 404, 429, 500, 502, 503, 504}

// parseNextUpstream reads nginx's proxy_next_upstream conditions; ok is
// false when a word is not one, or "off" comes with others (which nginx
// refuses too).
func parseNextUpstream(v string) (NextUpstream, bool) {
	var n NextUpstream
	words := strings.Fields(v)
	if len(words) == 0 {
		return n, false
	}
	for _, w := range words {
		switch w {
		case "error":
			n.Error = true
		case "timeout":
			n.Timeout = true
		case "invalid_header":
			n.InvalidHeader = true
		case "non_idempotent":
			n.NonIdempotent = true
		case "off":
			if len(words) != 1 {
				return n, false
			}
		default:
			code, err := strconv.ParseUint(strings.TrimPrefix(w, "http_"), 10, 32)
			if !strings.HasPrefix(w, "http_") || err != nil || !slices.Contains(nextUpstreamStatuses, uint32(code)) {
				return n, false
			}
			if !slices.Contains(n.Statuses, uint32(code)) {
				n.Statuses = append(n.Statuses, uint32(code))
			}
		}
	}
	slices.Sort(n.Statuses)
	return n, true
}

// nextUpstreamForm is what the docs and diagnostics say the value is.
const nextUpstreamForm = "is not nginx's proxy_next_upstream: error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, or off alone"

// readNextUpstream reads the proxy-next-upstream* keys or annotations into
// r, which holds the defaults: a value that cannot be used keeps them.
// proxy-next-upstream-tries is at most maxTries, and its 0 (nginx's "no
// limit") keeps the default too.
func (rd *reader) readNextUpstream(r *Retry) {
	if v, ok := rd.get("proxy-next-upstream"); ok {
		if n, ok := parseNextUpstream(v); ok {
			r.On = n
		} else {
			rd.invalid("proxy-next-upstream", nextUpstreamForm, "the default applies")
		}
	}
	if n, ok := rd.number("proxy-next-upstream-tries", 0, maxTries); ok && n > 0 {
		r.Tries = uint32(n)
	}
	if n, ok := rd.number("proxy-next-upstream-timeout", 0, maxSeconds); ok {
		r.Timeout = time.Duration(n) * time.Second
	}
}

// readRetry reads the proxy-next-upstream annotations over the
// ConfigMap's settings, when any of them is set.
func readRetry(r *reader, a *Annotations) {
	for _, name := range []string{"proxy-next-upstream", "proxy-next-upstream-tries", "proxy-next-upstream-timeout"} {
		if _, ok := r.get(name); ok {
			retry := r.defaults.Retry
			r.readNextUpstream(&retry)
			a.policy().Retry = &retry
			return
		}
	}
}

// maxTries bounds proxy-next-upstream-tries: more tries than this would
// send one request to ten endpoints.
const maxTries = 10
