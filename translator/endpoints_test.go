package translator_test

import (
	"slices"
	"strings"
	"testing"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

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
		if len(translator.Expanded(fast.Resources.Endpoints[i]).Endpoints) != 0 {
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

// TestUpdateServiceEndpointsTouchesOnlyTheirBackends: an endpoint change of
// one Service reads only that Service's slices and changes only its
// backends' assignments; every other assignment stays the very object it
// was, though the input holds none of its slices.
func TestUpdateServiceEndpointsTouchesOnlyTheirBackends(t *testing.T) {
	objs, err := watcher.ReadPaths([]string{"testdata/in/endpoints_ready_terminating.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	in := store.Input()
	before, err := translator.Translate(in, translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// The first Service with endpoints loses them all.
	i := slices.IndexFunc(before.Resources.Endpoints, func(cla *envoy_config_endpoint_v3.ClusterLoadAssignment) bool {
		return len(translator.Expanded(cla).Endpoints) > 0
	})
	if i < 0 || len(before.Resources.Endpoints) < 2 {
		t.Fatal("the input needs two Services, one with endpoints")
	}
	name := strings.Split(before.Resources.Endpoints[i].ClusterName, "/")
	svc := types.NamespacedName{Namespace: name[0], Name: name[1]}
	after, err := translator.UpdateServiceEndpoints(before, map[types.NamespacedName]bool{svc: true}, translator.Input{})
	if err != nil {
		t.Fatal(err)
	}
	in.EndpointSlices = slices.DeleteFunc(slices.Clone(in.EndpointSlices), func(es *discoveryv1.EndpointSlice) bool {
		return es.Namespace == svc.Namespace && es.Labels[discoveryv1.LabelServiceName] == svc.Name
	})
	full, err := translator.Translate(in, translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	prefix := svc.Namespace + "/" + svc.Name + "/"
	changed := 0
	for i, cla := range after.Resources.Endpoints {
		if !proto.Equal(cla, full.Resources.Endpoints[i]) {
			t.Errorf("endpoints of %s differ from a full translation:\nfast: %v\nfull: %v", cla.ClusterName, cla, full.Resources.Endpoints[i])
		}
		mine := strings.HasPrefix(cla.ClusterName, prefix)
		if same := cla == before.Resources.Endpoints[i]; mine == same {
			t.Errorf("assignment of %s: rebuilt %v, want rebuilt only for %s", cla.ClusterName, !same, svc)
		}
		if mine {
			changed++
		}
	}
	if changed == 0 {
		t.Fatalf("no assignment of %s changed", svc)
	}
	if len(translator.Expanded(before.Resources.Endpoints[i]).Endpoints) == 0 {
		t.Error("the previous result's assignment was changed in place")
	}
}
