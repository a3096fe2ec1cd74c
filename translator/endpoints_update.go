package translator

import (
	"errors"
	"fmt"
	"slices"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/rukou/rukou/translator/envoy"
	"github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/ir"
)

// ErrNeedsTranslate says that a change of endpoints changes more than
// endpoints: Translate must run instead of UpdateEndpoints.
var ErrNeedsTranslate = errors.New("the endpoints change routes: translate everything")

// UpdateEndpoints is the fast path for a change that touched only
// EndpointSlices: it recomputes the endpoints of prev's backends from in and
// reuses everything else. Listeners, routes, clusters, diagnostics and
// Ingress statuses cannot depend on endpoints, so they stay as they were.
// A backend whose endpoints did not change keeps its very assignment object,
// which the xDS server recognises without encoding it again.
//
// The one exception is the controller's default backend, which routes reach
// only while it has endpoints: when it gains its first or loses its last,
// UpdateEndpoints returns ErrNeedsTranslate and the caller translates
// everything.
func UpdateEndpoints(prev *Result, in Input) (*Result, error) {
	ix := ingress.NewEndpointIndex(in.EndpointSlices)
	if d := prev.Model.ControllerDefault; d != nil && (len(ix.Endpoints(d)) == 0) != (len(d.Endpoints) == 0) {
		return nil, ErrNeedsTranslate
	}
	model, cfg, res := *prev.Model, *prev.Config, *prev.Resources
	n := len(prev.Model.Backends)
	model.Backends = make([]*ingress.Backend, n)
	cfg.Clusters = make([]*ir.Cluster, n)
	res.Endpoints = make([]*envoy_config_endpoint_v3.ClusterLoadAssignment, 0, len(prev.Resources.Endpoints))
	// The model's backends and the clusters share one order, by name; the
	// assignments follow it too, skipping the clusters that carry their
	// own endpoints (ExternalName Services), which slices never change.
	next := 0
	for i, be := range prev.Model.Backends {
		model.Backends[i], cfg.Clusters[i] = be, prev.Config.Clusters[i]
		if cfg.Clusters[i].Discovery != ir.DiscoveryEDS {
			continue
		}
		cla := prev.Resources.Endpoints[next]
		next++
		if eps := ix.Endpoints(be); !slices.Equal(eps, be.Endpoints) {
			nextBackend, nextCluster := *be, *prev.Config.Clusters[i]
			nextBackend.Endpoints, nextCluster.Endpoints = eps, eps
			cla = envoy.LoadAssignment(&nextCluster)
			if err := cla.ValidateAll(); err != nil {
				return nil, fmt.Errorf("generated Envoy configuration is invalid: cluster load assignment %q: %w", cla.ClusterName, err)
			}
			model.Backends[i], cfg.Clusters[i] = &nextBackend, &nextCluster
		}
		res.Endpoints = append(res.Endpoints, cla)
	}
	out := *prev
	out.Model, out.Config, out.Resources = &model, &cfg, &res
	return &out, nil
}
