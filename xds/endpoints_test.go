package xds

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

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

// TestEndpointPatchInPlaceExcludesStreams: the endpoint path changes the
// endpoints served in place, while streams read them at any time (a
// state-of-the-world request, a new delta watch). Those reads wait for the
// change; one that did not would be a concurrent map read and write, which
// the race detector reports (go test -race) and the runtime often stops
// the program for without it. After the changes, what is served is what a
// compose of the last translation serves.
func TestEndpointPatchInPlaceExcludesStreams(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(time.Hour)
	f := newFleetConfig(t, 50)
	if err := s.Update(ctx, f.res); err != nil {
		t.Fatal(err)
	}
	names := []string{"c001", "c002", "c003"}
	done := make(chan struct{})
	var wg sync.WaitGroup
	reads := [2]int{}
	read := func(n *int, fn func()) {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				fn()
				*n++
			}
		})
	}
	read(&reads[0], func() {
		// An empty version is never the one served: always answered.
		if _, err := s.cache.snapshots.Fetch(ctx, &cachev3.Request{TypeUrl: endpoints.url(), ResourceNames: names}); err != nil {
			t.Error(err)
		}
	})
	read(&reads[1], func() {
		out := make(chan cachev3.DeltaResponse, 1)
		req := &cachev3.DeltaRequest{TypeUrl: endpoints.url(), ResourceNamesSubscribe: names}
		cancel, err := s.cache.snapshots.CreateDeltaWatch(req, streamv3.NewDeltaSubscription(names, nil, nil, false), out)
		if err != nil {
			t.Error(err)
		}
		if cancel != nil {
			cancel()
		}
	})
	for i := range 300 {
		if err := s.Update(ctx, f.moveEndpoints(names[i%len(names)])); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if s.cache.endpointAt == nil {
		t.Fatal("the endpoint changes went through compose, not the endpoint patch")
	}
	if reads[0] == 0 || reads[1] == 0 {
		t.Fatalf("the streams read %v times during the changes: nothing was tested", reads)
	}
	if got, want := versionsOf(t, s, endpoints), composed(t, f.res); !maps.Equal(got, want) {
		t.Errorf("after the changes: versions %v, composed %v", got, want)
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
