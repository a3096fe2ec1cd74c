package nginx

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestReadClientSettings: the real IP keys, with ingress-nginx's defaults
// and, for values that cannot be used, the fallback that trusts less.
func TestReadClientSettings(t *testing.T) {
	every := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")}
	for _, c := range []struct {
		name   string
		data   map[string]string
		want   ClientSettings
		issues []string
	}{
		{name: "defaults", want: ClientSettings{ForwardedForHeader: "X-Forwarded-For", TrustedPeers: every}},
		{
			name: "forwarded_headers_from_the_load_balancer",
			data: map[string]string{"use-forwarded-headers": "true", "proxy-real-ip-cidr": "10.0.0.0/8, 192.168.1.1", "compute-full-forwarded-for": "true"},
			want: ClientSettings{UseForwardedHeaders: true, ComputeFullForwardedFor: true, ForwardedForHeader: "X-Forwarded-For", TrustedPeers: lb},
		},
		{
			name:   "unreadable_cidr_trusts_no_peer",
			data:   map[string]string{"enable-real-ip": "true", "proxy-real-ip-cidr": "10.0.0.0/8, lb.example"},
			want:   ClientSettings{EnableRealIP: true, ForwardedForHeader: "X-Forwarded-For"},
			issues: []string{"proxy-real-ip-cidr InvalidConfigValue"},
		},
		{
			name: "custom_header_trusted_from_every_peer",
			data: map[string]string{"enable-real-ip": "true", "forwarded-for-header": "CF-Connecting-IP"},
			want: ClientSettings{EnableRealIP: true, ForwardedForHeader: "CF-Connecting-IP", TrustedPeers: every},
		},
		{
			name:   "custom_header_needs_every_peer_trusted",
			data:   map[string]string{"use-forwarded-headers": "true", "forwarded-for-header": "X-Client-IP", "proxy-real-ip-cidr": "10.0.0.0/8"},
			want:   ClientSettings{UseForwardedHeaders: true, ForwardedForHeader: "X-Forwarded-For", TrustedPeers: lb[:1]},
			issues: []string{"forwarded-for-header InvalidConfigValue"},
		},
		{
			name:   "header_name_must_be_a_token",
			data:   map[string]string{"forwarded-for-header": "X Client"},
			want:   ClientSettings{ForwardedForHeader: "X-Forwarded-For", TrustedPeers: every},
			issues: []string{"forwarded-for-header InvalidConfigValue"},
		},
		{
			name:   "compute_full_needs_x_forwarded_for",
			data:   map[string]string{"use-forwarded-headers": "true", "compute-full-forwarded-for": "true", "forwarded-for-header": "X-Client-IP"},
			want:   ClientSettings{UseForwardedHeaders: true, ForwardedForHeader: "X-Client-IP", TrustedPeers: every},
			issues: []string{"compute-full-forwarded-for InvalidConfigValue"},
		},
		{
			name: "proxy_protocol",
			data: map[string]string{"use-proxy-protocol": "true"},
			want: ClientSettings{ProxyProtocol: true, ForwardedForHeader: "X-Forwarded-For", TrustedPeers: every},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := readExpecting(t, c.data, c.issues)
			equal(t, "client settings", s.Client, c.want)
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
		s := ClientSettings{UseForwardedHeaders: c.forwarded, EnableRealIP: c.realIP, ProxyProtocol: c.proxy}
		if got := s.FromHeader(); got != c.want {
			t.Errorf("%+v: FromHeader %v, want %v", c, got, c.want)
		}
	}
}

// TestReadBlocks: each entry that cannot be used is reported and left
// out; the others block.
func TestReadBlocks(t *testing.T) {
	s := readExpecting(t, map[string]string{
		"block-cidrs":       "203.0.113.0/24, nope, 2001:db8::1",
		"block-user-agents": "BadBot, ~*crawl, ~(?<=x)y",
		"block-referers":    `~^https://spam\.test/`,
	}, []string{"block-cidrs InvalidConfigValue", "block-user-agents InvalidConfigValue"})
	want := ir.Block{
		Addresses:  []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::1/128")},
		UserAgents: []ir.StringMatch{{Exact: "BadBot", IgnoreCase: true}, {Regex: "(?i)(?s).*(?:crawl).*"}},
		Referers:   []ir.StringMatch{{Regex: `(?s).*(?:^https://spam\.test/).*`}},
	}
	equal(t, "block", s.Block, want)
}

func TestMapPattern(t *testing.T) {
	for _, c := range []struct {
		name, entry string
		want        ir.StringMatch
		err         string
	}{
		{"string_matches_whole_in_any_case", "Mozilla/5.0 (X11)", ir.StringMatch{Exact: "Mozilla/5.0 (X11)", IgnoreCase: true}, ""},
		{"backslash_escapes_the_first_character", `\~tilde`, ir.StringMatch{Exact: "~tilde", IgnoreCase: true}, ""},
		{"regex_matches_anywhere", "~bot", ir.StringMatch{Regex: "(?s).*(?:bot).*"}, ""},
		{"regex_in_any_case", "~*bot", ir.StringMatch{Regex: "(?i)(?s).*(?:bot).*"}, ""},
		{"anchors_keep_their_meaning", "~^curl/", ir.StringMatch{Regex: "(?s).*(?:^curl/).*"}, ""},
		{"alternation_stays_inside", "~a|b", ir.StringMatch{Regex: "(?s).*(?:a|b).*"}, ""},
		{"lookahead_is_refused", "~(?!good)bot", ir.StringMatch{}, "RE2"},
		{"backreference_is_refused", `~(a)\1`, ir.StringMatch{}, "RE2"},
		{"empty_regex_is_refused", "~", ir.StringMatch{}, "empty"},
		{"unicode_class_is_refused", `~*\pL+bot`, ir.StringMatch{}, "Unicode"},
		{"non_ascii_is_refused", "~*bötli", ir.StringMatch{}, "Unicode"},
		{"huge_regex_is_refused", "~" + strings.Repeat("(ab|cd)", 40), ir.StringMatch{}, "too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := MapPattern(c.entry)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "match", got, c.want)
		})
	}
}
