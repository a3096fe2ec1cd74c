package ingress

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"weak"

	"github.com/rukou/rukou/translator/ir"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
)

// index gives the builder lookups by name over one Input.
type index struct {
	classes  map[string]*networkingv1.IngressClass
	services map[objectKey]*corev1.Service
	slices   map[objectKey][]*discoveryv1.EndpointSlice // by Service
	// read records each Service looked up, found or not (Reads.Services);
	// nil records nothing.
	read map[types.NamespacedName]struct{}
	// noExternalName refuses ExternalName Services (Options.DisableExternalName).
	noExternalName bool
	// found holds the endpoints this index found, by Service port, and
	// before those of the model built before it (nil for none). A Service
	// port whose EndpointSlices are the very objects they were read from
	// then keeps its endpoints: the store replaces an object that changes,
	// so after one change among 10,000 Services, 9,999 are not read again.
	found, before map[endpointsKey]foundEndpoints
}

// endpointsKey names a Service port by the name EndpointSlices give it.
type endpointsKey struct{ namespace, service, port string }

// foundEndpoints are the endpoints of a Service port and the
// EndpointSlices, in their order, they were read from. They are shared
// between models, never changed. The slices are held weakly: a model
// kept while endpoint updates alone replace its Services' slices (see
// translator.UpdateEndpoints) must not keep the replaced ones alive, and
// a slice collected since no longer equals any live one.
type foundEndpoints struct {
	from      []weak.Pointer[discoveryv1.EndpointSlice]
	endpoints []ir.Endpoint
}

func newFoundEndpoints(from []*discoveryv1.EndpointSlice, portName string) foundEndpoints {
	f := foundEndpoints{from: make([]weak.Pointer[discoveryv1.EndpointSlice], len(from)), endpoints: readEndpoints(from, portName)}
	for i, es := range from {
		f.from[i] = weak.Make(es)
	}
	return f
}

// readFrom says the endpoints were read from exactly these slices.
func (f foundEndpoints) readFrom(slices []*discoveryv1.EndpointSlice) bool {
	if len(f.from) != len(slices) {
		return false
	}
	for i, es := range slices {
		if f.from[i].Value() != es {
			return false
		}
	}
	return true
}

// objectKey names an object of a namespace; its strings are the objects'
// own, so indexing 10,000 Services makes no new ones.
type objectKey struct{ namespace, name string }

func newIndex(in Input) *index {
	ix := &index{
		classes:  make(map[string]*networkingv1.IngressClass, len(in.IngressClasses)),
		services: make(map[objectKey]*corev1.Service, len(in.Services)),
		slices:   make(map[objectKey][]*discoveryv1.EndpointSlice, len(in.EndpointSlices)),
	}
	for _, c := range in.IngressClasses {
		ix.classes[c.Name] = c
	}
	for _, s := range in.Services {
		ix.services[objectKey{s.Namespace, s.Name}] = s
	}
	for _, es := range in.EndpointSlices {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		key := objectKey{es.Namespace, svc}
		ix.slices[key] = append(ix.slices[key], es)
	}
	return ix
}

// service looks up a Service, recording that the model read it.
func (ix *index) service(namespace, name string) (*corev1.Service, bool) {
	if ix.read != nil {
		ix.read[types.NamespacedName{Namespace: namespace, Name: name}] = struct{}{}
	}
	svc, ok := ix.services[objectKey{namespace, name}]
	return svc, ok
}

// backendError is why an Ingress backend cannot be used.
type backendError struct {
	reason ir.Reason
	msg    string
}

// backend resolves an Ingress's Service backend to a model Backend with its
// endpoints.
func (ix *index) backend(namespace string, ref networkingv1.IngressServiceBackend) (*Backend, *backendError) {
	svc, ok := ix.service(namespace, ref.Name)
	if !ok {
		return nil, &backendError{ir.ReasonServiceNotFound, fmt.Sprintf("service %q not found", ref.Name)}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		if ix.noExternalName {
			return nil, &backendError{ir.ReasonExternalNameRefused,
				fmt.Sprintf("service %s/%s is of type ExternalName, which --disable-svc-external-name refuses", namespace, svc.Name)}
		}
		return externalBackend(namespace, svc, ref.Port)
	}
	port, ok := servicePort(svc, ref.Port)
	if !ok {
		return nil, &backendError{ir.ReasonServicePortNotFound, fmt.Sprintf("service %q has no port %q", ref.Name, portRef(ref.Port))}
	}
	return ix.portBackend(namespace, svc.Name, port), nil
}

// portBackend is the Backend of a Service port, with its endpoints.
func (ix *index) portBackend(namespace, service string, port corev1.ServicePort) *Backend {
	return &Backend{
		Name:      portKey(namespace, service, port.Port),
		Namespace: namespace,
		Service:   service,
		Port:      port.Port,
		PortName:  port.Name,
		Endpoints: ix.endpoints(namespace, service, port.Name),
	}
}

// clusterIP is the address of a Service that has one: "" for a headless
// Service, a missing one, or an address that is not one.
func (ix *index) clusterIP(namespace, service string) string {
	svc, ok := ix.service(namespace, service)
	if !ok {
		return ""
	}
	if _, err := netip.ParseAddr(svc.Spec.ClusterIP); err != nil {
		return "" // "None" (headless) or unset
	}
	return svc.Spec.ClusterIP
}

// portRef is how an Ingress backend names a Service port: by name, else
// by number.
func portRef(ref networkingv1.ServiceBackendPort) string {
	if ref.Name != "" {
		return ref.Name
	}
	return strconv.Itoa(int(ref.Number))
}

func servicePort(svc *corev1.Service, ref networkingv1.ServiceBackendPort) (corev1.ServicePort, bool) {
	for _, p := range svc.Spec.Ports {
		if (ref.Name != "" && p.Name == ref.Name) || (ref.Name == "" && p.Port == ref.Number) {
			return p, true
		}
	}
	return corev1.ServicePort{}, false
}

// endpoints lists the addresses behind a Service port. The EndpointSlice port
// with the Service port's name gives the target port. Ready endpoints are
// used; when none is ready, serving endpoints that are terminating are used
// instead, as kube-proxy does, so a rollout's last pods still get traffic.
func (ix *index) endpoints(namespace, service, portName string) []ir.Endpoint {
	from := ix.slices[objectKey{namespace, service}]
	if ix.found == nil {
		return readEndpoints(from, portName)
	}
	k := endpointsKey{namespace, service, portName}
	if f, ok := ix.found[k]; ok {
		return f.endpoints
	}
	f, ok := ix.before[k]
	if !ok || !f.readFrom(from) {
		f = newFoundEndpoints(from, portName)
	}
	ix.found[k] = f
	return f.endpoints
}

// readEndpoints lists the endpoints of the Service port named portName in
// a Service's EndpointSlices.
func readEndpoints(from []*discoveryv1.EndpointSlice, portName string) []ir.Endpoint {
	var ready, terminating []ir.Endpoint
	for _, es := range from {
		if es.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		// Slices read from files are not checked by an API server, and
		// one endpoint Envoy would refuse must not fail the translation.
		target, ok := slicePort(es, portName)
		if !ok || target < 1 || target > 65535 {
			continue
		}
		for _, ep := range es.Endpoints {
			c := ep.Conditions
			isReady := c.Ready == nil || *c.Ready
			isServing := (c.Serving == nil && isReady) || (c.Serving != nil && *c.Serving)
			isTerminating := c.Terminating != nil && *c.Terminating
			for _, addr := range ep.Addresses {
				if _, err := netip.ParseAddr(addr); err != nil {
					continue
				}
				e := ir.Endpoint{Address: addr, Port: target}
				switch {
				case isReady:
					ready = append(ready, e)
				case isServing && isTerminating:
					terminating = append(terminating, e)
				}
			}
		}
	}
	out := ready
	if len(out) == 0 {
		out = terminating
	}
	slices.SortFunc(out, func(x, y ir.Endpoint) int {
		return cmp.Or(cmp.Compare(x.Address, y.Address), cmp.Compare(x.Port, y.Port))
	})
	return slices.Compact(out)
}

func slicePort(es *discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range es.Ports {
		pname := ""
		if p.Name != nil {
			pname = *p.Name
		}
		if pname == name && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

// EndpointIndex finds the endpoints of backends in a set of EndpointSlices,
// for updates that touched only EndpointSlices.
type EndpointIndex struct{ ix *index }

// NewEndpointIndex indexes slices by Service.
func NewEndpointIndex(slices []*discoveryv1.EndpointSlice) EndpointIndex {
	return EndpointIndex{newIndex(Input{EndpointSlices: slices})}
}

// Endpoints lists the addresses behind a backend's Service port, as Build
// finds them.
func (e EndpointIndex) Endpoints(be *Backend) []ir.Endpoint {
	if be.ExternalName != "" || be.ClusterIP != "" {
		return be.Endpoints // from the Service, never from EndpointSlices
	}
	return e.ix.endpoints(be.Namespace, be.Service, be.PortName)
}
