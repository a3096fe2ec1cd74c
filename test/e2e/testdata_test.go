package e2e

// Cases shared with the translator's golden tests: a manifest of
// translator/testdata/in describes the Ingresses once, the golden tests
// translate it with its static Services (on 127.0.0.1, serving nothing),
// and an end-to-end test applies it with its own live backends instead.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rukou/rukou/test/harness"
	"github.com/rukou/rukou/watcher"
)

// applyCase writes the Ingresses, IngressClasses and Secrets of
// translator/testdata/in/file to the stack (as the manifest named after the
// file), with the Services and EndpointSlices of live, the test's backends,
// in place of the file's own.
func (s *stack) applyCase(t *testing.T, file string, live ...[]runtime.Object) {
	t.Helper()
	s.apply(t, strings.TrimSuffix(file, filepath.Ext(file)), testdataCase(t, file, join(live...))...)
}

// testdataCase reads translator/testdata/in/file and swaps its Services and
// EndpointSlices for live. Each Service of the file must have a live one of
// the same namespace and name, and live may hold no other Service, so that
// the golden test and the end-to-end test translate the same case; a
// Service an Ingress names but the file leaves out stays missing in both.
func testdataCase(t *testing.T, file string, live []runtime.Object) []runtime.Object {
	t.Helper()
	path := filepath.Join(harness.Root(t), "translator", "testdata", "in", file)
	objs, err := watcher.ReadPaths([]string{path})
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var out []runtime.Object
	want := map[types.NamespacedName]bool{}
	for _, o := range objs {
		switch o := o.(type) {
		case *networkingv1.Ingress, *networkingv1.IngressClass, *corev1.Secret:
			out = append(out, o)
		case *corev1.Service:
			want[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}] = true
		case *discoveryv1.EndpointSlice:
			// Its Service's live backend brings its own.
		default:
			t.Fatalf("%s: unexpected %T in an end-to-end case", path, o)
		}
	}
	have := map[types.NamespacedName]bool{}
	for _, o := range live {
		switch o := o.(type) {
		case *corev1.Service:
			key := types.NamespacedName{Namespace: o.Namespace, Name: o.Name}
			if !want[key] {
				t.Fatalf("%s has no Service %s: the test's backend %q would make a case the golden test does not translate", path, key, o.Name)
			}
			have[key] = true
		case *discoveryv1.EndpointSlice:
		default:
			t.Fatalf("%s: a live object must be a Service or an EndpointSlice, not %T", path, o)
		}
		out = append(out, o)
	}
	var missing []string
	for key := range want {
		if !have[key] {
			missing = append(missing, fmt.Sprintf("%s (start one with backend(t, %q))", key, key.Name))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Fatalf("%s names Services the test started no backend for: %s", path, strings.Join(missing, ", "))
	}
	return out
}
