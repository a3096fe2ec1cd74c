package xds

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"

	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// Delta ADS sends an Envoy the resources whose versions differ from those
// it holds. go-control-plane's snapshot cache finds them by going through
// every resource of the type, and makes a new map of every version the
// Envoy will hold, for each delta watch it answers: on a snapshot, for the
// clusters and for the endpoints of every Envoy, and once more for the
// endpoints when each Envoy acknowledges them. At 10,000 Ingresses, an
// endpoint change of one assignment was three passes over 10,000 names
// and three 10,000-entry maps per Envoy, two thirds of rukou's CPU for it.
//
// deltaCache answers delta watches instead, with work in proportion to the
// change: it keeps, for each type, the names each of the last snapshots
// changed, and a stream's versions map carries the snapshot it is up to date
// with (under deltaMark), so a watch looks only at the names changed since.
// The versions map it hands the delta server is the stream's own, updated
// in place. Each case it cannot tell (a new stream, a changed subscription,
// a stream many snapshots behind) goes through every resource, as before.
//
// That map is the delta server's subscription state, which the cache
// interface asks not to modify. The delta server (go-control-plane v0.14,
// pkg/server/delta/v3) touches it only on its stream's goroutine: it sets
// it from a response it takes off the channel, and changes it for a
// subscription change only after it has cancelled the type's watch, which
// waits for deltaCache's lock. So deltaCache changes a map only while it
// holds the watch (under its lock), or in CreateDeltaWatch, on that very
// goroutine; and only a map it made itself, never the initial versions of
// Envoy's request.
type deltaCache struct {
	mu      sync.Mutex
	kinds   [numKinds]deltaKind
	watches [numKinds]map[int64]*deltaWatch
	nextID  int64
}

// deltaMark is the entry of a versions map made by deltaCache that holds
// the revision of its type the map is up to date with. No resource is
// named so: names come from Kubernetes objects, which hold no NUL.
const deltaMark = "\x00rukou-revision"

// deltaOrder is the order in which a snapshot answers the watches: the
// routes and secrets that listeners name before the listeners, and a
// cluster before its endpoints. Envoy warms a cluster changed in place
// only with endpoints that arrive after it (see endpointVersion).
var deltaOrder = [numKinds]kind{routes, secrets, clusters, endpoints, listeners}

// deltaSteps is how many snapshots' changes a type keeps; a stream further
// behind gets the whole comparison.
const deltaSteps = 64

// deltaKind is one type as served to delta streams.
type deltaKind struct {
	// rev counts the snapshots that changed the type; 0 before the first.
	rev       uint64
	version   string
	resources map[string]types.Resource
	versions  map[string]string
	// steps are the names changed by each of the last revisions, oldest
	// first.
	steps []deltaStep
	// unsure is set when versions was changed in place by a snapshot that
	// was not set: the next revision counts as changing everything.
	unsure bool
}

// deltaStep is what revision rev changed: the names set, changed or
// removed, or everything (all) when that was most of the type.
type deltaStep struct {
	rev   uint64
	names []string
	all   bool
}

// namesPatched are the names a patch of a type changed from its version
// from: the endpoint path knows them, and saves a comparison of every
// version.
type namesPatched struct {
	from  string
	names []string
}

type deltaWatch struct {
	req *cachev3.DeltaRequest
	sub cachev3.Subscription
	out chan cachev3.DeltaResponse
	// rev is the revision the stream is known to be up to date with when
	// synced: it was answered nothing then.
	rev    uint64
	synced bool
}

func newDeltaCache() *deltaCache {
	d := &deltaCache{}
	for k := range numKinds {
		d.watches[k] = map[int64]*deltaWatch{}
	}
	return d
}

// CreateDeltaWatch answers req at once when the stream lacks something of
// the type served, and otherwise holds the watch until a snapshot changes
// what the stream subscribes to.
func (d *deltaCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	k, ok := kindOf(req.GetTypeUrl())
	if !ok {
		// A type rukou never serves: the first wildcard request gets its
		// empty answer, as Envoy needs to finish starting; nothing else.
		if sub.IsWildcard() && req.GetResponseNonce() == "" {
			out <- &deltaResponse{req: req, returned: map[string]string{}}
		}
		return func() {}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	w := &deltaWatch{req: req, sub: sub, out: out}
	if d.respond(context.Background(), k, w) {
		return nil, nil
	}
	d.nextID++
	id := d.nextID
	d.watches[k][id] = w
	return func() {
		d.mu.Lock()
		delete(d.watches[k], id)
		d.mu.Unlock()
	}, nil
}

// set makes snap the snapshot served to delta streams and answers the
// watches it changes something for.
func (d *deltaCache) set(ctx context.Context, snap cachev3.ResourceSnapshot) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	served, _ := snap.(*servedSnapshot)
	for k := range numKinds {
		url := k.url()
		dk := &d.kinds[k]
		version, resources, versions := snap.GetVersion(url), snap.GetResources(url), snap.GetVersionMap(url)
		if dk.rev > 0 && version == dk.version {
			// The same content, perhaps in other objects (cache.rehand).
			dk.resources, dk.versions = resources, versions
			continue
		}
		step := deltaStep{rev: dk.rev + 1, all: dk.rev == 0 || dk.unsure}
		dk.unsure = false
		switch p := served.patched(k); {
		case step.all:
		case p != nil && p.from == dk.version:
			step.names = p.names
		default:
			step.names, step.all = changedNames(dk.versions, versions)
		}
		if len(dk.steps) == deltaSteps {
			dk.steps = slices.Delete(dk.steps, 0, 1)
		}
		dk.steps = append(dk.steps, step)
		dk.rev, dk.version, dk.resources, dk.versions = step.rev, version, resources, versions
	}
	for _, k := range deltaOrder {
		ids := slices.Sorted(maps.Keys(d.watches[k]))
		for _, id := range ids {
			if d.respond(ctx, k, d.watches[k][id]) {
				delete(d.watches[k], id)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// unsure says that the versions served of kind k were changed in place by
// a snapshot that was never set here: the next snapshot is compared with
// what each stream holds, not with the versions before.
func (d *deltaCache) unsure(k kind) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.kinds[k].unsure = true
}

// changedNames are the names whose versions differ between before and
// after, or all when they are most of them.
func changedNames(before, after map[string]string) (names []string, all bool) {
	most := max(64, len(after)/2)
	for name, v := range after {
		if before[name] != v {
			names = append(names, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			names = append(names, name)
		}
	}
	if len(names) > most {
		return nil, true
	}
	return names, false
}

// since is the names changed after revision rev, in order; ok is false when
// the steps kept do not tell.
func (dk *deltaKind) since(rev uint64) (names [][]string, ok bool) {
	if len(dk.steps) == 0 || dk.steps[0].rev > rev+1 {
		return nil, false
	}
	for _, s := range dk.steps {
		if s.rev <= rev {
			continue
		}
		if s.all {
			return nil, false
		}
		names = append(names, s.names)
	}
	return names, true
}

// respond answers w when the stream lacks something of type k as served,
// and reports whether it did. Call with d.mu held.
func (d *deltaCache) respond(ctx context.Context, k kind, w *deltaWatch) bool {
	dk := &d.kinds[k]
	if dk.rev == 0 {
		return false
	}
	var resp *deltaResponse
	rev, known := w.upTo()
	switch changed, ok := dk.since(rev); {
	case known && rev == dk.rev:
		return false
	case known && ok:
		resp = dk.patch(w, changed)
	default:
		resp = dk.compare(w)
	}
	first := w.sub.IsWildcard() && w.req.GetResponseNonce() == ""
	if len(resp.resources) == 0 && len(resp.removed) == 0 && !first {
		w.rev, w.synced = dk.rev, true
		return false
	}
	resp.req, resp.version, resp.ctx = w.req, dk.version, ctx
	// Never dropped, as the stream's versions map may already hold it:
	// the delta server's channel has room for one response per type, and
	// it closes the channel only after cancelling the watches, which waits
	// for d.mu.
	w.out <- resp
	return true
}

// upTo is the revision w's stream is known to hold; ok is false when it is
// not known.
func (w *deltaWatch) upTo() (rev uint64, ok bool) {
	if w.synced {
		return w.rev, true
	}
	// A request that changes the subscription changes the map too, or
	// wants resources it did not want at its revision.
	if len(w.req.GetResourceNamesSubscribe()) > 0 || len(w.req.GetResourceNamesUnsubscribe()) > 0 {
		return 0, false
	}
	return revisionOf(w.sub.ReturnedResources())
}

// revisionOf reads the revision a versions map made by deltaCache holds;
// ok is false for any other map.
func revisionOf(m map[string]string) (uint64, bool) {
	s, ok := m[deltaMark]
	if !ok {
		return 0, false
	}
	rev, err := strconv.ParseUint(s, 10, 64)
	return rev, err == nil
}

// wants says whether w's stream subscribes to name.
func (w *deltaWatch) wants(name string) bool {
	if w.sub.IsWildcard() {
		return true
	}
	_, ok := w.sub.SubscribedResources()[name]
	return ok
}

// patch answers w with the resources among changed whose versions differ
// from those its stream holds, updating the stream's versions map in place.
func (dk *deltaKind) patch(w *deltaWatch, changed [][]string) *deltaResponse {
	held := w.sub.ReturnedResources()
	if _, ours := revisionOf(held); !ours {
		held = maps.Clone(held)
	}
	resp := &deltaResponse{returned: held}
	for _, names := range changed {
		for _, name := range names {
			if !w.wants(name) {
				continue
			}
			if r, ok := dk.resources[name]; ok {
				if v := dk.versions[name]; held[name] != v {
					resp.resources = append(resp.resources, deltaResource{name, r, v})
					held[name] = v
				}
			} else if _, had := held[name]; had {
				resp.removed = append(resp.removed, name)
				delete(held, name)
			}
		}
	}
	held[deltaMark] = strconv.FormatUint(dk.rev, 10)
	return resp
}

// compare answers w by comparing every resource its stream subscribes to
// with what the stream holds, into a new versions map.
func (dk *deltaKind) compare(w *deltaWatch) *deltaResponse {
	held := w.sub.ReturnedResources()
	resp := &deltaResponse{}
	if w.sub.IsWildcard() {
		resp.returned = make(map[string]string, len(dk.resources)+1)
		for name, r := range dk.resources {
			v := dk.versions[name]
			resp.returned[name] = v
			if prev, ok := held[name]; !ok || prev != v {
				resp.resources = append(resp.resources, deltaResource{name, r, v})
			}
		}
		for name := range held {
			if _, ok := dk.resources[name]; !ok && name != deltaMark {
				resp.removed = append(resp.removed, name)
			}
		}
	} else {
		subscribed := w.sub.SubscribedResources()
		resp.returned = make(map[string]string, len(subscribed)+1)
		for name := range subscribed {
			prev, found := held[name]
			if r, ok := dk.resources[name]; ok {
				v := dk.versions[name]
				if prev != v {
					resp.resources = append(resp.resources, deltaResource{name, r, v})
				}
				resp.returned[name] = v
			} else if found {
				resp.removed = append(resp.removed, name)
			}
		}
	}
	resp.returned[deltaMark] = strconv.FormatUint(dk.rev, 10)
	return resp
}

// watching counts the watches held, for tests.
func (d *deltaCache) watching() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for k := range numKinds {
		n += len(d.watches[k])
	}
	return n
}

type deltaResource struct {
	name     string
	resource types.Resource
	version  string
}

// deltaResponse is one answer to a delta watch. It is encoded on the
// stream's goroutine, when the delta server sends it, not under the
// cache's lock.
type deltaResponse struct {
	req       *cachev3.DeltaRequest
	version   string
	resources []deltaResource
	removed   []string
	// returned are the versions the stream holds once it has this.
	returned map[string]string
	ctx      context.Context

	once    sync.Once
	encoded *envoy_service_discovery_v3.DeltaDiscoveryResponse
	err     error
}

// GetDeltaDiscoveryResponse encodes the response once. Each resource goes
// with the version rukou serves it under, the one an Envoy that connects
// again names in its first request, so that what it holds is not sent
// again.
func (r *deltaResponse) GetDeltaDiscoveryResponse() (*envoy_service_discovery_v3.DeltaDiscoveryResponse, error) {
	r.once.Do(func() {
		typeURL := r.req.GetTypeUrl()
		out := &envoy_service_discovery_v3.DeltaDiscoveryResponse{
			TypeUrl:           typeURL,
			SystemVersionInfo: r.version,
			RemovedResources:  r.removed,
			Resources:         make([]*envoy_service_discovery_v3.Resource, len(r.resources)),
		}
		for i, res := range r.resources {
			b, err := cachev3.MarshalResource(res.resource)
			if err != nil {
				r.err = err
				return
			}
			out.Resources[i] = &envoy_service_discovery_v3.Resource{
				Name:     res.name,
				Version:  res.version,
				Resource: &anypb.Any{TypeUrl: typeURL, Value: b},
			}
		}
		r.encoded = out
	})
	return r.encoded, r.err
}

func (r *deltaResponse) GetDeltaRequest() *cachev3.DeltaRequest  { return r.req }
func (r *deltaResponse) GetSystemVersion() (string, error)       { return r.version, nil }
func (r *deltaResponse) GetResponseVersion() string              { return r.version }
func (r *deltaResponse) GetNextVersionMap() map[string]string    { return r.returned }
func (r *deltaResponse) GetReturnedResources() map[string]string { return r.returned }
func (r *deltaResponse) GetContext() context.Context             { return r.ctx }
