package translator

import "fmt"

// UpdateEndpoints is the fast path for a change that touched only
// EndpointSlices: it recomputes the endpoints of prev's backends from in and
// reuses everything else. Listeners, routes, clusters, diagnostics and
// Ingress statuses cannot depend on endpoints, so they stay as they were.
func UpdateEndpoints(prev *Result, in Input) (*Result, error) {
	ix := newIndex(Input{EndpointSlices: in.EndpointSlices})
	model := *prev.Model
	model.Backends = make([]*Backend, len(prev.Model.Backends))
	for i, be := range prev.Model.Backends {
		next := *be
		next.Endpoints = ix.endpoints(be.Namespace, be.Service, be.PortName)
		model.Backends[i] = &next
	}
	res := *prev.Resources
	res.Endpoints = endpoints(&model)
	for _, e := range res.Endpoints {
		if err := e.ValidateAll(); err != nil {
			return nil, fmt.Errorf("generated Envoy configuration is invalid: cluster load assignment %q: %w", e.ClusterName, err)
		}
	}
	out := *prev
	out.Model, out.Resources = &model, &res
	return &out, nil
}
