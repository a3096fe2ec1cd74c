package nginx

import (
	"net/netip"
	"testing"
)

// TestReadRealIP: the real IP keys, with ingress-nginx's defaults
// and, for values that cannot be used, the fallback that trusts less.
func TestReadRealIP(t *testing.T) {
	every := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")}
	for _, c := range []struct {
		name   string
		data   map[string]string
		want   RealIP
		issues []string
	}{
		{name: "defaults", want: RealIP{ForwardedForHeader: "X-Forwarded-For", TrustedPeers: every}},
		{
			name: "forwarded_headers_from_the_load_balancer",
			data: map[string]string{"use-forwarded-headers": "true", "proxy-real-ip-cidr": "10.0.0.0/8, 192.168.1.1", "compute-full-forwarded-for": "true"},
			want: RealIP{UseForwardedHeaders: true, ComputeFullForwardedFor: true, ForwardedForHeader: "X-Forwarded-For", TrustedPeers: lb},
		},
		{
			name:   "unreadable_cidr_trusts_no_peer",
			data:   map[string]string{"enable-real-ip": "true", "proxy-real-ip-cidr": "10.0.0.0/8, lb.example"},
			want:   RealIP{EnableRealIP: true, ForwardedForHeader: "X-Forwarded-For"},
			issues: []string{"proxy-real-ip-cidr InvalidConfigValue"},
		},
		{
			name: "custom_header_trusted_from_every_peer",
			data: map[string]string{"enable-real-ip": "true", "forwarded-for-header": "CF-Connecting-IP"},
			want: RealIP{EnableRealIP: true, ForwardedForHeader: "CF-Connecting-IP", TrustedPeers: every},
		},
		{
			name:   "custom_header_needs_every_peer_trusted",
			data:   map[string]string{"use-forwarded-headers": "true", "forwarded-for-header": "X-Client-IP", "proxy-real-ip-cidr": "10.0.0.0/8"},
			want:   RealIP{UseForwardedHeaders: true, ForwardedForHeader: "X-Forwarded-For", TrustedPeers: lb[:1]},
			issues: []string{"forwarded-for-header InvalidConfigValue"},
		},
		{
			name:   "header_name_must_be_a_token",
			data:   map[string]string{"forwarded-for-header": "X Client"},
			want:   RealIP{ForwardedForHeader: "X-Forwarded-For", TrustedPeers: every},
			issues: []string{"forwarded-for-header InvalidConfigValue"},
		},
		{
			name:   "compute_full_needs_x_forwarded_for",
			data:   map[string]string{"use-forwarded-headers": "true", "compute-full-forwarded-for": "true", "forwarded-for-header": "X-Client-IP"},
			want:   RealIP{UseForwardedHeaders: true, ForwardedForHeader: "X-Client-IP", TrustedPeers: every},
			issues: []string{"compute-full-forwarded-for InvalidConfigValue"},
		},
		{
			name: "proxy_protocol",
			data: map[string]string{"use-proxy-protocol": "true"},
			want: RealIP{ProxyProtocol: true, ForwardedForHeader: "X-Forwarded-For", TrustedPeers: every},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := readExpecting(t, c.data, c.issues)
			equal(t, "client settings", s.RealIP, c.want)
		})
	}
}

// TestClientFromHeader: as nginx's real_ip_header, the header gives the
// client's address with forwarded headers, or with enable-real-ip unless
// the PROXY protocol gives it.
func TestClientFromHeader(t *testing.T) {
	for _, c := range []struct {
		forwarded, realIP, proxy, want bool
	}{
		{false, false, false, false},
		{true, false, false, true},
		{false, true, false, true},
		{false, true, true, false},
		{true, false, true, true},
	} {
		s := RealIP{UseForwardedHeaders: c.forwarded, EnableRealIP: c.realIP, ProxyProtocol: c.proxy}
		if got := s.FromHeader(); got != c.want {
			t.Errorf("%+v: FromHeader %v, want %v", c, got, c.want)
		}
	}
}
