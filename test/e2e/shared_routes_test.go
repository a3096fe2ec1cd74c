package e2e

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestOneRouteTableForBothListeners: the plain and the TLS listener read
// one route configuration, and a request still gets what its listener
// gives: a plain host answers on both with X-Forwarded-Port and -Proto of
// the listener and HSTS on HTTPS only; a TLS host redirects on plain HTTP
// and answers on HTTPS. An HTTP/2 client on the plain listener that claims
// the https scheme is still treated as plain HTTP.
func TestOneRouteTableForBothListeners(t *testing.T) {
	ca := newTestCA(t)
	s := startStack(t, "delta")
	s.apply(t, "site", join(backend(t, "open"), backend(t, "locked"),
		objs(ingress("open", rule("open.shared.test", path(prefix, "/", "open"))),
			tlsIngress("locked", "locked.shared.test", "locked"),
			ca.secret(t, "locked", 1, "locked.shared.test")))...)

	plain := s.await(t, call{host: "open.shared.test", path: "/"}, http.StatusOK, "open")
	expectEchoed(t, "plain host over HTTP", plain, map[string]string{"X-Forwarded-Port": "80", "X-Forwarded-Proto": "http", "X-Scheme": "http"})
	if v := plain.header.Get("Strict-Transport-Security"); v != "" {
		t.Errorf("plain HTTP answer has Strict-Transport-Security %q", v)
	}
	// The HTTPS port clients use is the one redirects name.
	httpsPort := strconv.Itoa(s.rukou.HTTPSPort)
	secure := s.await(t, call{host: "open.shared.test", path: "/", https: true}, http.StatusOK, "open")
	expectEchoed(t, "plain host over HTTPS", secure, map[string]string{"X-Forwarded-Port": httpsPort, "X-Forwarded-Proto": "https", "X-Forwarded-Scheme": "https"})
	if v := secure.header.Get("Strict-Transport-Security"); !strings.HasPrefix(v, "max-age=") {
		t.Errorf("HTTPS answer has Strict-Transport-Security %q, want ingress-nginx's default", v)
	}
	redirect := s.await(t, call{host: "locked.shared.test", path: "/a?b=c"}, http.StatusPermanentRedirect, "")
	if got, want := redirect.header.Get("Location"), "https://locked.shared.test:"+httpsPort+"/a?b=c"; got != want {
		t.Errorf("TLS host over HTTP: Location %q, want %q", got, want)
	}
	locked := s.await(t, call{host: "locked.shared.test", path: "/", https: true}, http.StatusOK, "locked")
	expectEchoed(t, "TLS host over HTTPS", locked, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": httpsPort})

	claimed := h2cClaimingHTTPS(t, s.rukou.HTTPPort, "locked.shared.test")
	if claimed.status != http.StatusPermanentRedirect {
		t.Errorf("h2c request claiming https for the TLS host: %d, want the 308 of plain HTTP", claimed.status)
	}
	claimed = h2cClaimingHTTPS(t, s.rukou.HTTPPort, "open.shared.test")
	expectEchoed(t, "h2c request claiming https", claimed, map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Port": "80"})

	// Envoy's own counters, as its admin page shows them: one route
	// configuration, "http", is read (both listeners share its
	// subscription, counted under the prefix of whichever listener
	// subscribed first), and none named "https".
	stats, err := s.envoy.Admin.Stats(t.Context(), `\.rds\.`)
	if err != nil {
		t.Fatal(err)
	}
	updates := 0
	for name, v := range stats {
		if strings.HasSuffix(name, ".rds.http.update_success") {
			updates += int(v)
		}
	}
	if updates == 0 {
		t.Errorf("no update of route configuration http in Envoy's counters: %v", stats)
	}
	for name := range stats {
		if strings.Contains(name, ".rds.https.") {
			t.Errorf("Envoy reads a route configuration named https: %s", name)
		}
	}
	expectNoRejection(t, s.envoy)
}

// h2cClaimingHTTPS sends one HTTP/2 request without TLS to the plain
// listener whose :scheme says https.
func h2cClaimingHTTPS(t *testing.T, port int, host string) reply {
	t.Helper()
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, _ string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(port))
		},
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+host+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("h2c request to %s: %v", host, err)
	}
	r, err := readReply(resp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOneRouteTableWithForwardedHeaders: with use-forwarded-headers the
// listeners still share a table, and a trusted load balancer's
// X-Forwarded-Proto and -Port reach the backend, while a request without
// them gets its own listener's.
func TestOneRouteTableWithForwardedHeaders(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"use-forwarded-headers": "true", "proxy-real-ip-cidr": "127.0.0.1/32"})
	s.apply(t, "site", join(backend(t, "open"), objs(ingress("open", rule("open.shared.test", path(prefix, "/", "open")))))...)
	httpsPort := strconv.Itoa(s.rukou.HTTPSPort)

	own := s.await(t, call{host: "open.shared.test", path: "/", https: true}, http.StatusOK, "open")
	expectEchoed(t, "HTTPS without forwarded headers", own, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": httpsPort})
	own = s.await(t, call{host: "open.shared.test", path: "/"}, http.StatusOK, "open")
	expectEchoed(t, "HTTP without forwarded headers", own, map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Port": "80"})
	lb := headers("X-Forwarded-Proto", "http", "X-Forwarded-Port", "8000")
	passed := s.await(t, call{host: "open.shared.test", path: "/", https: true, header: lb}, http.StatusOK, "open")
	expectEchoed(t, "HTTPS from a trusted load balancer", passed, map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Port": "8000"})

	stats, err := s.envoy.Admin.Stats(t.Context(), `\.rds\.https\.`)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) > 0 {
		t.Errorf("Envoy reads a route configuration named https: %v", stats)
	}
	expectNoRejection(t, s.envoy)
}
