package ingress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// addMirror adds the backend of an Ingress's mirror-target: the target's
// name (resolved by Envoy) or address with its port, over TLS for https.
// A target on loopback at one of the proxy's own ports (its listeners,
// admin, readiness, limiter) would let clients' copies reach the proxy
// itself: it is reported and nothing is mirrored.
func (b *builder) addMirror(ing *ingressRef) {
	p := ing.ann.Policy
	if p == nil || p.Mirror == nil {
		return
	}
	m := p.Mirror
	if port, own := b.ownLoopbackPort(m); own {
		b.reportField(ing.Ingress, nginx.Field("mirror-target"), ir.ReasonInvalidAnnotation,
			"%q reaches the proxy's own port %d on loopback; no request is mirrored", ing.Annotations[nginx.Prefix+"mirror-target"], port)
		p.Mirror = nil
		return
	}
	name := mirrorBackendName(m)
	if _, ok := b.backends[name]; ok {
		return
	}
	be := &Backend{Name: name, Port: int32(m.Port), ExternalName: m.Host, Endpoints: []ir.Endpoint{{Address: m.Host, Port: int32(m.Port)}}, Protocol: nginx.ProtocolHTTP}
	if m.TLS {
		be.Protocol = nginx.ProtocolHTTPS
	}
	b.backends[name] = be
}

// ownLoopbackPort reports whether a mirror target is the proxy itself.
func (b *builder) ownLoopbackPort(m *nginx.Mirror) (uint32, bool) {
	loopback := m.Host == "localhost" || strings.HasSuffix(m.Host, ".localhost")
	if addr, err := netip.ParseAddr(m.Host); err == nil {
		addr = addr.Unmap()
		loopback = addr.IsLoopback() || addr.IsUnspecified()
	}
	own := append([]uint32{b.opts.HTTPPort, b.opts.HTTPSPort}, b.opts.ReservedPorts...)
	return m.Port, loopback && slices.Contains(own, m.Port)
}

// mirrorBackendName names a mirror's cluster; "_" cannot start a
// namespace, so it never meets a Service's backend.
func mirrorBackendName(m *nginx.Mirror) string {
	name := fmt.Sprintf("_mirror/%s/%d", m.Host, m.Port)
	if m.TLS {
		name += "/https"
	}
	return name
}

// mirrors lowers an Ingress's mirror for its routes.
func mirrors(p *nginx.Policy) []ir.Mirror {
	if p.Mirror == nil {
		return nil
	}
	return []ir.Mirror{{Cluster: mirrorBackendName(p.Mirror), Host: p.Mirror.HostHeader}}
}
