package translator_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// TestTranslateAfterIsTranslate: translating after an earlier result gives
// the resources a translation from nothing gives, whatever came before
// (the same objects less one Ingress, every other input), and leaves the
// earlier result as it was. The inputs are those of the golden tests,
// many of which name the same hosts and Services with other settings.
func TestTranslateAfterIsTranslate(t *testing.T) {
	files, err := filepath.Glob("testdata/in/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("inputs %v: %v", files, err)
	}
	inputs := make([]translator.Input, len(files))
	for i, f := range files {
		inputs[i] = inputOf(t, f)
	}
	opts := translator.DefaultOptions()
	opts.ConfigMap = "default/rukou" // as the golden tests run
	// clean are translations that no TranslateAfter is given.
	clean := make([]*translator.Result, len(inputs))
	for i, in := range inputs {
		clean[i] = mustTranslate(t, nil, in, opts)
	}
	for i, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in := inputs[i]
			want := clean[i]
			for j, before := range inputs {
				name := filepath.Base(files[j])
				prev := mustTranslate(t, nil, before, opts)
				got := mustTranslate(t, prev, in, opts)
				if diff := differ(got.Resources, want.Resources); diff != "" {
					t.Errorf("after %s: %s", name, diff)
				}
				if diff := differ(prev.Resources, clean[j].Resources); diff != "" {
					t.Errorf("after %s: the earlier result changed: %s", name, diff)
				}
				if i == j {
					keptEveryHost(t, prev.Resources, got.Resources)
				}
			}
			if len(in.Ingresses) > 0 {
				less := in
				less.Ingresses = in.Ingresses[1:]
				prev := mustTranslate(t, nil, less, opts)
				if diff := differ(mustTranslate(t, prev, in, opts).Resources, want.Resources); diff != "" {
					t.Errorf("after one Ingress less: %s", diff)
				}
			}
		})
	}
}

// TestTranslateAfterSharesWhatDidNotChange: with one Ingress more, the
// hosts and clusters of the others are the very objects of the result
// before, and the new Ingress's are new.
func TestTranslateAfterSharesWhatDidNotChange(t *testing.T) {
	in := inputOf(t, "testdata/in/host_and_paths.yaml")
	if len(in.Ingresses) < 2 {
		t.Fatal("the input needs two Ingresses")
	}
	opts := translator.DefaultOptions()
	less := in
	less.Ingresses = in.Ingresses[1:]
	prev := mustTranslate(t, nil, less, opts)
	got := mustTranslate(t, prev, in, opts)
	hosts := map[string]any{}
	for _, rc := range prev.Resources.Routes {
		for _, vh := range rc.VirtualHosts {
			hosts[vh.Name] = vh
		}
	}
	shared, fresh := 0, 0
	for _, rc := range got.Resources.Routes {
		for _, vh := range rc.VirtualHosts {
			was, ok := hosts[vh.Name]
			switch {
			case ok && was == any(vh):
				shared++
			case ok && proto.Equal(was.(proto.Message), vh):
				t.Errorf("virtual host %s is the same as before but a new object", vh.Name)
			default:
				fresh++
			}
		}
	}
	if shared == 0 || fresh == 0 {
		t.Errorf("%d virtual hosts shared and %d new: want some of each", shared, fresh)
	}
	sameObjects(t, "cluster", msgs(prev.Resources.Clusters), msgs(got.Resources.Clusters), func(m proto.Message) string {
		return m.(*envoy_config_cluster_v3.Cluster).Name
	})
	sameObjects(t, "endpoint assignment", msgs(prev.Resources.Endpoints), msgs(got.Resources.Endpoints), func(m proto.Message) string {
		return m.(*envoy_config_endpoint_v3.ClusterLoadAssignment).ClusterName
	})
	if len(got.Resources.Clusters) <= len(prev.Resources.Clusters) {
		t.Errorf("%d clusters after, %d before: the new Ingress brings none", len(got.Resources.Clusters), len(prev.Resources.Clusters))
	}
}

// keptEveryHost checks that a translation of the same input keeps every
// virtual host of every route configuration, also when the plain and the
// TLS listener have tables of their own.
func keptEveryHost(t *testing.T, prev, got *translator.Resources) {
	t.Helper()
	for i, rc := range got.Routes {
		for j, vh := range rc.VirtualHosts {
			if vh != prev.Routes[i].VirtualHosts[j] {
				t.Errorf("route configuration %s: virtual host %s was rendered again", rc.Name, vh.Name)
			}
		}
	}
}

// sameObjects checks that every resource of got named as one of prev is
// that very object.
func sameObjects(t *testing.T, kind string, prev, got []proto.Message, name func(proto.Message) string) {
	t.Helper()
	byName := map[string]proto.Message{}
	for _, m := range prev {
		byName[name(m)] = m
	}
	for _, m := range got {
		if was, ok := byName[name(m)]; ok && was != m {
			t.Errorf("%s %s was rendered again", kind, name(m))
		}
	}
}

// TestTranslateAfterSeesChangedSettings: a cluster or a host whose name
// stays but whose settings or endpoints change is rendered again.
func TestTranslateAfterSeesChangedSettings(t *testing.T) {
	in := inputOf(t, "testdata/in/host_and_paths.yaml")
	opts := translator.DefaultOptions()
	prev := mustTranslate(t, nil, in, opts)

	next := in
	ing := in.Ingresses[0].DeepCopy()
	ing.Annotations = map[string]string{
		"nginx.ingress.kubernetes.io/proxy-connect-timeout": "7",
		"nginx.ingress.kubernetes.io/proxy-read-timeout":    "9",
	}
	next.Ingresses = append([]*networkingv1.Ingress{ing}, in.Ingresses[1:]...)
	if len(in.EndpointSlices) == 0 || len(in.EndpointSlices[0].Endpoints) == 0 {
		t.Fatal("the input needs endpoints")
	}
	es := in.EndpointSlices[0].DeepCopy()
	es.Endpoints[0].Addresses = []string{"10.9.9.9"}
	next.EndpointSlices = append([]*discoveryv1.EndpointSlice{es}, in.EndpointSlices[1:]...)

	want := mustTranslate(t, nil, next, opts)
	got := mustTranslate(t, prev, next, opts)
	if diff := differ(got.Resources, want.Resources); diff != "" {
		t.Error(diff)
	}
	if diff := differ(got.Resources, prev.Resources); diff == "" {
		t.Fatal("the changes changed no resource")
	}
}

func inputOf(t *testing.T, path string) translator.Input {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	objs, err := watcher.ReadPaths([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	return store.Input()
}

func mustTranslate(t *testing.T, prev *translator.Result, in translator.Input, opts translator.Options) *translator.Result {
	t.Helper()
	res, err := translator.TranslateAfter(prev, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// differ describes how a and b differ, "" when they hold equal resources
// in the same order.
func differ(a, b *translator.Resources) string {
	kinds := []struct {
		name string
		x, y []proto.Message
	}{
		{"listeners", msgs(a.Listeners), msgs(b.Listeners)},
		{"routes", msgs(a.Routes), msgs(b.Routes)},
		{"clusters", msgs(a.Clusters), msgs(b.Clusters)},
		{"endpoints", msgs(a.Endpoints), msgs(b.Endpoints)},
		{"secrets", msgs(a.Secrets), msgs(b.Secrets)},
	}
	for _, k := range kinds {
		if len(k.x) != len(k.y) {
			return k.name + ": " + strconv.Itoa(len(k.x)) + " against " + strconv.Itoa(len(k.y))
		}
		for i := range k.x {
			if !proto.Equal(k.x[i], k.y[i]) {
				return k.name + " #" + strconv.Itoa(i) + " differ"
			}
		}
	}
	return ""
}

func msgs[T proto.Message](items []T) []proto.Message {
	out := make([]proto.Message, len(items))
	for i, m := range items {
		out[i] = m
	}
	return out
}

// TestTranslateAfterSeesEndpointSlicesComeAndGo: TranslateAfter keeps the
// endpoints of a Service whose EndpointSlices are the same objects, and
// reads them again when a slice is added or removed beside unchanged ones.
func TestTranslateAfterSeesEndpointSlicesComeAndGo(t *testing.T) {
	in := inputOf(t, "testdata/in/host_and_paths.yaml")
	opts := translator.DefaultOptions()
	if len(in.EndpointSlices) == 0 || len(in.EndpointSlices[0].Endpoints) == 0 {
		t.Fatal("the input needs endpoints")
	}
	extra := in.EndpointSlices[0].DeepCopy()
	extra.Name += "-extra"
	extra.Endpoints = extra.Endpoints[:1]
	extra.Endpoints[0].Addresses = []string{"10.9.9.9"}
	more := in
	more.EndpointSlices = append([]*discoveryv1.EndpointSlice{extra}, in.EndpointSlices...)

	prev := mustTranslate(t, nil, in, opts)
	// The same objects again: every backend keeps the very endpoints it
	// had, read from its slices once.
	again := mustTranslate(t, prev, in, opts)
	kept := 0
	for i, be := range again.Model.Backends {
		if len(be.Endpoints) > 0 && len(prev.Model.Backends[i].Endpoints) > 0 {
			if &be.Endpoints[0] != &prev.Model.Backends[i].Endpoints[0] {
				t.Errorf("backend %s read its unchanged slices again", be.Name)
			}
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("no backend with endpoints to compare")
	}
	// An update of endpoints alone, then a whole translation after it.
	svc := types.NamespacedName{Namespace: extra.Namespace, Name: extra.Labels[discoveryv1.LabelServiceName]}
	fast, err := translator.UpdateServiceEndpoints(prev, map[types.NamespacedName]bool{svc: true}, translator.Input{EndpointSlices: slicesOf(more.EndpointSlices, svc)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := differ(mustTranslate(t, fast, more, opts).Resources, mustTranslate(t, nil, more, opts).Resources); diff != "" {
		t.Errorf("after an endpoint update: %s", diff)
	}
	for _, step := range []struct {
		name string
		in   translator.Input
	}{{"a slice added", more}, {"the slice removed", in}} {
		want := mustTranslate(t, nil, step.in, opts)
		got := mustTranslate(t, prev, step.in, opts)
		if diff := differ(got.Resources, want.Resources); diff != "" {
			t.Errorf("%s: %s", step.name, diff)
		}
		if diff := differ(got.Resources, prev.Resources); diff == "" {
			t.Fatalf("%s: no resource changed", step.name)
		}
		prev = got
	}
}

// slicesOf are the slices of svc among all.
func slicesOf(all []*discoveryv1.EndpointSlice, svc types.NamespacedName) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, es := range all {
		if es.Namespace == svc.Namespace && es.Labels[discoveryv1.LabelServiceName] == svc.Name {
			out = append(out, es)
		}
	}
	return out
}
