package translator

import (
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/rukou/rukou/translator/envoy"
	"github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/ir"
	"k8s.io/apimachinery/pkg/types"
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
	return updateEndpoints(prev, nil, in)
}

// UpdateServiceEndpoints is UpdateEndpoints for a change of the
// EndpointSlices of services alone: in needs to hold only their slices, and
// only their backends are looked at, so that its cost follows the number of
// backends changed, not the number of Ingresses.
func UpdateServiceEndpoints(prev *Result, services map[types.NamespacedName]bool, in Input) (*Result, error) {
	if services == nil {
		services = map[types.NamespacedName]bool{}
	}
	return updateEndpoints(prev, services, in)
}

// updateEndpoints recomputes the endpoints of the backends of services, or
// of every backend when services is nil.
func updateEndpoints(prev *Result, services map[types.NamespacedName]bool, in Input) (*Result, error) {
	ix := ingress.NewEndpointIndex(in.EndpointSlices)
	if d := prev.Model.ControllerDefault; d != nil && (services == nil || services[serviceOf(d)]) && (len(ix.Endpoints(d)) == 0) != (len(d.Endpoints) == 0) {
		return nil, ErrNeedsTranslate
	}
	model, cfg, res := *prev.Model, *prev.Config, *prev.Resources
	copied := false
	for i := range prev.backends.affected(services, len(prev.Model.Backends)) {
		be, at := prev.Model.Backends[i], prev.backends.assignmentAt[i]
		eps := ix.Endpoints(be)
		if at < 0 || slices.Equal(eps, be.Endpoints) {
			continue // ExternalName Services carry their own endpoints
		}
		if !copied {
			// Copy on write: prev stays as it was, and every backend
			// whose endpoints did not change keeps its very assignment
			// object.
			model.Backends, cfg.Clusters, res.Endpoints = slices.Clone(model.Backends), slices.Clone(cfg.Clusters), slices.Clone(res.Endpoints)
			copied = true
		}
		nextBackend, nextCluster := *be, *prev.Config.Clusters[i]
		nextBackend.Endpoints, nextCluster.Endpoints = eps, eps
		cla := envoy.Assignment(&nextCluster)
		if err := cla.ValidateAll(); err != nil {
			return nil, fmt.Errorf("generated Envoy configuration is invalid: cluster load assignment %q: %w", cla.ClusterName, err)
		}
		model.Backends[i], cfg.Clusters[i], res.Endpoints[at] = &nextBackend, &nextCluster, cla
	}
	out := *prev
	out.Model, out.Config, out.Resources = &model, &cfg, &res
	return &out, nil
}

// backendIndex finds a result's backends by Service without going through
// them all. The model's backends and the clusters share one order, by name;
// the assignments follow it too, skipping the clusters that carry their own
// endpoints (ExternalName Services), which slices never change.
type backendIndex struct {
	// byService are the positions of each Service's backends.
	byService map[types.NamespacedName][]int
	// assignmentAt is the position of each backend's assignment among the
	// resources' endpoints, or -1 for a cluster without one.
	assignmentAt []int
}

// indexBackends indexes the backends of model, rendered as cfg.
func indexBackends(model *ingress.Model, cfg *ir.Config) backendIndex {
	ix := backendIndex{byService: make(map[types.NamespacedName][]int, len(model.Backends)), assignmentAt: make([]int, len(model.Backends))}
	next := 0
	for i, be := range model.Backends {
		svc := serviceOf(be)
		ix.byService[svc] = append(ix.byService[svc], i)
		ix.assignmentAt[i] = -1
		if cfg.Clusters[i].Discovery == ir.DiscoveryEDS {
			ix.assignmentAt[i] = next
			next++
		}
	}
	return ix
}

// affected yields the positions of the backends of services, or of all n
// backends when services is nil.
func (ix backendIndex) affected(services map[types.NamespacedName]bool, n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		if services == nil {
			for i := range n {
				if !yield(i) {
					return
				}
			}
			return
		}
		for svc := range services {
			for _, i := range ix.byService[svc] {
				if !yield(i) {
					return
				}
			}
		}
	}
}

// serviceOf names a backend's Service.
func serviceOf(be *ingress.Backend) types.NamespacedName {
	return types.NamespacedName{Namespace: be.Namespace, Name: be.Service}
}
