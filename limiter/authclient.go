package limiter

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// poolKey is what an HTTP client to auth services is made for: routes
// with the same connect timeout and keepalive settings share one.
type poolKey struct {
	connectTimeout    time.Duration
	keepalive         int
	keepaliveRequests int
	keepaliveTimeout  time.Duration
}

// clients holds one HTTP client per poolKey, made when first needed.
type clients struct {
	mu sync.Mutex
	m  map[poolKey]*http.Client
}

func newClients() *clients {
	return &clients{m: map[poolKey]*http.Client{}}
}

// get returns the client for k. Without auth-keepalive each auth request
// has a connection of its own, as nginx's auth location without an
// upstream block does; with it, up to that many idle connections per auth
// service are kept for auth-keepalive-timeout.
func (c *clients) get(k poolKey) *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[k]; ok {
		return cl
	}
	dialer := &net.Dialer{Timeout: k.connectTimeout}
	t := &http.Transport{
		Proxy: nil, // the auth URL is reached directly, as nginx reaches it
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countedConn{Conn: c}, nil
		},
		DisableKeepAlives:   k.keepalive == 0,
		MaxIdleConnsPerHost: k.keepalive,
		IdleConnTimeout:     k.keepaliveTimeout,
		// nginx does not verify the auth service's certificate by default
		// (proxy_ssl_verify off), and sends its name (proxy_ssl_server_name on).
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as ingress-nginx
		ForceAttemptHTTP2: false,
	}
	cl := &http.Client{
		Transport: t,
		// A redirect from the auth service is an answer (500), not a
		// place to go.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.m[k] = cl
	return cl
}

// countedConn is a connection to an auth service that counts the requests
// it carried, for auth-keepalive-requests.
type countedConn struct {
	net.Conn
	requests atomic.Int64
}

// connTrace records, in *conn, the connection a request is sent on.
func connTrace(conn **countedConn) *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		c := info.Conn
		if t, ok := c.(*tls.Conn); ok {
			c = t.NetConn()
		}
		*conn, _ = c.(*countedConn)
	}}
}

// retire closes a kept connection once it has carried max requests, as
// nginx's keepalive_requests does; the client then drops it from its pool.
func retire(c *countedConn, max int) {
	if c != nil && max > 0 && c.requests.Add(1) >= int64(max) {
		c.Close()
	}
}
