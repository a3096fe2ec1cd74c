package ir

import "net/netip"

// RealIP is where a listener finds the client's address (ClientAddress),
// which access rules, rate and connection limits, the access log and the
// forwarded headers all use. The zero value takes the connection's peer.
type RealIP struct {
	// ProxyProtocol reads a PROXY protocol header (version 1 or 2) at the
	// start of every connection, before TLS, and takes the source address
	// it carries as the peer's, and its destination as the address the
	// client connected to. A connection that does not start with one is
	// closed.
	ProxyProtocol bool `json:"proxyProtocol,omitempty"`
	// Header, when set, names the request header that carries the
	// client's address when the peer is in TrustedPeers. X-Forwarded-For
	// is a list: the client is its right-most entry outside TrustedPeers
	// (the left-most when every entry is trusted). Any other header must
	// hold one address, and is read from every peer: TrustedPeers must
	// then cover every address.
	Header       string         `json:"header,omitempty"`
	TrustedPeers []netip.Prefix `json:"trustedPeers,omitempty"`
	// AppendPeer appends the peer's address (the PROXY protocol's source
	// when it is on) to the X-Forwarded-For that requests carry before
	// any header is set from it; Header must be X-Forwarded-For.
	AppendPeer bool `json:"appendPeer,omitempty"`
}

// ForwardedFor is the header that lists the addresses a request came
// through, which RealIP.Header may name.
const ForwardedFor = "x-forwarded-for"

// PortRoutes answers the connections whose destination port (the PROXY
// protocol's, when the listener reads it) is Port with the route table
// of the listener named Routes, instead of the listener's own: a load
// balancer in front that terminated TLS and says so with the port.
type PortRoutes struct {
	Port   uint32 `json:"port"`
	Routes string `json:"routes"`
}
