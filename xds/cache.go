package xds

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/rukou/rukou/translator/envoy"
)

// fleet is the one snapshot key every Envoy shares: all Envoys of a rukou
// installation serve the same configuration.
const fleet = "rukou"

// cache composes the snapshots Envoys get from the latest translation, and
// orders the steps of a change so that no request fails because of the order
// in which Envoy applies updates (make-before-break):
//
//  1. make: clusters that new routes use are served, with their endpoints,
//     while the routes served stay the old ones; Envoy warms them.
//  2. once every Envoy has acknowledged their endpoints, the new listeners,
//     routes and secrets are served; clusters only old routes use stay.
//  3. break: once every Envoy has acknowledged routes that no longer use a
//     cluster, it is removed.
//
// Each wait is bounded by hold, so one stuck Envoy cannot freeze the fleet.
// An endpoint-only change adds no cluster, so it goes out at once.
//
// Every snapshot holds exactly one endpoint assignment per cluster it holds,
// and the routes its listeners name: state-of-the-world ADS answers endpoints
// only when Envoy asked for every assignment, and Envoy asks for the
// endpoints of the clusters it has (a new cluster's endpoints go out once
// Envoy has the cluster and asks again). Routes and secrets are answered as
// asked (named.go): Envoy asks for those of the listeners it accepted.
type cache struct {
	snapshots cachev3.SnapshotCache
	// split is the cache inside snapshots: the endpoint path changes the
	// endpoints served in place under its lock (patchEndpoints).
	split   splitCache
	book    *book
	metrics *metrics
	log     *slog.Logger
	hold    time.Duration

	mu sync.Mutex
	// target is the latest translation; front is the one whose listeners,
	// routes and secrets are served, frontClusters the clusters it uses.
	target, front *envoy.Resources
	frontClusters map[string]bool
	// served are the clusters of the snapshot served now.
	served map[string]servedCluster
	// warming are new clusters of the target not yet warm on every Envoy;
	// retained are clusters no served route uses any more, kept until every
	// Envoy has acknowledged routes without them.
	warming  map[string]step
	retained map[string]step
	// kinds are the resources served, type by type, with their versions;
	// endpointAt finds an assignment among kinds[endpoints].items by
	// cluster name, made on the first endpoint change after a compose.
	kinds      [numKinds]kindSnapshot
	endpointAt map[string]int

	// resends counts the times the listeners were sent again after a NACK
	// (resendListeners); listenersRejected is set by an Envoy's NACK of
	// listeners and cleared when they are sent again.
	resends           uint64
	listenersRejected atomic.Bool

	// Read without the lock, by metrics and readiness.
	gen              atomic.Uint64
	nWarm, nRetained atomic.Int64
	ready            atomic.Bool
	counts           [numKinds]atomic.Int64
	// generic are the generic secrets served now (basic authentication's
	// users), by name, for the limiter in rukou's own process.
	generic atomic.Pointer[map[string][]byte]
}

type servedCluster struct {
	cluster *envoy_config_cluster_v3.Cluster
	cla     *envoy_config_endpoint_v3.ClusterLoadAssignment
}

// step is one make-before-break wait: the generation it waits for Envoys to
// reach, and when it began.
type step struct {
	gen   uint64
	since time.Time
}

func newCache(b *book, m *metrics, log *slog.Logger, hold time.Duration) *cache {
	split := newSplitCache(cacheLogger{log})
	return &cache{
		snapshots: nackCache{split},
		split:     split,
		book:      b,
		metrics:   m,
		log:       log,
		hold:      hold,
		served:    map[string]servedCluster{},
		warming:   map[string]step{},
		retained:  map[string]step{},
	}
}

// update makes res the target and serves what may be served of it now.
func (c *cache) update(ctx context.Context, res *envoy.Resources) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if done, err := c.serveEndpoints(ctx, res); done {
		return err
	}
	c.target = res
	return c.compose(ctx, time.Now())
}

// settle serves the next make-before-break step when Envoys have reached it
// or its time is up. It is cheap when nothing waits.
func (c *cache) settle(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target == nil || (c.front == c.target && len(c.warming) == 0 && len(c.retained) == 0) {
		return nil
	}
	return c.compose(ctx, time.Now())
}

// compose builds the snapshot for the current target and state, and sets it
// when it differs from the one served. Call with c.mu held.
func (c *cache) compose(ctx context.Context, now time.Time) error {
	t := c.target
	next := c.gen.Load() + 1
	inTarget := make(map[string]*envoy_config_cluster_v3.Cluster, len(t.Clusters))
	for _, cl := range t.Clusters {
		inTarget[cl.Name] = cl
	}
	c.makeStep(next, now, inTarget)
	if c.front != t && len(c.warming) == 0 {
		c.front = t
		c.frontClusters = make(map[string]bool, len(t.Clusters))
		for _, cl := range t.Clusters {
			c.frontClusters[cl.Name] = true
		}
	}
	c.served = c.breakStep(next, now, inTarget)
	names := c.servedNames(inTarget)
	c.nWarm.Store(int64(len(c.warming)))
	c.nRetained.Store(int64(len(c.retained)))

	if err := c.set(ctx, next, names); err != nil {
		return err
	}
	if c.gen.Load() < next {
		// Nothing changed, so no snapshot next: clusters that began to wait
		// for it wait for the routes served now, which do not use them.
		for name, r := range c.retained {
			if r.gen == next {
				c.retained[name] = step{gen: next - 1, since: r.since}
			}
		}
	}
	return nil
}

// makeStep is the make step: the target's new clusters are served before routes
// use them, and wait in warming until every Envoy has their endpoints or
// the hold runs out. Call with c.mu held.
func (c *cache) makeStep(next uint64, now time.Time, inTarget map[string]*envoy_config_cluster_v3.Cluster) {
	t := c.target
	if c.front != t && c.front != nil {
		for _, cl := range t.Clusters {
			// A cluster that carries its endpoints (static, DNS) has no
			// assignment to wait for; Envoy warms it itself (a DNS
			// cluster after its first lookup) before it takes traffic.
			if cl.GetEdsClusterConfig() == nil {
				continue
			}
			if _, ok := c.served[cl.Name]; !ok {
				if _, ok := c.warming[cl.Name]; !ok {
					c.warming[cl.Name] = step{gen: next, since: now}
				}
			}
		}
	}
	var oldest time.Time
	for name, w := range c.warming {
		if inTarget[name] == nil || c.book.warm(name, w.gen) {
			delete(c.warming, name)
			continue
		}
		if oldest.IsZero() || w.since.Before(oldest) {
			oldest = w.since
		}
	}
	if len(c.warming) > 0 && now.Sub(oldest) >= c.hold {
		c.metrics.holdTimeouts.WithLabelValues("routes").Inc()
		c.log.Warn("sending new routes before every Envoy acknowledged the endpoints of their new clusters", "waited", now.Sub(oldest).Round(time.Millisecond), "clusters", sortedKeys(c.warming))
		clear(c.warming)
	}
}

// breakStep is the break step: it returns the clusters to serve, the
// target's and those that served routes used, which stay until every Envoy
// has acknowledged routes without them or the hold runs out. Call with c.mu
// held.
func (c *cache) breakStep(next uint64, now time.Time, inTarget map[string]*envoy_config_cluster_v3.Cluster) map[string]servedCluster {
	t := c.target
	targetCLAs := assignments(t.Endpoints)
	served := make(map[string]servedCluster, len(t.Clusters)+len(c.retained))
	for _, cl := range t.Clusters {
		served[cl.Name] = servedCluster{cl, targetCLAs[edsName(cl)]}
	}
	for name, sc := range c.served {
		if inTarget[name] != nil {
			continue
		}
		if c.frontClusters[name] {
			served[name] = sc
			continue
		}
		r, ok := c.retained[name]
		if !ok {
			r = step{gen: next, since: now}
			c.retained[name] = r
		}
		switch {
		case c.book.routesSince(r.gen):
			delete(c.retained, name)
		case now.Sub(r.since) >= c.hold:
			c.metrics.holdTimeouts.WithLabelValues("clusters").Inc()
			c.log.Warn("removing a cluster before every Envoy acknowledged routes without it", "cluster", name, "waited", now.Sub(r.since).Round(time.Millisecond))
			delete(c.retained, name)
		default:
			served[name] = sc
		}
	}
	for name := range c.retained {
		if _, ok := served[name]; !ok || inTarget[name] != nil {
			delete(c.retained, name)
		}
	}
	return served
}

// servedNames lists the clusters in c.served, sorted. Call with c.mu held.
func (c *cache) servedNames(inTarget map[string]*envoy_config_cluster_v3.Cluster) []string {
	// The target's clusters come sorted; the few that stay for old routes
	// join them.
	names := make([]string, 0, len(c.served))
	for _, cl := range c.target.Clusters {
		names = append(names, cl.Name)
	}
	for name := range c.served {
		if inTarget[name] == nil {
			names = append(names, name)
		}
	}
	if !slices.IsSorted(names) {
		slices.Sort(names)
	}
	return names
}

// assignments indexes endpoint assignments by cluster name.
func assignments(claList []*envoy_config_endpoint_v3.ClusterLoadAssignment) map[string]*envoy_config_endpoint_v3.ClusterLoadAssignment {
	out := make(map[string]*envoy_config_endpoint_v3.ClusterLoadAssignment, len(claList))
	for _, cla := range claList {
		out[cla.ClusterName] = cla
	}
	return out
}

// edsName is the name under which an EDS cluster asks for its endpoints.
func edsName(cl *envoy_config_cluster_v3.Cluster) string {
	if n := cl.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n
	}
	return cl.Name
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// held is what make-before-break holds back now.
type held struct{ warming, retained int }

func (c *cache) held() held {
	return held{warming: int(c.nWarm.Load()), retained: int(c.nRetained.Load())}
}

// resourceCounts returns the number of resources per type served now.
func (c *cache) resourceCounts() [numKinds]int {
	var out [numKinds]int
	for k := range numKinds {
		out[k] = int(c.counts[k].Load())
	}
	return out
}

// Status is what /debug/xds shows: the snapshot served, what
// make-before-break holds back, and the connected Envoy nodes.
type Status struct {
	// Generation counts the snapshots set since rukou started.
	Generation uint64 `json:"generation"`
	Ready      bool   `json:"ready"`
	// Types holds, per resource type, the version served and how many
	// resources it has.
	Types map[string]TypeStatus `json:"types"`
	// RoutesCurrent is false while the routes served lag the latest
	// translation, waiting for Envoys to warm the clusters in Warming.
	RoutesCurrent bool          `json:"routesCurrent"`
	Warming       []HeldCluster `json:"warming"`
	// Retained are clusters the latest routes no longer use, kept until
	// every Envoy has acknowledged those routes.
	Retained []HeldCluster `json:"retained"`
	Nodes    []NodeStatus  `json:"nodes"`
}

// TypeStatus is the served version of one resource type.
type TypeStatus struct {
	Version   string `json:"version"`
	Resources int    `json:"resources"`
}

// HeldCluster is a cluster make-before-break holds, since when, and the
// snapshot generation Envoys must reach to release it.
type HeldCluster struct {
	Name       string    `json:"name"`
	Since      time.Time `json:"since"`
	Generation uint64    `json:"generation"`
}

func (c *cache) status() Status {
	c.mu.Lock()
	st := Status{
		Generation:    c.gen.Load(),
		Ready:         c.ready.Load(),
		Types:         map[string]TypeStatus{},
		RoutesCurrent: c.front == c.target,
		Warming:       heldList(c.warming),
		Retained:      heldList(c.retained),
	}
	for k := range numKinds {
		st.Types[k.String()] = TypeStatus{Version: c.kinds[k].version, Resources: len(c.kinds[k].items)}
	}
	c.mu.Unlock()
	st.Nodes = c.book.status()
	return st
}

func heldList(m map[string]step) []HeldCluster {
	out := make([]HeldCluster, 0, len(m))
	for name, s := range m {
		out = append(out, HeldCluster{Name: name, Since: s.since, Generation: s.gen})
	}
	slices.SortFunc(out, func(x, y HeldCluster) int { return cmp.Compare(x.Name, y.Name) })
	return out
}
