package ingress

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// externalBackend resolves an Ingress backend on an ExternalName Service,
// as ingress-nginx does: its one endpoint is the Service's external name
// with the port the backend names, and EndpointSlices play no part. A name
// that would reach the proxy itself (its listeners, its admin API) is
// refused.
func externalBackend(namespace string, svc *corev1.Service, ref networkingv1.ServiceBackendPort) (*Backend, *backendError) {
	name := strings.ToLower(svc.Spec.ExternalName)
	if err := checkExternalName(name); err != "" {
		return nil, &backendError{ir.ReasonExternalNameRefused,
			fmt.Sprintf("service %s/%s is of type ExternalName %q, which %s", namespace, svc.Name, svc.Spec.ExternalName, err)}
	}
	port, target, ok := externalPort(svc, ref)
	if !ok {
		return nil, &backendError{ir.ReasonServicePortNotFound, fmt.Sprintf("service %q has no port %q", svc.Name, portRef(ref))}
	}
	return &Backend{
		Name:         fmt.Sprintf("%s/%s/%d", namespace, svc.Name, port),
		Namespace:    namespace,
		Service:      svc.Name,
		Port:         port,
		ExternalName: name,
		Endpoints:    []ir.Endpoint{{Address: name, Port: target}},
	}, nil
}

// checkExternalName says why an external name cannot be used, or "". As
// ingress-nginx, it refuses "localhost" and loopback addresses; rukou also
// refuses the names under .localhost (which resolvers answer with
// loopback, RFC 6761) and the unspecified addresses (0.0.0.0 and ::),
// which connect to the proxy's own host as loopback does.
func checkExternalName(name string) string {
	if addr, err := netip.ParseAddr(name); err == nil {
		addr = addr.Unmap()
		switch {
		case addr.Zone() != "":
			return "has a zone, which only a link of the proxy's own host can give"
		case addr.IsLoopback():
			return "is a loopback address and would reach the proxy itself"
		case addr.IsUnspecified():
			return "is the unspecified address and would reach the proxy's own host"
		}
		return ""
	}
	host := strings.TrimSuffix(name, ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "names this host and would reach the proxy itself"
	}
	if strings.HasPrefix(host, "*") || !valid.Host(host) {
		return "is neither a DNS name nor an IP address"
	}
	return ""
}

// externalPort finds the port of an ExternalName Service that an Ingress
// backend names, as ingress-nginx does: the Service port of that number or
// name, whose numeric targetPort (else the port itself) is where
// connections go; a number no Service port has is used as it is, since an
// ExternalName Service needs no ports.
func externalPort(svc *corev1.Service, ref networkingv1.ServiceBackendPort) (port, target int32, ok bool) {
	if p, found := servicePort(svc, ref); found {
		target = p.Port
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal > 0 {
			target = p.TargetPort.IntVal
		}
		return p.Port, target, true
	}
	if ref.Name != "" || ref.Number < 1 {
		return 0, 0, false
	}
	return ref.Number, ref.Number, true
}
