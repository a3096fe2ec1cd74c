package nginx

import (
	"strconv"
	"strings"
	"time"
)

// Clients are the ConfigMap's settings of client connections and of the
// Server response header, which apply to every listener.
type Clients struct {
	// KeepAlive is how long an idle client connection stays open
	// (keep-alive); zero disables keep-alive: one request per connection.
	KeepAlive time.Duration
	// KeepAliveRequests is how many requests one connection may carry
	// (keep-alive-requests); zero disables keep-alive, as in nginx.
	KeepAliveRequests uint32
	// HTTP2 offers HTTP/2 to TLS clients (use-http2).
	HTTP2 bool
	// MaxHeaderBytes bounds a request's line and headers together: the
	// most nginx could hold with large-client-header-buffers (number times
	// size), or client-header-buffer-size when that is larger.
	MaxHeaderBytes uint64
	// HeaderTimeout bounds the time a client takes to send a request's
	// headers (client-header-timeout).
	HeaderTimeout time.Duration
	// MaxConcurrentStreams bounds the HTTP/2 streams of one connection
	// (http2-max-concurrent-streams).
	MaxConcurrentStreams uint32
	// ServerTokens names the proxy in the Server header (server-tokens);
	// otherwise no Server header is sent.
	ServerTokens bool
	// BackendServerHeader passes a backend's Server header on
	// (allow-backend-server-header).
	BackendServerHeader bool
}

// defaultClients are ingress-nginx's defaults: 75 s keep-alive, 1000
// requests a connection, HTTP/2, "4 8k" header buffers, 60 s to send the
// headers, 128 HTTP/2 streams, no Server header.
func defaultClients() Clients {
	return Clients{
		KeepAlive:            75 * time.Second,
		KeepAliveRequests:    1000,
		HTTP2:                true,
		MaxHeaderBytes:       32 << 10, // 4 buffers of 8k
		HeaderTimeout:        60 * time.Second,
		MaxConcurrentStreams: 128,
	}
}

// maxHeaderBytes is the largest request header limit Envoy accepts
// (max_request_headers_kb at most 8192).
const maxHeaderBytes = 8192 << 10

// readClients reads the keys of client connections.
func readClients(r *reader, s *Settings) {
	c := &s.Clients
	// keepalive_timeout 0 disables keep-alive; it is not "no timeout".
	if n, ok := r.number("keep-alive", 0, maxSeconds); ok {
		c.KeepAlive = time.Duration(n) * time.Second
	}
	if n, ok := r.number("keep-alive-requests", 0, 1<<32-1); ok {
		c.KeepAliveRequests = uint32(n)
	}
	c.HTTP2 = r.boolean("use-http2", c.HTTP2)
	if d := r.seconds("client-header-timeout"); d != 0 {
		c.HeaderTimeout = d
	}
	if n, ok := r.number("http2-max-concurrent-streams", 1, 1<<31-1); ok {
		c.MaxConcurrentStreams = uint32(n)
	}
	c.MaxHeaderBytes = readHeaderBuffers(r, c.MaxHeaderBytes)
	c.ServerTokens = r.boolean("server-tokens", c.ServerTokens)
	c.BackendServerHeader = r.boolean("allow-backend-server-header", c.BackendServerHeader)
}

// readHeaderBuffers reads large-client-header-buffers ("4 8k": a number
// of buffers and their size) and client-header-buffer-size ("1k"). nginx
// reads a request's line and headers into the first buffer, then into the
// large ones, each line in one; rukou bounds the whole by what they hold
// together, which is def ("4 8k") until the keys say otherwise.
func readHeaderBuffers(r *reader, def uint64) uint64 {
	large := def
	if v, ok := r.get("large-client-header-buffers"); ok {
		if n, size, valid := headerBuffers(v); valid {
			large = n * size
		} else {
			r.invalid("large-client-header-buffers", "is not a number and a size such as \"4 8k\" (up to 8m in all)", "using \"4 8k\"")
		}
	}
	first, ok := r.size("client-header-buffer-size", "using 1k")
	switch {
	case ok && (first == 0 || first > maxHeaderBytes):
		r.invalid("client-header-buffer-size", "is not a size from 1 to 8m", "using 1k")
	case ok && first > large:
		return first
	}
	return large
}

// headerBuffers reads "NUMBER SIZE" with nginx's size units.
func headerBuffers(v string) (n, size uint64, ok bool) {
	fields := strings.Fields(v)
	if len(fields) != 2 {
		return 0, 0, false
	}
	n, err := strconv.ParseUint(fields[0], 10, 32)
	if err != nil || n == 0 {
		return 0, 0, false
	}
	size, ok = parseSize(fields[1])
	if !ok || size == 0 || size > maxHeaderBytes || n*size > maxHeaderBytes {
		return 0, 0, false
	}
	return n, size, true
}
