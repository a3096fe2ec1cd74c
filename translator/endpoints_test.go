package translator_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// TestUpdateEndpointsMatchesFullTranslation: the endpoint fast path gives the
// same resources as a full translation, and keeps every other resource,
// for the clusters of Ingresses and of TCP and UDP services alike; the
// clusters of ExternalName Services, which carry their own endpoints, have
// no assignments and keep their endpoints.
func TestUpdateEndpointsMatchesFullTranslation(t *testing.T) {
	streams := translator.DefaultOptions()
	streams.TCPServices, streams.UDPServices = "default/tcp-services", "default/udp-services"
	for _, c := range []struct {
		files []string
		opts  translator.Options
	}{
		{[]string{"endpoints_ready_terminating.yaml"}, translator.DefaultOptions()},
		{[]string{"endpoints_ready_terminating.yaml", "externalname.yaml"}, translator.DefaultOptions()},
		{[]string{"tcp_udp_services.yaml"}, streams},
	} {
		var paths []string
		for _, f := range c.files {
			paths = append(paths, "testdata/in/"+f)
		}
		t.Run(strings.Join(c.files, "+"), func(t *testing.T) { checkUpdateEndpoints(t, paths, c.opts) })
	}
}

func checkUpdateEndpoints(t *testing.T, paths []string, opts translator.Options) {
	objs, err := watcher.ReadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	before, err := translator.Translate(store.Input(), opts)
	if err != nil {
		t.Fatal(err)
	}

	// Take every EndpointSlice away: every backend loses its endpoints.
	in := store.Input()
	in.EndpointSlices = nil
	fast, err := translator.UpdateEndpoints(before, in)
	if err != nil {
		t.Fatal(err)
	}
	full, err := translator.Translate(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast.Resources.Endpoints) != len(full.Resources.Endpoints) || len(full.Resources.Endpoints) == 0 {
		t.Fatalf("fast path has %d endpoint assignments, full translation %d", len(fast.Resources.Endpoints), len(full.Resources.Endpoints))
	}
	for i := range full.Resources.Endpoints {
		if !proto.Equal(fast.Resources.Endpoints[i], full.Resources.Endpoints[i]) {
			t.Errorf("endpoints of %s differ:\nfast: %v\nfull: %v", full.Resources.Endpoints[i].ClusterName, fast.Resources.Endpoints[i], full.Resources.Endpoints[i])
		}
		if len(fast.Resources.Endpoints[i].Endpoints) != 0 {
			t.Errorf("%s still has endpoints after every slice went", fast.Resources.Endpoints[i].ClusterName)
		}
	}
	if len(fast.Resources.Clusters) != len(full.Resources.Clusters) {
		t.Fatalf("fast path has %d clusters, full translation %d", len(fast.Resources.Clusters), len(full.Resources.Clusters))
	}
	for i := range full.Resources.Clusters {
		if !proto.Equal(fast.Resources.Clusters[i], full.Resources.Clusters[i]) {
			t.Errorf("cluster %s differs:\nfast: %v\nfull: %v", full.Resources.Clusters[i].Name, fast.Resources.Clusters[i], full.Resources.Clusters[i])
		}
	}
	if &fast.Resources.Listeners[0] != &before.Resources.Listeners[0] || fast.Resources.Routes[0] != before.Resources.Routes[0] {
		t.Error("the fast path rebuilt listeners or routes")
	}
	if len(fast.Resources.Listeners) != len(full.Resources.Listeners) {
		t.Errorf("the fast path kept %d listeners, a full translation makes %d", len(fast.Resources.Listeners), len(full.Resources.Listeners))
	}
	had := 0
	for _, be := range before.Model.Backends {
		had += len(be.Endpoints)
	}
	if had == 0 {
		t.Error("the fast path changed the previous result's model (or the input has no endpoints)")
	}
}

// TestUpdateEndpointsKeepsUnchangedAssignments: a backend whose endpoints
// did not change keeps its assignment object, so the xDS server need not
// encode it again.
func TestUpdateEndpointsKeepsUnchangedAssignments(t *testing.T) {
	objs, err := watcher.ReadPaths([]string{"testdata/in/endpoints_ready_terminating.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	before, err := translator.Translate(store.Input(), translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	after, err := translator.UpdateEndpoints(before, store.Input())
	if err != nil {
		t.Fatal(err)
	}
	for i := range before.Resources.Endpoints {
		if after.Resources.Endpoints[i] != before.Resources.Endpoints[i] {
			t.Errorf("assignment of %s was rebuilt though its endpoints did not change", before.Resources.Endpoints[i].ClusterName)
		}
	}
}
