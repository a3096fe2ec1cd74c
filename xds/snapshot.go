package xds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// Versions are content hashes: a resource's version hashes its deterministic
// encoding, and a type's version hashes its resources' names and versions.
// The same resources always get the same versions, across translations and
// restarts, so delta ADS never sends an unchanged resource again and
// state-of-the-world ADS never sends an unchanged type.

// kindSnapshot is one resource type as served: its resources, their
// versions, and the type's version.
type kindSnapshot struct {
	items []types.Resource
	// hashes are the versions by resource; translations never modify a
	// resource they returned, so a resource seen before keeps its hash.
	hashes  map[types.Resource]string
	perName map[string]string
	version string
	// sum is what version is made of (see typeVersion).
	sum versionSum
	// base is the content version when version is not, because the
	// listeners were sent again after a NACK (resendListeners).
	base string
	// resources index items by name, as the snapshot served holds them,
	// and byName the same without their TTLs, as delta ADS reads them.
	resources cachev3.Resources
	byName    map[string]types.Resource
	// encodings are the deterministic encodings by resource, of the
	// routes only (see encoded), and hosts those of their virtual hosts,
	// each a piece of its configuration's encoding.
	encodings map[types.Resource][]byte
	hosts     hostEncodings
	// patched names what the endpoint path changed, when it made this.
	patched *namesPatched
}

// served is what go-control-plane serves of items: each resource with its
// encoding when ks keeps them.
func (ks *kindSnapshot) served() []types.Resource {
	if ks.encodings == nil {
		return ks.items
	}
	out := make([]types.Resource, len(ks.items))
	for i, r := range ks.items {
		out[i] = encodedAs(r, ks.encodings[r])
	}
	return out
}

// set versions what compose chose to serve (clusterNames in order) and hands
// it to the go-control-plane cache when any type's version changed. Call
// with c.mu held.
func (c *cache) set(ctx context.Context, next uint64, clusterNames []string) error {
	start := time.Now()
	var items [numKinds][]types.Resource
	if f := c.front; f != nil {
		items[listeners] = asResources(f.Listeners)
		items[routes] = asResources(f.Routes)
		items[secrets] = asResources(f.Secrets)
	}
	items[clusters] = make([]types.Resource, len(clusterNames))
	items[endpoints] = make([]types.Resource, 0, len(clusterNames))
	for i, name := range clusterNames {
		sc := c.served[name]
		items[clusters][i] = sc.cluster
		if sc.cla != nil {
			items[endpoints] = append(items[endpoints], sc.cla)
		}
	}

	first := c.gen.Load() == 0
	kinds, changed, references, err := c.versionKinds(items, first)
	if err != nil {
		return err
	}
	if c.resendListeners(first, &kinds) {
		changed = true
	}
	c.book.setWarming(c.warming)
	if !changed {
		return c.rehand(ctx, kinds)
	}

	if err := c.serve(ctx, next, &kinds, references); err != nil {
		return err
	}
	c.endpointAt = nil // the endpoints may have moved
	c.generic.Store(genericSecrets(items[secrets]))
	for k := range numKinds {
		c.counts[k].Store(int64(len(items[k])))
	}
	c.metrics.snapshotSecond.Observe(time.Since(start).Seconds())
	c.log.Debug("snapshot set", "generation", next, "routes_current", c.front == c.target,
		"warming", len(c.warming), "retained", len(c.retained), "clusters", len(clusterNames))
	return nil
}

// serve hands kinds to the go-control-plane cache as snapshot next, after
// checking its references when they may have changed, and makes it the
// snapshot served. The types whose versions did not change reuse their
// index by name. Call with c.mu held.
func (c *cache) serve(ctx context.Context, next uint64, kinds *[numKinds]kindSnapshot, references bool) error {
	snap, versions := snapshotOf(kinds)
	if references {
		if err := consistent(kinds); err != nil {
			return fmt.Errorf("snapshot %d is inconsistent: %w", next, err)
		}
	}
	c.book.served(next, versions)
	if err := c.snapshots.SetSnapshot(ctx, fleet, snap); err != nil {
		return fmt.Errorf("setting snapshot %d: %w", next, err)
	}
	c.kinds = *kinds
	c.gen.Store(next)
	if c.front == c.target {
		c.ready.Store(true)
	}
	return nil
}

// consistent checks what go-control-plane's Snapshot.Consistent checks:
// that kinds hold exactly the endpoint assignments their EDS clusters ask
// for and the route configurations their listeners name. It makes one set
// of names where that makes one per cluster, which at 10,000 clusters took
// 15 ms of every configuration change. Call after snapshotOf(kinds).
func consistent(kinds *[numKinds]kindSnapshot) error {
	eds := make(map[string]bool, len(kinds[endpoints].items))
	for _, r := range kinds[clusters].items {
		if cl, ok := r.(*envoy_config_cluster_v3.Cluster); ok && cl.GetType() == envoy_config_cluster_v3.Cluster_EDS {
			eds[edsName(cl)] = true
		}
	}
	if err := servesExactly(endpoints, eds, kinds[endpoints].byName); err != nil {
		return err
	}
	named := cachev3.GetResourceReferences(kinds[listeners].resources.Items)[resource.RouteType]
	return servesExactly(routes, named, kinds[routes].byName)
}

// servesExactly checks that the resources of kind k served are those named.
func servesExactly(k kind, named map[string]bool, served map[string]types.Resource) error {
	for name := range named {
		if _, ok := served[name]; !ok {
			return fmt.Errorf("%s %s is referenced but not served", k, name)
		}
	}
	if len(named) != len(served) {
		return fmt.Errorf("%d %s are served, %d referenced", len(served), k, len(named))
	}
	return nil
}

// rehand hands the go-control-plane cache kinds whose versions are those
// it serves, when they are other objects: a translation that changed
// nothing (a change to an object no Ingress uses) makes new objects equal
// to those served, and the cache holding the old ones beside them kept two
// copies of the whole configuration alive (at 10,000 Ingresses, about
// 70 MB) until the next change. Envoys get nothing: every version is the
// same, and it is no new generation. Call with c.mu held.
func (c *cache) rehand(ctx context.Context, kinds [numKinds]kindSnapshot) error {
	same := true
	for k := range numKinds {
		same = same && slices.Equal(kinds[k].items, c.kinds[k].items)
	}
	if !same {
		snap, _ := snapshotOf(&kinds)
		if err := c.snapshots.SetSnapshot(ctx, fleet, snap); err != nil {
			return fmt.Errorf("setting snapshot %d again: %w", c.gen.Load(), err)
		}
		c.generic.Store(genericSecrets(kinds[secrets].items))
	}
	c.kinds = kinds
	c.endpointAt = nil
	return nil
}

// servedSnapshot is a go-control-plane snapshot that keeps each type's
// resources by name. go-control-plane asks for them for every delta watch
// it answers, two or three times per change, and its Snapshot makes a
// new map each time: at 10,000 Ingresses, of 10,000 entries, for an
// endpoint change of one.
type servedSnapshot struct {
	*cachev3.Snapshot
	byName  map[string]map[string]types.Resource // by type URL
	patches [numKinds]*namesPatched
}

// patched is what a patch changed of kind k, or nil.
func (s *servedSnapshot) patched(k kind) *namesPatched {
	if s == nil {
		return nil
	}
	return s.patches[k]
}

func (s *servedSnapshot) GetResources(typeURL string) map[string]types.Resource {
	if m, ok := s.byName[typeURL]; ok {
		return m
	}
	return s.Snapshot.GetResources(typeURL)
}

// withoutTTLs is items by name without their TTLs, as delta ADS reads them.
func withoutTTLs(items map[string]types.ResourceWithTTL) map[string]types.Resource {
	out := make(map[string]types.Resource, len(items))
	for name, r := range items {
		out[name] = r.Resource
	}
	return out
}

// snapshotOf is the go-control-plane snapshot of kinds, and their versions.
// The types whose index by name is the one of their items and version
// reuse it; the others get theirs.
func snapshotOf(kinds *[numKinds]kindSnapshot) (*servedSnapshot, [numKinds]string) {
	snap := &servedSnapshot{
		Snapshot: &cachev3.Snapshot{VersionMap: make(map[string]map[string]string, numKinds)},
		byName:   make(map[string]map[string]types.Resource, numKinds),
	}
	var versions [numKinds]string
	for k := range numKinds {
		ks := &kinds[k]
		versions[k] = ks.version
		if ks.resources.Version != ks.version || ks.resources.Items == nil {
			ks.resources = cachev3.NewResources(ks.version, ks.served())
			ks.byName = nil
		}
		if ks.byName == nil {
			ks.byName = withoutTTLs(ks.resources.Items)
		}
		snap.Resources[k.responseType()] = ks.resources
		snap.byName[k.url()] = ks.byName
		snap.patches[k] = ks.patched
		// Set here, go-control-plane does not encode every resource
		// again to version it for delta.
		snap.VersionMap[k.url()] = ks.perName
	}
	return snap, versions
}

// versionKinds versions each type's resources, keeping the versions of the
// types that did not change. changed says any version moved; references
// says listeners, routes or clusters changed, so that the snapshot's
// consistency must be checked again.
func (c *cache) versionKinds(items [numKinds][]types.Resource, first bool) (kinds [numKinds]kindSnapshot, changed, references bool, err error) {
	changed = first
	// References run from listeners to routes and from clusters to
	// endpoints; while those three hold the same resources, and so the same
	// names, the snapshot stays consistent whatever the endpoints hold.
	references = first
	for k := range numKinds {
		// Endpoints follow their clusters' versions too (see
		// endpointVersion).
		if !first && slices.Equal(items[k], c.kinds[k].items) && (k != endpoints || kinds[clusters].version == c.kinds[clusters].version) {
			kinds[k] = c.kinds[k]
			continue
		}
		references = references || k == listeners || k == routes || k == clusters
		var clusterVersions map[string]string
		if k == endpoints {
			clusterVersions = kinds[clusters].perName
		}
		ks, err := version(items[k], &c.kinds[k], k == routes, clusterVersions)
		if err != nil {
			return kinds, false, false, err
		}
		if prev := c.kinds[k]; prev.base != "" && ks.version == prev.base {
			// The listeners sent again, translated again: they keep the
			// versions Envoys have them under.
			ks.perName, ks.version, ks.sum, ks.base = prev.perName, prev.version, prev.sum, prev.base
		}
		kinds[k] = ks
		changed = changed || ks.version != c.kinds[k].version
	}
	return kinds, changed, references, nil
}

// version versions one type's resources, reusing the hashes of prev, and
// keeps their encodings when keep says so. Encoding is most of the cost
// of a snapshot, so new resources are encoded on every CPU, and a route
// configuration kept encoded reuses the encodings of the virtual hosts
// it shares with prev's. Endpoint assignments are versioned with their
// clusters' versions, clusterVersions (see endpointVersion).
func version(items []types.Resource, prev *kindSnapshot, keep bool, clusterVersions map[string]string) (kindSnapshot, error) {
	ks := kindSnapshot{
		items:   items,
		hashes:  make(map[types.Resource]string, len(items)),
		perName: make(map[string]string, len(items)),
	}
	sums := make([]string, len(items))
	var encodings [][]byte
	if keep {
		encodings = make([][]byte, len(items))
		ks.hosts = hostEncodings{}
	}
	var todo, reused []int
	for i, r := range items {
		v, ok := prev.hashes[r]
		if keep && ok {
			encodings[i], ok = prev.encodings[r]
		}
		if ok {
			sums[i] = v
			if keep {
				reused = append(reused, i)
			}
		} else {
			todo = append(todo, i)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(todo)+255)/256)
	if keep {
		workers = min(workers, 1) // the kept kind is the few route configurations, which share ks.hosts
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var buf []byte
			for j := w; j < len(todo); j += workers {
				i := todo[j]
				var err error
				if rc, ok := items[i].(*envoy_config_route_v3.RouteConfiguration); ok && keep {
					if encodings[i], err = encodeRoutes(rc, prev.hosts, ks.hosts); err != nil {
						errs[w] = fmt.Errorf("versioning %s: %w", rc.Name, err)
						return
					}
					sums[i] = hashOf(encodings[i])
					continue
				}
				if sums[i], buf, err = hashResource(items[i], buf); err != nil {
					errs[w] = err
					return
				}
				if keep {
					encodings[i] = bytes.Clone(buf)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return kindSnapshot{}, err
	}
	if keep {
		ks.encodings = make(map[types.Resource][]byte, len(items))
	}
	for i, r := range items {
		ks.hashes[r] = sums[i]
		name := cachev3.GetResourceName(r)
		ks.perName[name] = versionOf(name, sums[i], clusterVersions)
		if keep {
			ks.encodings[r] = encodings[i]
		}
	}
	for _, i := range reused {
		// Versioned before: its hosts' encodings are prev's.
		prev.hostsOf(items[i], ks.hosts)
	}
	ks.sum, ks.patched = sumAfter(prev, items, ks.perName)
	ks.version = ks.sum.String()
	return ks, nil
}

// versionOf is the version of the resource name hashed as hash: an
// endpoint assignment's carries its cluster's, from clusterVersions (nil
// for the other types; see endpointVersion).
func versionOf(name, hash string, clusterVersions map[string]string) string {
	if clusterVersions == nil {
		return hash
	}
	return endpointVersion(hash, clusterVersions[name])
}

// sumAfter is the sum of a type's resources, items with versions perName,
// and the names whose versions differ from prev's. When prev's sum is that
// of its versions, it is moved by the resources that changed alone: at
// 10,000 clusters, hashing every name and version again took a few
// milliseconds per type of each configuration change. Otherwise it is
// made again, and the names changed are not told (nil).
func sumAfter(prev *kindSnapshot, items []types.Resource, perName map[string]string) (versionSum, *namesPatched) {
	if prev.perName == nil || prev.base != "" {
		_, sum := typeVersion(items, perName)
		return sum, nil
	}
	sum, changed := prev.sum, &namesPatched{from: prev.version}
	var buf []byte
	move := func(name, was, now string) {
		var h versionSum
		if was != "" {
			h, buf = resourceSum(name, was, buf)
			sum = sum.sub(h)
		}
		if now != "" {
			h, buf = resourceSum(name, now, buf)
			sum = sum.add(h)
		}
		changed.names = append(changed.names, name)
	}
	added := 0
	for _, r := range items {
		name := cachev3.GetResourceName(r)
		was, had := prev.perName[name]
		if !had {
			added++
		}
		if now := perName[name]; now != was {
			move(name, was, now)
		}
	}
	if len(perName)-added != len(prev.perName) {
		for name, was := range prev.perName {
			if _, ok := perName[name]; !ok {
				move(name, was, "")
			}
		}
	}
	return sum, changed
}

// hashResource is a resource's version: the hash of its deterministic
// encoding, made in buf, which it returns for the next one.
func hashResource(r types.Resource, buf []byte) (string, []byte, error) {
	buf, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf[:0], r)
	if err != nil {
		return "", buf, fmt.Errorf("versioning %s: %w", cachev3.GetResourceName(r), err)
	}
	return hashOf(buf), buf, nil
}

// hashOf is the version of a resource encoded as b.
func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// typeVersion is a type's version, and the sum it is made of: one hash of
// each resource's name and version, added up. A sum does not depend on
// the order of the resources, which Envoy does not see either, and a
// change of a few resources among 10,000 moves it by their hashes alone
// (see patchEndpoints), without hashing every name again.
func typeVersion(items []types.Resource, perName map[string]string) (string, versionSum) {
	var sum versionSum
	var buf []byte
	for _, r := range items {
		name := cachev3.GetResourceName(r)
		var h versionSum
		h, buf = resourceSum(name, perName[name], buf)
		sum = sum.add(h)
	}
	return sum.String(), sum
}

// versionSum is a sum of 128-bit hashes, modulo 2^128.
type versionSum struct{ hi, lo uint64 }

// resourceSum is the hash of a resource's name and version, made in buf,
// which it returns for the next one.
func resourceSum(name, version string, buf []byte) (versionSum, []byte) {
	buf = append(append(append(buf[:0], name...), 0), version...)
	h := sha256.Sum256(buf)
	return versionSum{binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])}, buf
}

func (s versionSum) add(o versionSum) versionSum {
	lo, carry := bits.Add64(s.lo, o.lo, 0)
	hi, _ := bits.Add64(s.hi, o.hi, carry)
	return versionSum{hi, lo}
}

func (s versionSum) sub(o versionSum) versionSum {
	lo, borrow := bits.Sub64(s.lo, o.lo, 0)
	hi, _ := bits.Sub64(s.hi, o.hi, borrow)
	return versionSum{hi, lo}
}

// String is the version: the sum folded to 64 bits, in hex.
func (s versionSum) String() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.hi^s.lo)
	return hex.EncodeToString(b[:])
}

// endpointVersion is an assignment's version: its own hash and its
// cluster's version. Envoy warms an EDS cluster changed in place (a new
// connect timeout or keepalive, say) only once its endpoints arrive again,
// and otherwise waits out initial_fetch_timeout (15 s) before it uses the
// new cluster; delta ADS sends the endpoints again only when their version
// changes. (Assignments are named after their clusters.)
func endpointVersion(hash, clusterVersion string) string { return hash + "." + clusterVersion }

func asResources[T types.Resource](items []T) []types.Resource {
	out := make([]types.Resource, len(items))
	for i, item := range items {
		out[i] = item
	}
	return out
}

// resendListeners serves the listeners again, with new versions, when an
// Envoy rejected listeners since the last change and this snapshot completes
// a change (its routes are the latest translation's) that is not only of
// endpoints. It reports whether it did. Call with c.mu held.
//
// Envoy never tries a rejected listener again by itself, and go-control-plane
// sends a resource again only when its version changes; a listener rejected
// because its port was taken would otherwise wait for a change of that very
// listener. Sending it again with the next change, and only then, keeps a
// listener that is rejected for good to one NACK per change: never a loop,
// and never on endpoint churn. Envoy compares listeners by content, so the
// others it holds are not rebuilt nor drained.
func (c *cache) resendListeners(first bool, kinds *[numKinds]kindSnapshot) bool {
	if first || c.front != c.target || !c.listenersRejected.Load() {
		return false
	}
	changed := false
	for k := range numKinds {
		if k != endpoints && kinds[k].version != c.kinds[k].version {
			changed = true
		}
	}
	if !changed {
		return false
	}
	c.listenersRejected.Store(false)
	if kinds[listeners].version != c.kinds[listeners].version {
		return false // they change anyway
	}
	c.resends++
	ks := kinds[listeners]
	suffix := "+" + strconv.FormatUint(c.resends, 10)
	base := ks.version
	if ks.base != "" {
		base = ks.base
	}
	// Only the endpoints' sum is ever moved by a patch; the listeners'
	// stays that of their content.
	again := kindSnapshot{items: ks.items, hashes: ks.hashes, perName: make(map[string]string, len(ks.perName)), version: base + suffix, base: base, sum: ks.sum}
	for _, r := range ks.items {
		again.perName[cachev3.GetResourceName(r)] = ks.hashes[r] + suffix
	}
	kinds[listeners] = again
	c.log.Info("sending the listeners again with this change: an Envoy rejected them", "version", again.version)
	return true
}
