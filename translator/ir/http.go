package ir

// ClientConnections bounds a listener's client connections and their
// requests. A zero field leaves the proxy's own default.
type ClientConnections struct {
	// IdleTimeout closes a connection that has had no request in flight
	// for this long.
	IdleTimeout Duration `json:"idleTimeout,omitempty"`
	// MaxRequests closes a connection after this many requests; 1 serves
	// one request per connection (no keep-alive).
	MaxRequests uint32 `json:"maxRequests,omitempty"`
	// HeadersTimeout bounds the time from a request's first byte to the
	// end of its headers.
	HeadersTimeout Duration `json:"headersTimeout,omitempty"`
	// MaxHeaderBytes bounds a request's line and headers together.
	MaxHeaderBytes uint64 `json:"maxHeaderBytes,omitempty"`
	// MaxConcurrentStreams bounds the HTTP/2 streams open at once on one
	// connection.
	MaxConcurrentStreams uint32 `json:"maxConcurrentStreams,omitempty"`
	// HTTP1Only offers TLS clients HTTP/1.1 only; otherwise HTTP/2 is
	// offered first.
	HTTP1Only bool `json:"http1Only,omitempty"`
}

// CompressionMethod is a content coding responses can be compressed with.
type CompressionMethod string

const (
	// Gzip is the gzip content coding.
	Gzip CompressionMethod = "gzip"
	// Brotli is the br content coding.
	Brotli CompressionMethod = "brotli"
)

// Compression compresses the responses of a listener with one method,
// when the client accepts it, the response is not compressed already, its
// media type is listed and its Content-Length (when it has one) is at
// least MinLength.
type Compression struct {
	Method CompressionMethod `json:"method"`
	// Level is the method's compression level: 1 to 9 for gzip, 0 to 11
	// for brotli.
	Level     uint32 `json:"level"`
	MinLength uint32 `json:"minLength"`
	// MediaTypes are compared with the response's Content-Type without its
	// parameters, ignoring case; empty compresses every type.
	MediaTypes []string `json:"mediaTypes,omitempty"`
	// SkipUserAgent, when set, is an RE2 expression: requests whose
	// User-Agent it matches get uncompressed responses.
	SkipUserAgent string `json:"skipUserAgent,omitempty"`
}

// LocalReply is the body of the answers of one status that the proxy makes
// itself rather than a backend: no route, no endpoint, a limit, and direct
// responses too (whose own Body it replaces). gRPC requests keep the
// proxy's own answer, whose status their clients read from trailers.
type LocalReply struct {
	Status      uint32 `json:"status"`
	Body        string `json:"body"`
	ContentType string `json:"contentType"`
}
