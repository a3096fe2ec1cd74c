package xds

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/rukou/rukou/translator/envoy"
)

// TestEndpointPatchServesWhatComposeWould: a translation that shares every
// resource with the one served but some assignments (as the translator's
// endpoint path returns) is served by patching the endpoints alone, and the
// snapshot is the one a full compose of the same resources gives: the same
// versions per resource and per type, so that neither delta nor
// state-of-the-world Envoys see a difference between the two paths.
func TestEndpointPatchServesWhatComposeWould(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(time.Hour)
	ports := map[string]int{"blue": 1, "green": 2, "red": 3}
	if err := s.Update(ctx, config(t, "blue", ports)); err != nil {
		t.Fatal(err)
	}
	// The same content translated again, in new objects: the endpoint
	// change below patches what these became.
	first := config(t, "blue", ports)
	if err := s.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	before := s.Status()
	old, err := s.cache.snapshots.GetSnapshot(fleet)
	if err != nil {
		t.Fatal(err)
	}

	next := *first
	next.Endpoints = slices.Clone(first.Endpoints)
	next.Endpoints[1] = config(t, "blue", map[string]int{"blue": 1, "green": 9, "red": 3}).Endpoints[1]
	if err := s.Update(ctx, &next); err != nil {
		t.Fatal(err)
	}
	if s.cache.endpointAt == nil {
		t.Fatal("the endpoint change went through compose, not the endpoint patch")
	}
	after := s.Status()
	if after.Generation != before.Generation+1 {
		t.Errorf("generation %d after an endpoint change, want %d", after.Generation, before.Generation+1)
	}
	for typ, ts := range after.Types {
		if changed := ts.Version != before.Types[typ].Version; changed != (typ == "endpoints") {
			t.Errorf("%s version changed: %v", typ, changed)
		}
	}

	full := newTestServer(time.Hour)
	if err := full.Update(ctx, &next); err != nil {
		t.Fatal(err)
	}
	for k := range numKinds {
		got, want := versionsOf(t, s, k), versionsOf(t, full, k)
		if !maps.Equal(got, want) {
			t.Errorf("%s: patched versions %v, composed %v", k, got, want)
		}
		if g, w := s.Status().Types[k.String()].Version, full.Status().Types[k.String()].Version; g != w {
			t.Errorf("%s: patched type version %s, composed %s", k, g, w)
		}
	}
	snap, err := s.cache.snapshots.GetSnapshot(fleet)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.GetResources(endpoints.url())["green"]; got != next.Endpoints[1] {
		t.Errorf("the snapshot serves %v for green, want the new assignment", got)
	}
	// go-control-plane may still be answering from the snapshot before.
	if got := old.GetResources(endpoints.url())["green"]; got != first.Endpoints[1] {
		t.Errorf("the snapshot before the patch now serves %v for green, want the assignment it had", got)
	}

	// The same content in new objects again: no new snapshot.
	same := next
	same.Endpoints = slices.Clone(next.Endpoints)
	same.Endpoints[1] = config(t, "blue", map[string]int{"blue": 1, "green": 9, "red": 3}).Endpoints[1]
	if err := s.Update(ctx, &same); err != nil {
		t.Fatal(err)
	}
	if g := s.Status().Generation; g != after.Generation {
		t.Errorf("identical endpoints made generation %d from %d", g, after.Generation)
	}
	// And a change after that still patches from the right objects.
	last := same
	last.Endpoints = slices.Clone(same.Endpoints)
	last.Endpoints[1] = first.Endpoints[1]
	if err := s.Update(ctx, &last); err != nil {
		t.Fatal(err)
	}
	if got, want := versionsOf(t, s, endpoints), composed(t, first); !maps.Equal(got, want) {
		t.Errorf("back to the first endpoints: versions %v, want %v", got, want)
	}
	again := newTestServer(time.Hour)
	if err := again.Update(ctx, &last); err != nil {
		t.Fatal(err)
	}
	if g, w := s.Status().Types["endpoints"].Version, again.Status().Types["endpoints"].Version; g != w {
		t.Errorf("back to the first endpoints: type version %s, composed %s", g, w)
	}
}

// versionsOf is the per-resource versions of kind k that s serves.
func versionsOf(t *testing.T, s *Server, k kind) map[string]string {
	t.Helper()
	snap, err := s.cache.snapshots.GetSnapshot(fleet)
	if err != nil {
		t.Fatal(err)
	}
	return snap.GetVersionMap(k.url())
}

// composed is the endpoints' versions a new server gives res.
func composed(t *testing.T, res *envoy.Resources) map[string]string {
	t.Helper()
	s := newTestServer(time.Hour)
	if err := s.Update(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	return versionsOf(t, s, endpoints)
}
