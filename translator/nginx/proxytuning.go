package nginx

import (
	"regexp"

	"github.com/rukou/rukou/translator/ir"
)

// Tuning is what the proxy tuning annotations and ConfigMap keys ask:
// limit-rate, proxy-request-buffering, proxy-buffer-size and
// connection-proxy-header. nginx's other buffer sizes are read and checked
// but change nothing in Envoy (see the registry's notes). Zero fields ask
// nothing.
type Tuning struct {
	// LimitRate bounds the rate of responses in KiB per second
	// (limit-rate); zero lifts the ConfigMap's limit.
	LimitRate *uint64
	// RequestBuffering, when false, streams request bodies to the backend
	// rather than hold them whole (proxy-request-buffering: off).
	RequestBuffering *bool
	// ResponseHeaderKiB bounds the response headers of the backends, in
	// KiB (proxy-buffer-size, rounded up); zero keeps Envoy's 60 KiB.
	ResponseHeaderKiB uint32
	// ConnectionHeader replaces the Connection header sent to the backend
	// (connection-proxy-header, an annotation only).
	ConnectionHeader string
}

// maxLimitRate bounds limit-rate (KiB/s): a rate of 4 TiB/s limits
// nothing, and the bound keeps the byte count of Envoy's token bucket
// within 64 bits.
const maxLimitRate = 1 << 32

// connectionHeader is the values ingress-nginx accepts for
// connection-proxy-header.
var connectionHeader = regexp.MustCompile(`^(close|keep-alive)$`)

// readTuning reads the proxy tuning keys shared by the annotations and the
// ConfigMap. The buffer sizes other than proxy-buffer-size are only
// checked: nginx's body buffers and temporary files have no Envoy
// counterpart, which streams with flow control (docs/annotations.md).
func (r *reader) readTuning() Tuning {
	var t Tuning
	if n, ok := r.number("limit-rate", 0, maxLimitRate); ok {
		t.LimitRate = new(uint64(n))
	}
	if n, ok := r.number("limit-rate-after", 0, 1<<62); ok && n > 0 {
		r.issue("limit-rate-after", ir.ReasonAnnotationIgnored, "Envoy cannot start the limit after a number of bytes: limit-rate applies from the first byte")
	}
	if on, ok := r.onOff("proxy-request-buffering"); ok {
		t.RequestBuffering = &on
	}
	r.onOff("proxy-buffering")
	if n, ok := r.size("proxy-buffer-size", "Envoy's limit of response headers applies"); ok && n > 0 {
		t.ResponseHeaderKiB = headerKiB(n)
	}
	for _, name := range []string{"proxy-max-temp-file-size", "proxy-busy-buffers-size", "client-body-buffer-size"} {
		r.size(name, "it changes nothing in Envoy anyway")
	}
	r.number("proxy-buffers-number", 1, 1<<20)
	return t
}

// maxHeaderKiB is the largest limit of response headers Envoy takes.
const maxHeaderKiB = 8192

// headerKiB is a limit of response headers of n bytes in Envoy's KiB,
// rounded up.
func headerKiB(n uint64) uint32 {
	return uint32(min((n+1023)/1024, maxHeaderKiB))
}

// onOff reads nginx's "on" or "off".
func (r *reader) onOff(name string) (on, ok bool) {
	switch v, set := r.get(name); {
	case !set:
		return false, false
	case v == "on", v == "off":
		return v == "on", true
	}
	r.invalid(name, `is not "on" or "off"`, "the default applies")
	return false, false
}

// readProxyTuning reads an Ingress's proxy tuning annotations; the
// ConfigMap's values apply where they are not set. It runs after
// proxy-body-size and backend-protocol, whose body size limit
// proxy-request-buffering: off lifts.
func readProxyTuning(r *reader, a *Annotations) {
	t := r.readTuning()
	if v, ok := r.get("proxy-http-version"); ok {
		switch v {
		case "1.1":
		case "1.0":
			r.issue("proxy-http-version", ir.ReasonAnnotationIgnored, "Envoy speaks HTTP/1.1 to backends, never 1.0; using 1.1")
		default:
			r.invalid("proxy-http-version", "is not 1.0 or 1.1", "using 1.1")
		}
	}
	t.ConnectionHeader = r.pattern("connection-proxy-header", connectionHeader, "")
	if t.RequestBuffering != nil && !*t.RequestBuffering {
		limit := r.defaults.MaxBodyBytes
		if a.Policy != nil && a.Policy.MaxBodyBytes != nil {
			limit = *a.Policy.MaxBodyBytes
		} else if a.Protocol == ProtocolGRPC || a.Protocol == ProtocolGRPCS {
			limit = 0 // gRPC gets no default limit (see ReadWith)
		}
		r.unboundedBody(limit)
	}
	if t != (Tuning{}) {
		a.policy().Tuning = t
	}
}

// unboundedBody reports that proxy-request-buffering: off lifts a body
// size limit: Envoy can count only a body it holds.
func (r *reader) unboundedBody(limit uint64) {
	if limit != 0 {
		r.issue("proxy-request-buffering", ir.ReasonAnnotationIgnored,
			"off streams request bodies to the backend, so the body size limit of %d bytes (proxy-body-size) is not enforced there: Envoy can count only a body it holds", limit)
	}
}

// readGlobalTuning reads the ConfigMap's proxy tuning keys, the defaults
// of the annotations.
func readGlobalTuning(r *reader, s *Settings) {
	t := r.readTuning()
	if t.LimitRate != nil {
		s.LimitRate = *t.LimitRate
	}
	s.ResponseHeaderKiB = t.ResponseHeaderKiB
	if t.RequestBuffering != nil {
		s.RequestBuffering = *t.RequestBuffering
		if !s.RequestBuffering {
			r.unboundedBody(s.MaxBodyBytes)
		}
	}
}

// The notes of the proxy tuning annotations and keys.
const (
	limitRateNote = "KiB per second of each route's responses, by Envoy's bandwidth limit: one budget per route on each Envoy, " +
		"shared by the responses in flight on it (nginx: per request); `0` is no limit (on an Ingress, also over the ConfigMap's)"
	limitRateAfterNote   = "`0` (nginx's default) only; another value is reported and `limit-rate` applies from the first byte: Envoy cannot start a limit after some bytes"
	requestBufferingNote = "`on` (the default) holds the whole body, up to `proxy-body-size`, before the request is sent; `off` streams it, " +
		"and then `proxy-body-size` is not enforced (reported): Envoy counts only a body it holds; without a size limit (`0`) bodies stream also with `on`"
	requestBufferNote  = "checked, changes nothing: Envoy holds a buffered request body in memory, up to `proxy-body-size`, and writes no temporary files"
	proxyBufferingNote = "checked, changes nothing: Envoy streams every response with flow control, as nginx does with `off` " +
		"(ingress-nginx's default); with `on` nginx reads the whole response at once and frees the backend early, Envoy reads ahead at most 1 MiB"
	responseBufferNote = "checked, changes nothing: Envoy streams responses with flow control (at most 1 MiB read ahead of the client) " +
		"and writes no temporary files"
	bufferSizeNote = "bounds the backend's response headers (larger: 502), rounded up to whole KiB, as Envoy counts header bytes; " +
		"unset, Envoy's 60 KiB apply, not nginx's 4k; the response body streams whatever the size"
)
