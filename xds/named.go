package xds

import (
	"context"
	"sync"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// Envoy asks for route configurations and secrets by the names its
// listeners give, so what it asks for is what it accepted, not what the
// snapshot holds. After a NACK that rejected one listener (the HTTPS
// listener whose port another program holds, say), Envoy asks for the
// routes of the listeners it kept, and for no secret at all when the
// rejected listener was the only one with TLS.
//
// go-control-plane's snapshot cache in ADS mode answers a
// state-of-the-world request only when it names every resource of the
// snapshot; a request for fewer is dropped, and no later snapshot answers it.
// That wait is what make-before-break relies on for endpoints (an Envoy asks
// for a new cluster's endpoints once it has the cluster), but for routes it
// froze every listener's routes behind the rejected one: the plain HTTP
// listener waited for its routes until Envoy's initial fetch timed out, and
// then got no route change at all.
//
// splitCache therefore serves routes and secrets from a second snapshot
// cache, not in ADS mode, which answers exactly the names asked for, and
// everything else from the ADS-mode cache. Both hold the same snapshot.
// Delta streams, which name what they want whatever the mode, are
// answered by deltaCache, from that snapshot too.
type splitCache struct {
	// ads serves listeners, clusters and endpoints; named serves routes and
	// secrets; delta answers every delta watch (delta.go).
	ads, named cachev3.SnapshotCache
	delta      *deltaCache
	// patching is held for reading by every call of a stream, which
	// reads the snapshot served, and for writing while the endpoints
	// served are changed in place (cache.patchEndpoints).
	patching *sync.RWMutex
}

// namedTypes are the types Envoy asks for by name only, never by wildcard.
var namedTypes = []string{routes.url(), secrets.url(), endpoints.url()}

func newSplitCache(log cacheLogger) splitCache {
	return splitCache{
		ads:      cachev3.NewSnapshotCache(true, fleetHash{}, log),
		named:    cachev3.NewSnapshotCache(false, fleetHash{}, log),
		delta:    newDeltaCache(),
		patching: &sync.RWMutex{},
	}
}

func (c splitCache) of(typeURL string) cachev3.SnapshotCache {
	if typeURL == routes.url() || typeURL == secrets.url() {
		return c.named
	}
	return c.ads
}

// SetSnapshot sets snap in every cache: routes and secrets first, so that
// listeners that name them find them served.
func (c splitCache) SetSnapshot(ctx context.Context, node string, snap cachev3.ResourceSnapshot) error {
	if err := c.named.SetSnapshot(ctx, node, snap); err != nil {
		return err
	}
	if err := c.ads.SetSnapshot(ctx, node, snap); err != nil {
		return err
	}
	return c.delta.set(ctx, snap)
}

func (c splitCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	c.patching.RLock()
	defer c.patching.RUnlock()
	return c.of(req.GetTypeUrl()).CreateWatch(req, sub, out)
}

func (c splitCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c.patching.RLock()
	defer c.patching.RUnlock()
	return c.delta.CreateDeltaWatch(req, sub, out)
}

func (c splitCache) Fetch(ctx context.Context, req *cachev3.Request) (cachev3.Response, error) {
	c.patching.RLock()
	defer c.patching.RUnlock()
	return c.of(req.GetTypeUrl()).Fetch(ctx, req)
}

// GetSnapshot is the snapshot served. Its endpoints may change in place
// once it is no longer served, after the next endpoint change.
func (c splitCache) GetSnapshot(node string) (cachev3.ResourceSnapshot, error) {
	return c.ads.GetSnapshot(node)
}

func (c splitCache) ClearSnapshot(node string) {
	c.named.ClearSnapshot(node)
	c.ads.ClearSnapshot(node)
}

// GetStatusInfo is the ADS-mode cache's: the state-of-the-world watches of
// listeners, clusters and endpoints. Delta watches are deltaCache's.
func (c splitCache) GetStatusInfo(node string) cachev3.StatusInfo {
	return c.ads.GetStatusInfo(node)
}

func (c splitCache) GetStatusKeys() []string { return c.ads.GetStatusKeys() }
