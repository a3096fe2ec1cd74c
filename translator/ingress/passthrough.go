package ingress

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// SSL passthrough (ssl-passthrough, under --enable-ssl-passthrough): the
// TLS connections whose SNI names a host reach the backend of the host's
// path "/" unopened, as ingress-nginx's TLS proxy hands them on before
// nginx sees them. Plain HTTP to the host is served as before, redirect
// to HTTPS included.

// Passthrough is a host whose TLS connections go, unopened, to Backend.
type Passthrough struct {
	Host string
	// Backend names the TCP Backend of the Service port of the host's
	// path "/".
	Backend string
	// Source is the oldest Ingress that asks for it.
	Source string
}

// notePassthrough records the hosts of an Ingress that asks for SSL
// passthrough; without --enable-ssl-passthrough the annotation is
// reported and ignored, as ingress-nginx ignores it then.
func (b *builder) notePassthrough(ing *ingressRef, ownHosts []string) {
	if !ing.ann.SSLPassthrough {
		return
	}
	field := nginx.Field("ssl-passthrough")
	switch {
	case !b.opts.EnableSSLPassthrough:
		b.reportField(ing.Ingress, field, ir.ReasonAnnotationIgnored, "ignored: rukou serve runs without --enable-ssl-passthrough, so TLS is terminated for the Ingress's hosts")
		return
	case len(ownHosts) == 0:
		b.reportField(ing.Ingress, field, ir.ReasonAnnotationIgnored, "ignored: the Ingress names no host, and passthrough picks connections by the host their SNI names")
		return
	}
	for _, host := range ownHosts {
		if _, ok := b.passthrough[host]; !ok {
			b.passthrough[host] = ing // the oldest asking wins; any one asking suffices
		}
	}
}

// addPassthrough adds to m each passthrough host with the TCP backend of
// its root route, and takes the host out of the certificates' SNI names:
// Envoy refuses a listener whose chains share a server name. The host
// keeps its TLS mark, so plain HTTP still redirects to HTTPS.
func (b *builder) addPassthrough(m *Model) {
	if len(b.passthrough) == 0 {
		return
	}
	hosts := make([]string, 0, len(b.passthrough))
	for host := range b.passthrough {
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	for _, host := range hosts {
		ing := b.passthrough[host]
		root := b.passthroughRoot(host)
		if root == nil || root.Backend == "" || b.backends[root.Backend].ExternalName != "" {
			b.reportField(ing.Ingress, nginx.Field("ssl-passthrough"), ir.ReasonAnnotationIgnored,
				"host %q has no path \"/\" nor defaultBackend with a Service whose endpoints rukou knows (ExternalName Services are not passed through): TLS is terminated for it as for other hosts", host)
			continue
		}
		http := b.backends[root.Backend]
		b.speakTLSTo(m, http.Name)
		be := b.passthroughBackend(http)
		m.Passthrough = append(m.Passthrough, &Passthrough{Host: host, Backend: be.Name, Source: ing.source})
		b.reportPassthroughIgnored(ing, host, be)
		for i, c := range m.Certificates {
			if len(c.Hosts) > 0 {
				m.Certificates[i].Hosts = slices.DeleteFunc(slices.Clone(c.Hosts), func(h string) bool { return h == host })
			}
		}
	}
	// A certificate whose every host passes through serves nobody; the
	// default one (nil hosts from the start) stays.
	m.Certificates = slices.DeleteFunc(m.Certificates, func(c *Certificate) bool { return c.Hosts != nil && len(c.Hosts) == 0 })
	m.Backends = m.Backends[:0]
	for _, be := range b.backends {
		m.Backends = append(m.Backends, be)
	}
	slices.SortFunc(m.Backends, func(x, y *Backend) int { return strings.Compare(x.Name, y.Name) })
}

// passthroughRoot is the route whose backend takes a host's TLS
// connections: its path "/" (the first by the routes' order), else the
// defaultBackend of the Ingress that names the host first. ingress-nginx
// passes through to the backend of its root location, which is one of
// these two; it never falls back to the controller's default backend.
func (b *builder) passthroughRoot(host string) *Route {
	routes := slices.Clone(b.hosts[host])
	sortRoutes(routes)
	for _, r := range routes {
		if r.Path == "/" {
			return r
		}
	}
	return b.hostDefaults[host]
}

// speakTLSTo makes the routes to a passthrough host's HTTP backend speak
// HTTPS to it instead, as ingress-nginx proxies to that backend over
// HTTPS: the backend terminates TLS itself, so the requests Envoy still
// proxies (plain HTTP that is not redirected, HTTPS without SNI) would
// otherwise reach its TLS port in clear text.
func (b *builder) speakTLSTo(m *Model, name string) {
	done := map[*Route]bool{}
	for _, vh := range m.VirtualHosts {
		for _, r := range vh.Routes {
			kind, ok := b.kinds[r]
			if done[r] || !ok || r.Backend != name || kind.protocol != nginx.ProtocolHTTP {
				continue
			}
			done[r] = true
			kind.protocol = nginx.ProtocolHTTPS
			be := *b.backends[name]
			be.Protocol, be.Name = nginx.ProtocolHTTPS, backendName(be.Namespace, be.Service, be.Port, kind)
			if _, known := b.backends[be.Name]; !known {
				b.backends[be.Name] = &be
			}
			r.Backend, b.kinds[r] = be.Name, kind
		}
	}
}

// passthroughBackend is the TCP backend of an HTTP backend's Service
// port: the same endpoints, nothing of HTTP (protocol, affinity, TLS).
func (b *builder) passthroughBackend(http *Backend) *Backend {
	kind := upstreamKind{stream: nginx.TCP, serviceUpstream: http.ClusterIP != ""}
	be := &Backend{
		Namespace: http.Namespace, Service: http.Service, Port: http.Port, PortName: http.PortName,
		ClusterIP: http.ClusterIP, Endpoints: http.Endpoints, Stream: nginx.TCP,
		Name: backendName(http.Namespace, http.Service, http.Port, kind),
	}
	if known, ok := b.backends[be.Name]; ok {
		return known
	}
	b.backends[be.Name] = be
	return be
}

// reportPassthroughIgnored says, once per host, what of the host's rules
// and of the Ingress's annotations its TLS connections no longer get.
func (b *builder) reportPassthroughIgnored(ing *ingressRef, host string, be *Backend) {
	var paths []string
	for _, r := range b.hosts[host] {
		if r.Path != "/" && !slices.Contains(paths, r.Path) {
			paths = append(paths, r.Path)
		}
	}
	var anns []string
	for key := range ing.Annotations {
		if name, ok := strings.CutPrefix(key, nginx.Prefix); ok && name != "ssl-passthrough" {
			anns = append(anns, name)
		}
	}
	if len(paths) == 0 && len(anns) == 0 {
		return
	}
	slices.Sort(paths)
	slices.Sort(anns)
	var ignored []string
	if len(paths) > 0 {
		ignored = append(ignored, fmt.Sprintf("paths %s", strings.Join(paths, ", ")))
	}
	if len(anns) > 0 {
		ignored = append(ignored, fmt.Sprintf("annotations %s", strings.Join(anns, ", ")))
	}
	b.reportField(ing.Ingress, nginx.Field("ssl-passthrough"), ir.ReasonAnnotationIgnored,
		"TLS connections to host %q go unopened to service %s/%s port %d; the host's %s apply to plain HTTP only",
		host, be.Namespace, be.Service, be.Port, strings.Join(ignored, " and the Ingress's "))
}
