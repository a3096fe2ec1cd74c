package ingress

import (
	"slices"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// lowerRealIP is where the listeners find the client's address, as
// nginx's real IP module finds it: the PROXY protocol's source address,
// then, from trusted peers, the forwarded-for header. nil takes the peer.
func lowerRealIP(c *nginx.RealIP) *ir.RealIP {
	out := &ir.RealIP{ProxyProtocol: c.ProxyProtocol}
	// Without a trusted peer the header is never read; Envoy would
	// otherwise trust every peer.
	if c.FromHeader() && len(c.TrustedPeers) > 0 {
		out.Header = strings.ToLower(c.ForwardedForHeader)
		out.TrustedPeers = slices.Clone(c.TrustedPeers)
		out.AppendPeer = c.UseForwardedHeaders && c.ComputeFullForwardedFor
	}
	if !out.ProxyProtocol && out.Header == "" {
		return nil
	}
	return out
}

// lowerBlock is the ConfigMap's block lists, refused on every host; nil
// when they refuse nothing.
func lowerBlock(b *ir.Block) *ir.Block {
	if b.Empty() {
		return nil
	}
	return &ir.Block{Addresses: slices.Clone(b.Addresses), UserAgents: slices.Clone(b.UserAgents), Referers: slices.Clone(b.Referers)}
}

// forwardedHeaders are the headers ingress-nginx sets on every proxied
// request: the client's address replaces any X-Forwarded-For the client
// sent (which goes on as X-Original-Forwarded-For), so that a backend
// trusting the header gets the real client, unless compute-full-forwarded-
// for appends the peer to it instead; the Host, port and scheme the client
// used, or with use-forwarded-headers those the incoming X-Forwarded-Host,
// -Port and -Proto give; behind the PROXY protocol, the port the client
// reached, and https when that is 443. Where the client is the peer, the
// scheme is the connection's (ir.Scheme), which every listener can tell
// without a value of its own. (The Proxy header is removed, against
// httpoxy.)
func forwardedHeaders(scheme string, port uint32, c *nginx.RealIP) []ir.Header {
	forwardedFor := ir.Header{Name: "X-Forwarded-For", FromConnection: ir.ClientAddress}
	if c.UseForwardedHeaders && c.ComputeFullForwardedFor {
		// Envoy has appended the peer to the request's header.
		forwardedFor = ir.Header{Name: "X-Forwarded-For", FromRequest: ir.ForwardedFor}
	}
	host := ir.Header{Name: "X-Forwarded-Host", FromRequest: ":authority"}
	portHeader := ir.Header{Name: "X-Forwarded-Port", Value: strconv.FormatUint(uint64(port), 10)}
	if c.ProxyProtocol {
		portHeader = ir.Header{Name: "X-Forwarded-Port", FromConnection: ir.DestinationPort}
	}
	proto := ir.Header{Value: scheme}
	if lowerRealIP(c) == nil {
		proto = ir.Header{FromConnection: ir.Scheme}
	}
	if c.UseForwardedHeaders {
		host = ir.Header{Name: host.Name, FromRequest: "x-forwarded-host", Else: &ir.Header{FromRequest: ":authority"}}
		own := portHeader
		own.Name = ""
		portHeader = ir.Header{Name: "X-Forwarded-Port", FromRequest: "x-forwarded-port", Else: &own}
		proto = ir.Header{FromRequest: "x-forwarded-proto", Else: &ir.Header{Value: scheme}}
	}
	if c.ProxyProtocol {
		proto.OnPort, proto.OnPortValue = 443, "https"
	}
	out := []ir.Header{
		{Name: "X-Original-Forwarded-For", FromRequest: strings.ToLower(c.ForwardedForHeader)},
		{Name: "X-Original-Forwarded-Host", FromRequest: "x-forwarded-host"},
		forwardedFor,
		{Name: "X-Real-IP", FromConnection: ir.ClientAddress},
		host,
		portHeader,
	}
	for _, name := range []string{"X-Forwarded-Proto", "X-Forwarded-Scheme", "X-Scheme"} {
		proto.Name = name
		out = append(out, proto)
	}
	return out
}
