package ingress_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator"
)

// mixedObjects is an input with a bit of everything: several hosts, a
// wildcard, hostless rules, both kinds of default backend, a conflict,
// a missing Service and endpoints spread over slices.
func mixedObjects() []runtime.Object {
	return objects(
		ingressClass("rukou", ourController, true),
		ingressClass("nginx", otherController, false),
		services("a", "b", "c", "fallback"),
		endpointSlice("a-1", "a", "http", 8080, endpoint(ready, "10.0.0.3", "10.0.0.1"), endpoint(terminating, "10.0.0.9")),
		endpointSlice("a-2", "a", "http", 8080, endpoint(ready, "10.0.0.2", "10.0.0.1")),
		endpointSlice("b-1", "b", "http", 8081, endpoint(terminating, "10.0.1.1")),
		endpointSlice("c-1", "c", "http", 8082, endpoint(unknown, "10.0.2.1")),
		ing("shop", createdAt(0),
			rule("Shop.example.com", path(prefix, "/", svc("a", 80)), path(exact, "/cart", svc("b", 80))),
			rule("*.shop.example.com", path(prefix, "/static/", svc("c", "http")))),
		ing("shop-copy", createdAt(1), rule("shop.example.com", path(prefix, "/", svc("c", 80)))),
		ing("api", createdAt(2), className(""), rule("", path(prefix, "/api", svc("b", 80)))),
		ing("blog", createdAt(3), rule("blog.example.com", path(implSpec, "/posts", svc("missing", 80))), defaultBackend(svc("c", 80))),
		ing("catch-all", createdAt(4), defaultBackend(svc("fallback", 80))),
		ing("theirs", className("nginx"), rule("shop.example.com", path(prefix, "/theirs", svc("a", 80)))),
	)
}

// dumpJSON translates in and renders the Dump as JSON.
func dumpJSON(t *testing.T, in translator.Input) []byte {
	t.Helper()
	out, err := translateDump(t, in).JSON()
	if err != nil {
		t.Fatalf("Dump.JSON: %v", err)
	}
	return out
}

func TestTranslateIsDeterministic(t *testing.T) {
	objs := mixedObjects()
	want := dumpJSON(t, input(objs...))
	if got := dumpJSON(t, input(objs...)); !bytes.Equal(got, want) {
		t.Fatalf("same input, different output:\n%s\nthen:\n%s", want, got)
	}
	for _, s := range []string{"shop.example.com", "*.shop.example.com", "10.0.0.1", "PathConflict", "ServiceNotFound"} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("dump does not mention %q; the input no longer exercises it:\n%s", s, want)
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(objs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		// Endpoints inside a slice come in any order too.
		for i, o := range shuffled {
			if es, ok := o.(*discoveryv1.EndpointSlice); ok {
				es = es.DeepCopy()
				rng.Shuffle(len(es.Endpoints), func(i, j int) { es.Endpoints[i], es.Endpoints[j] = es.Endpoints[j], es.Endpoints[i] })
				shuffled[i] = es
			}
		}
		if got := dumpJSON(t, input(shuffled...)); !bytes.Equal(got, want) {
			t.Fatalf("shuffled input, different output:\n%s\nwant:\n%s", got, want)
		}
	}
}

func TestTranslateDoesNotModifyItsInput(t *testing.T) {
	objs := mixedObjects()
	before := make([]runtime.Object, len(objs))
	for i, o := range objs {
		before[i] = o.DeepCopyObject()
	}
	dumpJSON(t, input(objs...))
	for i := range objs {
		if !reflect.DeepEqual(objs[i], before[i]) {
			t.Errorf("Translate changed %T %d", objs[i], i)
		}
	}
}

func TestTranslateOfNothingIsValid(t *testing.T) {
	res, err := translator.Translate(translator.Input{}, translator.DefaultOptions())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if len(res.Model.VirtualHosts) != 0 || len(res.Model.Backends) != 0 || len(res.Diagnostics) != 0 {
		t.Errorf("empty input gave a model %+v and diagnostics %v", res.Model, res.Diagnostics)
	}
	// The listener and its route configuration exist from the start, so
	// Envoy answers 404 rather than refusing connections.
	if len(res.Resources.Listeners) != 1 || len(res.Resources.Routes) != 1 {
		t.Errorf("got %d listeners and %d route configurations, want 1 and 1", len(res.Resources.Listeners), len(res.Resources.Routes))
	}
}

func TestValidateRejectsInvalidResources(t *testing.T) {
	res := &translator.Resources{Endpoints: []*envoy_config_endpoint_v3.ClusterLoadAssignment{{ClusterName: ""}}}
	err := res.Validate()
	if err == nil || !strings.Contains(err.Error(), "cluster load assignment") {
		t.Fatalf("Validate of an assignment without a cluster name: %v, want an error naming it", err)
	}
}
