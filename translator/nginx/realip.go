package nginx

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// RealIP is how the client's address and the forwarded headers
// are found, as ingress-nginx's real IP keys say.
type RealIP struct {
	// UseForwardedHeaders passes the incoming X-Forwarded-Proto, -Host and
	// -Port on to backends (use-forwarded-headers), and reads the client's
	// address from ForwardedForHeader.
	UseForwardedHeaders bool
	// EnableRealIP reads the client's address from ForwardedForHeader
	// (enable-real-ip) without trusting the other forwarded headers.
	EnableRealIP bool
	// ForwardedForHeader carries the client's address in requests from
	// TrustedPeers (forwarded-for-header).
	ForwardedForHeader string
	// ComputeFullForwardedFor appends the peer to the incoming
	// X-Forwarded-For instead of replacing it, with UseForwardedHeaders.
	ComputeFullForwardedFor bool
	// TrustedPeers are the peers whose forwarded-for header is believed
	// (proxy-real-ip-cidr).
	TrustedPeers []netip.Prefix
	// ProxyProtocol reads a PROXY protocol header at the start of every
	// connection (use-proxy-protocol).
	ProxyProtocol bool
}

// FromHeader says whether the client's address comes from
// ForwardedForHeader, as nginx's real_ip_header says: with forwarded
// headers, or with enable-real-ip unless the PROXY protocol gives it.
func (c *RealIP) FromHeader() bool {
	return c.UseForwardedHeaders || c.EnableRealIP && !c.ProxyProtocol
}

// everyPeer is the proxy-real-ip-cidr that trusts every IPv4 peer,
// ingress-nginx's default.
var everyPeer = netip.MustParsePrefix("0.0.0.0/0")

// headerName is an HTTP header name (RFC 9110's token).
var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// readRealIP reads the keys of the real IP module. A value that
// cannot be used falls back to what trusts less: no peer, the
// X-Forwarded-For header, no appended peer.
func readRealIP(r *reader, s *Settings) {
	c := &s.RealIP
	c.UseForwardedHeaders = r.boolean("use-forwarded-headers", c.UseForwardedHeaders)
	c.EnableRealIP = r.boolean("enable-real-ip", c.EnableRealIP)
	c.ComputeFullForwardedFor = r.boolean("compute-full-forwarded-for", c.ComputeFullForwardedFor)
	c.ProxyProtocol = r.boolean("use-proxy-protocol", c.ProxyProtocol)
	if peers, set, ok := r.addresses("proxy-real-ip-cidr", "no peer is trusted"); set {
		c.TrustedPeers = peers
		if !ok {
			c.TrustedPeers = nil
		}
	}
	if v, ok := r.get("forwarded-for-header"); ok {
		switch {
		case !headerName.MatchString(v):
			r.invalid("forwarded-for-header", "is not an HTTP header name", "using X-Forwarded-For")
		case !strings.EqualFold(v, ir.ForwardedFor) && c.FromHeader() && !c.trustsEveryPeer():
			r.invalid("forwarded-for-header", "is read from every peer by Envoy, and proxy-real-ip-cidr does not trust every peer", "using X-Forwarded-For")
		default:
			c.ForwardedForHeader = v
		}
	}
	if c.ComputeFullForwardedFor && c.UseForwardedHeaders && !strings.EqualFold(c.ForwardedForHeader, ir.ForwardedFor) {
		r.invalid("compute-full-forwarded-for", "works with forwarded-for-header X-Forwarded-For only in rukou", "X-Forwarded-For is the client's address")
		c.ComputeFullForwardedFor = false
	}
}

func (c *RealIP) trustsEveryPeer() bool {
	for _, p := range c.TrustedPeers {
		if p == everyPeer {
			return true
		}
	}
	return false
}
