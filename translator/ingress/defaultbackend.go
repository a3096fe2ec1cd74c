package ingress

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	networkingv1 "k8s.io/api/networking/v1"
)

// DefaultUpstreamName is what the access log names the controller's
// default backend, as ingress-nginx names it.
const DefaultUpstreamName = "upstream-default-backend"

// controllerDefault is the controller's default backend
// (--default-backend-service), which serves what no rule and no Ingress
// defaultBackend serve.
type controllerDefault struct {
	// backend is the Service's first port, nil when the Service is missing
	// or has no port; it has no endpoints while none is ready.
	backend *Backend
	// catchAll serves the hosts that no rule names, after the rules
	// without a host; forHosts serves the unmatched paths of named hosts.
	// Both are nil while no endpoint is ready.
	catchAll, forHosts *Route
}

// resolveControllerDefault reads --default-backend-service: the first
// port of the Service, with its ready endpoints, as ingress-nginx's
// default upstream. While the Service is missing or has no ready endpoint,
// requests no rule serves get 404, as ingress-nginx's own default server
// answers them then; a missing Service is reported.
func (b *builder) resolveControllerDefault() {
	name := b.opts.DefaultBackendService
	if name == "" {
		return
	}
	ns, svcName, _ := strings.Cut(name, "/")
	report := func(reason ir.Reason, format string, args ...any) {
		b.diags = append(b.diags, ir.Diagnostic{Kind: "Service", Namespace: ns, Name: svcName, Reason: reason,
			Message: "--default-backend-service: " + fmt.Sprintf(format, args...) + "; requests that no rule serves get 404"})
	}
	svc, ok := b.index.service(ns, svcName)
	if !ok {
		report(ir.ReasonServiceNotFound, "Service %q not found", name)
		return
	}
	if len(svc.Spec.Ports) == 0 {
		report(ir.ReasonServicePortNotFound, "Service %q has no port", name)
		return
	}
	be, err := b.index.backend(ns, networkingv1.IngressServiceBackend{Name: svcName, Port: networkingv1.ServiceBackendPort{Number: svc.Spec.Ports[0].Port}})
	if err != nil {
		report(err.reason, "%s", err.msg)
		return
	}
	be.Protocol = nginx.ProtocolHTTP
	b.ctrlDefault.backend = be
	if len(be.Endpoints) == 0 {
		return
	}
	route := &Route{
		Match: PathPrefix, Path: "/", Backend: be.Name, Default: true, CatchAll: true,
		Source: "--default-backend-service", UpstreamName: DefaultUpstreamName, NoSSLRedirect: !b.settings.SSLRedirect,
	}
	forHosts := *route
	forHosts.CatchAll = false
	b.ctrlDefault.catchAll, b.ctrlDefault.forHosts = route, &forHosts
}

// useControllerDefault adds the default backend's cluster to the model
// when some virtual host routes to it: a cluster nobody routes to is clutter
// that Envoy still connects to.
func (b *builder) useControllerDefault(hosts []*VirtualHost) {
	c := b.ctrlDefault
	if c.catchAll == nil {
		return
	}
	for _, vh := range hosts {
		if slices.ContainsFunc(vh.Routes, func(r *Route) bool { return r == c.catchAll || r == c.forHosts }) {
			if _, ok := b.backends[c.backend.Name]; !ok {
				b.backends[c.backend.Name] = c.backend
			}
			return
		}
	}
}

// hostDefault is the route that ends a named host's routes when no
// defaultBackend of its own does: the controller's default backend, or
// 404 (nil when Envoy's own 404 for an unmatched path will do).
func (b *builder) hostDefault(host string, routes []*Route) *Route {
	if slices.ContainsFunc(routes, isRoot) {
		return nil
	}
	if r := b.ctrlDefault.forHosts; r != nil {
		return r
	}
	if strings.HasPrefix(host, "*.") {
		// The wildcard's own names must stop here rather than fall
		// through to the rules without a host that follow.
		return &Route{Match: PathPrefix, Path: "/", DirectStatus: 404, Default: true, Source: b.firstNamer[host]}
	}
	return nil
}
