package limiter

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
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
	t := &http.Transport{
		Proxy:               nil, // the auth URL is reached directly, as nginx reaches it
		DialContext:         (&net.Dialer{Timeout: k.connectTimeout}).DialContext,
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
