package xds

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/rukou/rukou/translator/envoy"
)

// An endpoint change is most of what rukou serves (every rollout, every
// pod that comes or goes), and it changes a few assignments among
// thousands. compose works on every resource, so serveEndpoints serves such
// a change with work in proportion to the assignments changed: it reuses
// every other type as served, patches copies of the endpoints' versions
// and index, and skips the consistency check (names do not change).

// serveEndpoints serves res when it differs from the target served only in
// endpoint assignments, at the same positions and for the same clusters,
// and nothing waits for a make-before-break step. It reports whether it
// did; when it did not, compose must. Call with c.mu held.
func (c *cache) serveEndpoints(ctx context.Context, res *envoy.Resources) (bool, error) {
	t := c.target
	if t == nil || c.front != t || len(c.warming) > 0 || len(c.retained) > 0 || c.gen.Load() == 0 ||
		!slices.Equal(res.Listeners, t.Listeners) || !slices.Equal(res.Routes, t.Routes) ||
		!slices.Equal(res.Clusters, t.Clusters) || !slices.Equal(res.Secrets, t.Secrets) ||
		len(res.Endpoints) != len(t.Endpoints) {
		return false, nil
	}
	var changed []int
	for i, cla := range res.Endpoints {
		if cla != t.Endpoints[i] {
			if cla.ClusterName != t.Endpoints[i].ClusterName {
				return false, nil
			}
			changed = append(changed, i)
		}
	}
	start := time.Now()
	if len(changed) > 0 {
		if err := c.patchEndpoints(ctx, res, changed); err != nil {
			return true, err
		}
	}
	c.target, c.front = res, res
	c.metrics.snapshotSecond.Observe(time.Since(start).Seconds())
	return true, nil
}

// patchEndpoints serves the assignments of res at positions changed in
// place of the target's, as a new snapshot. The endpoints' list and their
// indexes by name (items, perName, resources, byName) are changed in place,
// not copied: a copy is in proportion to every assignment served (at
// 10,000 Ingresses, 2.5 MB and 2 ms for a change of one), and the snapshot
// before is read by no one once the new one is set. Every read of them by
// a stream (splitCache) holds its patching for reading, and the change holds it
// for writing until the new snapshot is set. Call with c.mu held.
func (c *cache) patchEndpoints(ctx context.Context, res *envoy.Resources, changed []int) error {
	if c.endpointAt == nil {
		c.endpointAt = make(map[string]int, len(c.kinds[endpoints].items))
		for i, r := range c.kinds[endpoints].items {
			c.endpointAt[cachev3.GetResourceName(r)] = i
		}
	}
	// Everything that may fail comes before the first change in place.
	at := make([]int, len(changed))
	hashes := make([]string, len(changed))
	var buf []byte
	for j, i := range changed {
		cla, old := res.Endpoints[i], c.target.Endpoints[i]
		var ok bool
		if at[j], ok = c.endpointAt[cla.ClusterName]; !ok || c.kinds[endpoints].items[at[j]] != types.Resource(old) {
			return fmt.Errorf("endpoints of %s are not served as the target says", cla.ClusterName)
		}
		var err error
		if hashes[j], buf, err = hashResource(cla, buf); err != nil {
			return err
		}
	}

	c.split.patching.Lock()
	defer c.split.patching.Unlock()
	kinds := c.kinds
	prev := c.kinds[endpoints]
	ks := prev
	ks.patched = &namesPatched{from: prev.version, names: make([]string, 0, len(changed))}
	if prev.resources.Version != prev.version || prev.resources.Items == nil || prev.byName == nil {
		// Served as it was translated before: the same versions in other
		// objects, indexed afresh.
		ks.resources = cachev3.NewResources(prev.version, prev.items)
		ks.byName = withoutTTLs(ks.resources.Items)
	}
	var sumBuf []byte
	for j, i := range changed {
		cla, old := res.Endpoints[i], c.target.Endpoints[i]
		// The served versions' map is the next one's known hashes; the
		// old object is never looked up again.
		delete(ks.hashes, old)
		ks.hashes[cla] = hashes[j]
		ks.items[at[j]] = cla
		var was, now versionSum
		was, sumBuf = resourceSum(cla.ClusterName, ks.perName[cla.ClusterName], sumBuf)
		ks.perName[cla.ClusterName] = endpointVersion(hashes[j], kinds[clusters].perName[cla.ClusterName])
		now, sumBuf = resourceSum(cla.ClusterName, ks.perName[cla.ClusterName], sumBuf)
		ks.sum = ks.sum.sub(was).add(now)
		ks.resources.Items[cla.ClusterName] = types.ResourceWithTTL{Resource: cla}
		ks.byName[cla.ClusterName] = cla
		ks.patched.names = append(ks.patched.names, cla.ClusterName)
		if sc, ok := c.served[cla.ClusterName]; ok && sc.cla == old {
			c.served[cla.ClusterName] = servedCluster{sc.cluster, cla}
		}
	}
	ks.version = ks.sum.String()
	ks.resources.Version = ks.version
	// From here c.kinds describes what the maps hold, served or not.
	c.kinds[endpoints] = ks
	if ks.version == prev.version {
		// The same content in new objects: nothing to send.
		return nil
	}
	kinds[endpoints] = ks
	if err := c.serve(ctx, c.gen.Load()+1, &kinds, false); err != nil {
		// The delta streams never heard of this change, and their last
		// versions map is the one changed in place: the next snapshot
		// is compared with what each stream holds.
		c.split.delta.unsure(endpoints)
		return err
	}
	return nil
}
