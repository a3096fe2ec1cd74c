package translator

import (
	"fmt"
	"slices"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// UpdateEndpoints is the fast path for a change that touched only
// EndpointSlices: it recomputes the endpoints of prev's backends from in and
// reuses everything else. Listeners, routes, clusters, diagnostics and
// Ingress statuses cannot depend on endpoints, so they stay as they were.
// A backend whose endpoints did not change keeps its very assignment object,
// which the xDS server recognises without encoding it again.
func UpdateEndpoints(prev *Result, in Input) (*Result, error) {
	ix := newIndex(Input{EndpointSlices: in.EndpointSlices})
	model := *prev.Model
	model.Backends = make([]*Backend, len(prev.Model.Backends))
	res := *prev.Resources
	res.Endpoints = make([]*envoy_config_endpoint_v3.ClusterLoadAssignment, len(prev.Model.Backends))
	for i, be := range prev.Model.Backends {
		eps := ix.endpoints(be.Namespace, be.Service, be.PortName)
		// prev's assignments are in the order of its backends (endpoints).
		if slices.Equal(eps, be.Endpoints) {
			model.Backends[i], res.Endpoints[i] = be, prev.Resources.Endpoints[i]
			continue
		}
		next := *be
		next.Endpoints = eps
		cla := loadAssignment(&next)
		if err := cla.ValidateAll(); err != nil {
			return nil, fmt.Errorf("generated Envoy configuration is invalid: cluster load assignment %q: %w", cla.ClusterName, err)
		}
		model.Backends[i], res.Endpoints[i] = &next, cla
	}
	out := *prev
	out.Model, out.Resources = &model, &res
	return &out, nil
}
