package e2e

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// clientSite is an echo backend behind three hosts: one that echoes, one
// that admits only allow (allowlist-source-range) and one that refuses
// deny (denylist-source-range); with secret, each host has TLS with it.
func clientSite(t *testing.T, allow, deny, secret string) []runtime.Object {
	ings := []*networkingv1.Ingress{
		ingress("echo", rule("echo.client.test", path(prefix, "/", "echo"))),
		annotated("allow", map[string]string{"allowlist-source-range": allow}, rule("allow.client.test", path(prefix, "/", "echo"))),
		annotated("deny", map[string]string{"denylist-source-range": deny}, rule("deny.client.test", path(prefix, "/", "echo"))),
	}
	out := backend(t, "echo")
	for _, ing := range ings {
		if secret != "" {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{ing.Spec.Rules[0].Host}, SecretName: secret}}
		}
		out = append(out, ing)
	}
	return out
}

// expectEchoed checks the headers the echo backend saw.
func expectEchoed(t *testing.T, what string, r reply, want map[string]string) {
	t.Helper()
	if r.echo == nil {
		t.Errorf("%s: %d from no echo backend, want it to echo the request", what, r.status)
		return
	}
	for name, w := range want {
		if got, _ := echoHeader(r, name); got != w {
			t.Errorf("%s: the backend saw %s %q, want %q", what, name, got, w)
		}
	}
}

// expectStatus sends c and checks the status.
func (s *stack) expectStatus(t *testing.T, what string, c call, want int) reply {
	t.Helper()
	r, err := s.do(c)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return r
	}
	if r.status != want {
		t.Errorf("%s: %d, want %d", what, r.status, want)
	}
	return r
}

// TestClientAddressIsThePeerByDefault: as ingress-nginx without
// use-forwarded-headers, a client's X-Forwarded-For changes nothing: the
// backend sees the peer in X-Forwarded-For and X-Real-IP (the forged value
// goes on as X-Original-Forwarded-For only), an allowlist of the forged
// address refuses the request and a denylist of it lets it through.
func TestClientAddressIsThePeerByDefault(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "site", clientSite(t, "1.2.3.4/32", "1.2.3.4/32", "")...)
	forged := headers("X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "forged.test", "X-Forwarded-Port", "8443")
	r := s.await(t, call{host: "echo.client.test", path: "/", header: forged, from: "127.0.0.5"}, http.StatusOK, "echo")
	expectEchoed(t, "forged headers", r, map[string]string{
		"X-Forwarded-For": "127.0.0.5", "X-Real-IP": "127.0.0.5", "X-Original-Forwarded-For": "1.2.3.4",
		"X-Forwarded-Proto": "http", "X-Forwarded-Host": "echo.client.test", "X-Forwarded-Port": "80",
		"X-Original-Forwarded-Host": "forged.test",
	})
	s.expectStatus(t, "allowlist of the forged address", call{host: "allow.client.test", path: "/", header: forged}, http.StatusForbidden)
	s.expectStatus(t, "denylist of the forged address", call{host: "deny.client.test", path: "/", header: forged}, http.StatusOK)
	expectNoRejection(t, s.envoy)
}

// TestClientAddressFromTrustedForwardedFor: with use-forwarded-headers and
// proxy-real-ip-cidr 127.0.0.1/32, the client of a request from
// 127.0.0.1 is the right-most X-Forwarded-For entry outside that range:
// the backend, the allowlist, the denylist and the access log all see it,
// and the incoming X-Forwarded-Proto, -Host and -Port reach the backend.
// From an untrusted peer the same forged headers change no address.
func TestClientAddressFromTrustedForwardedFor(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"use-forwarded-headers": "true", "proxy-real-ip-cidr": "127.0.0.1/32"})
	s.apply(t, "site", clientSite(t, "1.2.3.4/32", "1.2.3.4/32", "")...)
	lb := headers("X-Forwarded-For", "1.2.3.4, 127.0.0.1", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.example", "X-Forwarded-Port", "443")
	s.await(t, call{host: "allow.client.test", path: "/", header: lb}, http.StatusOK, "echo")

	logged := lb.Clone()
	logged.Set("X-Request-ID", "client-address-trusted")
	r := s.expectStatus(t, "trusted peer", call{host: "echo.client.test", path: "/", header: logged}, http.StatusOK)
	expectEchoed(t, "trusted peer", r, map[string]string{
		"X-Forwarded-For": "1.2.3.4", "X-Real-IP": "1.2.3.4", "X-Original-Forwarded-For": "1.2.3.4, 127.0.0.1",
		"X-Forwarded-Proto": "https", "X-Forwarded-Scheme": "https", "X-Scheme": "https",
		"X-Forwarded-Host": "shop.example", "X-Forwarded-Port": "443",
	})
	if r.echo != nil && r.echo.Host != "shop.example" {
		t.Errorf("trusted peer: the backend saw Host %q, want X-Forwarded-Host's shop.example", r.echo.Host)
	}
	if l := awaitLogLine(t, s.envoy, "client-address-trusted"); l["remote_addr"] != "1.2.3.4" {
		t.Errorf("the access log's $remote_addr is %q, want the client 1.2.3.4", l["remote_addr"])
	}
	s.expectStatus(t, "denylist, trusted peer", call{host: "deny.client.test", path: "/", header: lb}, http.StatusForbidden)

	s.expectStatus(t, "allowlist, untrusted peer", call{host: "allow.client.test", path: "/", header: lb, from: "127.0.0.9"}, http.StatusForbidden)
	s.expectStatus(t, "denylist, untrusted peer", call{host: "deny.client.test", path: "/", header: lb, from: "127.0.0.9"}, http.StatusOK)
	r = s.expectStatus(t, "untrusted peer", call{host: "echo.client.test", path: "/", header: lb, from: "127.0.0.9"}, http.StatusOK)
	expectEchoed(t, "untrusted peer", r, map[string]string{"X-Forwarded-For": "127.0.0.9", "X-Real-IP": "127.0.0.9"})
	// Envoy's own x-envoy-* request headers are not taken from clients.
	r = s.expectStatus(t, "x-envoy header", call{host: "echo.client.test", path: "/", header: headers("X-Envoy-Upstream-Rq-Timeout-Ms", "1")}, http.StatusOK)
	if v, ok := echoHeader(r, "X-Envoy-Upstream-Rq-Timeout-Ms"); ok {
		t.Errorf("the backend saw X-Envoy-Upstream-Rq-Timeout-Ms %q, want it removed", v)
	}

	expectNoRejection(t, s.envoy)
}

// proxyHeader is a PROXY protocol header of the given version (1, text,
// or 2, binary) for a TCP connection from src to dst.
func proxyHeader(version int, src, dst netip.AddrPort) []byte {
	if version == 1 {
		return fmt.Appendf(nil, "PROXY TCP4 %s %s %d %d\r\n", src.Addr(), dst.Addr(), src.Port(), dst.Port())
	}
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	b = append(b, 0x21, 0x11, 0, 12) // version 2, PROXY; TCP over IPv4; 12 bytes of addresses
	b = append(b, src.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// TestClientAddressFromProxyProtocol: with use-proxy-protocol, both
// listeners read a PROXY protocol header, version 1 or 2, before anything
// else (before TLS on the HTTPS one): the source address it carries is the
// client's, for the backend and for the allowlist, its destination port
// is X-Forwarded-Port, and 443 makes the scheme https (and spares the
// redirect to HTTPS). A connection without the header is closed
// unanswered, as nginx closes it.
func TestClientAddressFromProxyProtocol(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"use-proxy-protocol": "true", "ssl-redirect": "false"})
	ca := newTestCA(t)
	s.apply(t, "site", append(clientSite(t, "203.0.113.7/32", "203.0.113.7/32", "client-tls"),
		ca.secret(t, "client-tls", 1, "echo.client.test", "allow.client.test", "deny.client.test"))...)
	client := netip.MustParseAddrPort("203.0.113.7:40001")
	other := netip.MustParseAddrPort("198.51.100.2:40002")
	http80 := netip.MustParseAddrPort("192.0.2.1:80")
	https443 := netip.MustParseAddrPort("192.0.2.1:443")
	s.await(t, call{host: "allow.client.test", path: "/", proxy: proxyHeader(1, client, http80)}, http.StatusOK, "echo")

	for _, version := range []int{1, 2} {
		for _, https := range []bool{false, true} {
			dst, scheme, port := http80, "http", "80"
			if https {
				dst, scheme, port = https443, "https", "443"
			}
			name := fmt.Sprintf("PROXY v%d, %s", version, scheme)
			r := s.expectStatus(t, name, call{host: "echo.client.test", path: "/", https: https, proxy: proxyHeader(version, client, dst)}, http.StatusOK)
			expectEchoed(t, name, r, map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7", "X-Forwarded-Port": port, "X-Forwarded-Proto": scheme})
			s.expectStatus(t, name+", allowed client", call{host: "allow.client.test", path: "/", https: https, proxy: proxyHeader(version, client, dst)}, http.StatusOK)
			s.expectStatus(t, name+", other client", call{host: "allow.client.test", path: "/", https: https, proxy: proxyHeader(version, other, dst)}, http.StatusForbidden)
			s.expectStatus(t, name+", denied client", call{host: "deny.client.test", path: "/", https: https, proxy: proxyHeader(version, client, dst)}, http.StatusForbidden)
		}
	}
	// A load balancer that terminated TLS in front of the plain listener
	// says 443: the scheme is https, as nginx infers it, so ssl-redirect
	// (back on) redirects the PROXY header's port 80 only. nginx's $scheme
	// stays the connection's, http.
	s.apply(t, "custom-headers", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "custom-headers"},
		Data: map[string]string{"X-Seen-Scheme": "$scheme"}})
	s.applyConfigMap(t, map[string]string{"use-proxy-protocol": "true", "proxy-set-headers": ns + "/custom-headers"})
	s.await(t, call{host: "echo.client.test", path: "/", proxy: proxyHeader(2, client, http80)}, http.StatusPermanentRedirect, "")
	r := s.expectStatus(t, "plain listener, PROXY to 443", call{host: "echo.client.test", path: "/", proxy: proxyHeader(2, client, https443)}, http.StatusOK)
	expectEchoed(t, "plain listener, PROXY to 443", r, map[string]string{
		"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", "X-Forwarded-For": "203.0.113.7", "X-Seen-Scheme": "http",
	})

	for _, https := range []bool{false, true} {
		if r, err := s.do(call{host: "echo.client.test", path: "/", https: https}); err == nil {
			t.Errorf("without a PROXY header (https %v): %d, want the connection closed", https, r.status)
		}
	}
	expectNoRejection(t, s.envoy)
}

// TestBlockLists: block-cidrs, block-user-agents and block-referers answer
// 403 on every host, also where an Ingress's own allowlist admits the
// address; a User-Agent string matches whole and in any letter case, "~*"
// is a case-insensitive regular expression that matches anywhere.
func TestBlockLists(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{
		"block-cidrs":       "127.0.0.7/32",
		"block-user-agents": "EvilAgent, ~*bad-?bot",
		"block-referers":    `~^https?://spam\.test/`,
	})
	s.apply(t, "site", clientSite(t, "127.0.0.0/24", "10.0.0.0/8", "")...)
	s.await(t, call{host: "echo.client.test", path: "/", from: "127.0.0.7"}, http.StatusForbidden, "")
	for _, c := range []struct {
		name   string
		c      call
		status int
	}{
		{"blocked_address", call{host: "echo.client.test", from: "127.0.0.7"}, http.StatusForbidden},
		{"blocked_address_inside_an_allowlist", call{host: "allow.client.test", from: "127.0.0.7"}, http.StatusForbidden},
		{"other_address", call{host: "allow.client.test", from: "127.0.0.8"}, http.StatusOK},
		{"user_agent_string_in_any_case", call{host: "echo.client.test", header: headers("User-Agent", "evilagent")}, http.StatusForbidden},
		{"user_agent_string_matches_whole", call{host: "echo.client.test", header: headers("User-Agent", "EvilAgent/2.0")}, http.StatusOK},
		{"user_agent_regex_anywhere_any_case", call{host: "echo.client.test", header: headers("User-Agent", "Mozilla/5.0 (BadBot 1.1)")}, http.StatusForbidden},
		{"referer_regex", call{host: "deny.client.test", header: headers("Referer", "https://spam.test/page")}, http.StatusForbidden},
		{"other_referer", call{host: "deny.client.test", header: headers("Referer", "https://news.test/?spam.test/")}, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.c.path = "/"
			s.expectStatus(t, c.name, c.c, c.status)
		})
	}

	// The lists live in the route configurations: changing them rebuilds
	// no listener, so no connection is drained.
	modified := listenersModified(t, s.envoy)
	s.applyConfigMap(t, map[string]string{"block-cidrs": "127.0.0.8/32"})
	s.await(t, call{host: "echo.client.test", path: "/", from: "127.0.0.8"}, http.StatusForbidden, "")
	s.expectStatus(t, "address no longer blocked", call{host: "echo.client.test", path: "/", from: "127.0.0.7"}, http.StatusOK)
	if now := listenersModified(t, s.envoy); now != modified {
		t.Errorf("changing block-cidrs modified Envoy's listeners (%s times, before %s)", now, modified)
	}
	expectNoRejection(t, s.envoy)
}

// listenersModified is how many times Envoy has replaced a listener.
func listenersModified(t *testing.T, e *harness.Envoy) string {
	t.Helper()
	body, err := harness.GetOK("http://" + e.Admin.Address + "/stats?filter=^listener_manager.listener_modified$")
	if err != nil {
		t.Fatal(err)
	}
	value, ok := strings.CutPrefix(strings.TrimSpace(body), "listener_manager.listener_modified: ")
	if !ok {
		t.Fatalf("Envoy's stats have no listener_manager.listener_modified: %q", body)
	}
	return value
}

// TestClientAddressBehindProxyProtocolAndForwardedFor: with both
// use-proxy-protocol and use-forwarded-headers, X-Forwarded-For is read
// when the PROXY header's source is in proxy-real-ip-cidr (a proxy in
// front of the TCP load balancer), else that source is the client; with
// compute-full-forwarded-for the backend gets the incoming list with the
// PROXY header's source appended, whichever it is.
func TestClientAddressBehindProxyProtocolAndForwardedFor(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{
		"use-proxy-protocol": "true", "use-forwarded-headers": "true",
		"compute-full-forwarded-for": "true", "proxy-real-ip-cidr": "10.0.0.0/8",
	})
	s.apply(t, "site", clientSite(t, "1.2.3.4/32", "1.2.3.4/32", "")...)
	http80 := netip.MustParseAddrPort("192.0.2.1:80")
	proxy := proxyHeader(2, netip.MustParseAddrPort("10.1.1.1:40000"), http80)
	direct := proxyHeader(1, netip.MustParseAddrPort("203.0.113.9:40000"), http80)
	forwarded := headers("X-Forwarded-For", "1.2.3.4")
	s.await(t, call{host: "allow.client.test", path: "/", header: forwarded, proxy: proxy}, http.StatusOK, "echo")

	r := s.expectStatus(t, "trusted proxy", call{host: "echo.client.test", path: "/", header: forwarded, proxy: proxy}, http.StatusOK)
	expectEchoed(t, "trusted proxy", r, map[string]string{"X-Forwarded-For": "1.2.3.4,10.1.1.1", "X-Real-IP": "1.2.3.4"})
	s.expectStatus(t, "denylist, trusted proxy", call{host: "deny.client.test", path: "/", header: forwarded, proxy: proxy}, http.StatusForbidden)

	r = s.expectStatus(t, "untrusted source", call{host: "echo.client.test", path: "/", header: forwarded, proxy: direct}, http.StatusOK)
	expectEchoed(t, "untrusted source", r, map[string]string{"X-Forwarded-For": "1.2.3.4,203.0.113.9", "X-Real-IP": "203.0.113.9"})
	s.expectStatus(t, "allowlist, untrusted source", call{host: "allow.client.test", path: "/", header: forwarded, proxy: direct}, http.StatusForbidden)
	expectNoRejection(t, s.envoy)
}

// TestForwardedProtoSkipsTheRedirect: behind a proxy that terminates TLS
// and says so in X-Forwarded-Proto (use-forwarded-headers), a TLS host's
// plain requests are proxied rather than redirected to HTTPS, as
// ingress-nginx redirects only when the scheme it passes on is http; a
// request without the header, or with "http", is still redirected.
func TestForwardedProtoSkipsTheRedirect(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"use-forwarded-headers": "true"})
	ca := newTestCA(t)
	s.apply(t, "site", append(clientSite(t, "127.0.0.0/8", "10.0.0.0/8", "client-tls"),
		ca.secret(t, "client-tls", 1, "echo.client.test", "allow.client.test", "deny.client.test"))...)
	offloaded := call{host: "echo.client.test", path: "/", header: headers("X-Forwarded-Proto", "https")}
	r := s.await(t, offloaded, http.StatusOK, "echo")
	expectEchoed(t, "offloaded TLS", r, map[string]string{"X-Forwarded-Proto": "https", "X-Scheme": "https"})
	s.expectStatus(t, "no X-Forwarded-Proto", call{host: "echo.client.test", path: "/"}, http.StatusPermanentRedirect)
	s.expectStatus(t, "X-Forwarded-Proto http", call{host: "echo.client.test", path: "/", header: headers("X-Forwarded-Proto", "http")}, http.StatusPermanentRedirect)
	expectNoRejection(t, s.envoy)
}

// TestLimitsCountTheForwardedClient: with use-forwarded-headers and
// proxy-real-ip-cidr 127.0.0.1/32, limit-rpm and limit-connections count
// each client that X-Forwarded-For names, not the load balancer they all
// come through, and limit-allowlist exempts such a client.
func TestLimitsCountTheForwardedClient(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"use-forwarded-headers": "true", "proxy-real-ip-cidr": "127.0.0.1/32"})
	s.apply(t, "limits", join(echoService(t, "held", sleepy("held"), nil), objs(
		annotated("rpm", map[string]string{"limit-rpm": "1", "limit-allowlist": "5.5.5.5"}, rule("rpm.client.test", path(prefix, "/", "held"))),
		annotated("conn", map[string]string{"limit-connections": "1"}, rule("conn.client.test", path(prefix, "/", "held"))),
		ingress("probe", rule("probe.client.test", path(prefix, "/", "held"))),
	))...)
	s.await(t, call{host: "probe.client.test", path: "/", header: headers("X-Forwarded-For", "9.9.9.9")}, http.StatusOK, "held")
	s.await(t, call{host: "conn.client.test", path: "/", header: headers("X-Forwarded-For", "9.9.9.9")}, http.StatusOK, "held")
	client := func(host, address, path string) call {
		return call{host: host, path: path, header: headers("X-Forwarded-For", address)}
	}

	// 1 a minute with the default multiplier of 5: 6 at once.
	if counts := s.burst(t, 10, client("rpm.client.test", "1.1.1.1", "/")); counts[http.StatusOK] < 6 || counts[http.StatusOK] > 7 || counts[http.StatusServiceUnavailable] < 3 {
		t.Errorf("10 requests at once from one forwarded client: %v, want 6 served (7 if the bucket refilled) and the rest 503", counts)
	}
	if counts := s.burst(t, 4, client("rpm.client.test", "2.2.2.2", "/")); counts[http.StatusOK] != 4 {
		t.Errorf("4 requests from another forwarded client through the same peer: %v, want all served", counts)
	}
	if counts := s.burst(t, 8, client("rpm.client.test", "5.5.5.5", "/")); counts[http.StatusOK] != 8 {
		t.Errorf("8 requests from a forwarded client in limit-allowlist: %v, want all served", counts)
	}

	var other map[int]int
	var wg sync.WaitGroup
	wg.Go(func() {
		// Sent once the limiter holds the first client's request.
		for range 100 {
			if m, err := limiterMetrics(s.rukou.Ops); err == nil && m.Sum("rukou_limit_connections_in_flight") >= 1 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		other = s.burst(t, 1, client("conn.client.test", "4.4.4.4", "/?sleep=1500ms"))
	})
	counts := s.burst(t, 3, client("conn.client.test", "3.3.3.3", "/?sleep=1500ms"))
	wg.Wait()
	if counts[http.StatusOK] != 1 || counts[http.StatusServiceUnavailable] != 2 {
		t.Errorf("3 slow requests at once from one forwarded client with limit-connections 1: %v, want 1 served and 2 answered 503", counts)
	}
	if other[http.StatusOK] != 1 {
		t.Errorf("a slow request from another forwarded client meanwhile: %v, want it served", other)
	}
	expectNoRejection(t, s.envoy)
}

// TestClientAddressFromAnotherHeader: with enable-real-ip and
// forwarded-for-header X-Client-IP, the client is the address that header
// holds (for the allowlist and the backend's X-Forwarded-For), while the
// other forwarded headers are not trusted, as enable-real-ip alone asks.
func TestClientAddressFromAnotherHeader(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"enable-real-ip": "true", "forwarded-for-header": "X-Client-IP"})
	s.apply(t, "site", clientSite(t, "1.2.3.4/32", "1.2.3.4/32", "")...)
	cdn := headers("X-Client-IP", "1.2.3.4", "X-Forwarded-For", "5.6.7.8", "X-Forwarded-Proto", "https")
	s.await(t, call{host: "allow.client.test", path: "/", header: cdn}, http.StatusOK, "echo")
	r := s.expectStatus(t, "X-Client-IP", call{host: "echo.client.test", path: "/", header: cdn}, http.StatusOK)
	expectEchoed(t, "X-Client-IP", r, map[string]string{
		"X-Forwarded-For": "1.2.3.4", "X-Real-IP": "1.2.3.4", "X-Original-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "http",
	})
	s.expectStatus(t, "denylist", call{host: "deny.client.test", path: "/", header: cdn}, http.StatusForbidden)
	s.expectStatus(t, "without the header", call{host: "allow.client.test", path: "/"}, http.StatusForbidden)
	expectNoRejection(t, s.envoy)
}
