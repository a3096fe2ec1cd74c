package xds

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

// TestTypeVersionFollowsChanges: a type versioned after the one before
// (its version moved by the resources that changed) has the version, and
// tells the names changed, that versioning it from nothing gives, through
// a series of resources added, changed and removed.
func TestTypeVersionFollowsChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ports := map[string]uint32{}
	for i := range 50 {
		ports[fmt.Sprintf("c%02d", i)] = uint32(i)
	}
	prev := kindSnapshot{}
	for step := range 40 {
		before := maps.Clone(ports)
		switch step % 4 {
		case 0:
			ports[fmt.Sprintf("n%02d", step)] = uint32(100 + step)
		case 1:
			delete(ports, slices.Sorted(maps.Keys(ports))[rng.IntN(len(ports))])
		default:
			for range 1 + rng.IntN(3) {
				ports[slices.Sorted(maps.Keys(ports))[rng.IntN(len(ports))]] = uint32(1000 + rng.IntN(1000))
			}
		}
		items := clas(ports)
		clusterVersions := map[string]string{}
		for name := range ports {
			clusterVersions[name] = "v"
		}
		after, err := version(items, &prev, false, clusterVersions)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := version(clas(ports), &kindSnapshot{}, false, clusterVersions)
		if err != nil {
			t.Fatal(err)
		}
		if after.version != fresh.version {
			t.Fatalf("step %d: version %s after the one before, %s from nothing", step, after.version, fresh.version)
		}
		var want []string
		for name, p := range ports {
			if q, ok := before[name]; !ok || q != p {
				want = append(want, name)
			}
		}
		for name := range before {
			if _, ok := ports[name]; !ok {
				want = append(want, name)
			}
		}
		if step > 0 && (after.patched == nil || !slices.Equal(slices.Sorted(slices.Values(after.patched.names)), slices.Sorted(slices.Values(want))) || after.patched.from != prev.version) {
			t.Fatalf("step %d: names changed %+v, want %v from %s", step, after.patched, want, prev.version)
		}
		prev = after
	}
}

// clas are one assignment per cluster of ports, with the port as its
// endpoint's.
func clas(ports map[string]uint32) []types.Resource {
	var out []types.Resource
	for _, name := range slices.Sorted(maps.Keys(ports)) {
		out = append(out, &envoy_config_endpoint_v3.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints:   []*envoy_config_endpoint_v3.LocalityLbEndpoints{{Priority: ports[name]}},
		})
	}
	return out
}
