package ingress

import (
	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	networkingv1 "k8s.io/api/networking/v1"
)

// ErrorPages is which backend responses of a route another backend's
// answer replaces, as ingress-nginx's custom-http-errors does.
type ErrorPages struct {
	// Statuses are the backend statuses that are replaced.
	Statuses []uint32
	// Backend names the Backend that answers instead: the Ingress's
	// default-backend Service, or the controller's default backend.
	Backend string
}

// errorPages is what the route of ing that proxies to its backend does
// with the backend's error responses: the Ingress's custom-http-errors, or
// else the ConfigMap's, answered by its default-backend Service, or else
// by --default-backend-service. Nil when no status is listed, when the
// Ingress turns interception off, or when no backend can answer: the
// backend's own response then passes through.
func (b *builder) errorPages(ing *ingressRef) *ErrorPages {
	statuses := b.settings.CustomHTTPErrors
	var own *nginx.ErrorPages
	if p := ing.ann.Policy; p != nil && p.ErrorPages != nil {
		own = p.ErrorPages
	}
	if own != nil && own.Statuses != nil {
		statuses = own.Statuses
	}
	if len(statuses) == 0 || own != nil && own.Off {
		return nil
	}
	if own != nil && own.Service != "" {
		if name, ok := b.errorService(ing, own.Service); ok {
			return &ErrorPages{Statuses: statuses, Backend: name}
		}
	}
	be := b.ctrlDefault.backend
	if be == nil {
		return nil
	}
	if _, ok := b.backends[be.Name]; !ok {
		b.backends[be.Name] = be
	}
	return &ErrorPages{Statuses: statuses, Backend: be.Name}
}

// errorService resolves an Ingress's default-backend annotation: the
// first port of that Service of the Ingress's namespace, as ingress-nginx
// takes it. A Service that cannot be used is reported and the controller's
// default backend answers instead.
func (b *builder) errorService(ing *ingressRef, name string) (string, bool) {
	svc, ok := b.index.service(ing.Namespace, name)
	if !ok || len(svc.Spec.Ports) == 0 {
		b.reportField(ing.Ingress, "metadata.annotations["+nginx.Prefix+"default-backend]", ir.ReasonServiceNotFound,
			"Service %q not found or without a port; the controller's default backend answers the custom-http-errors", name)
		return "", false
	}
	port := networkingv1.ServiceBackendPort{Number: svc.Spec.Ports[0].Port}
	return b.backendFor(ing.Ingress, "metadata.annotations["+nginx.Prefix+"default-backend]",
		networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}},
		upstreamKind{protocol: nginx.ProtocolHTTP}, "the controller's default backend answers the custom-http-errors")
}
