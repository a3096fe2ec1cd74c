package watcher_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rukou/rukou/watcher"
)

// drained reports whether a change signal was pending, and consumes it.
func drained(s *watcher.Store) bool {
	select {
	case <-s.Changes():
		return true
	default:
		return false
	}
}

func TestStore(t *testing.T) {
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	ingress := func(ns, name string) *networkingv1.Ingress { return &networkingv1.Ingress{ObjectMeta: meta(ns, name)} }
	labelled := func(s *corev1.Service, v string) *corev1.Service {
		s.Labels = map[string]string{"v": v}
		return s
	}

	cases := []struct {
		name string
		// ops change a new store, in order.
		ops  func(s *watcher.Store)
		want []string
	}{
		{
			name: "input_is_sorted_by_kind_namespace_and_name",
			ops: func(s *watcher.Store) {
				for _, o := range []runtime.Object{
					svcObject("shop", "web"), ingress("shop", "b"), svcObject("default", "web"),
					&corev1.Secret{ObjectMeta: meta("shop", "tls")},
					&discoveryv1.EndpointSlice{ObjectMeta: meta("shop", "web-1")},
					&networkingv1.IngressClass{ObjectMeta: meta("", "rukou")},
					ingress("default", "z"), ingress("shop", "a"),
				} {
					s.Upsert(watcher.DirSource, o)
				}
			},
			want: []string{
				"Ingress default/z", "Ingress shop/a", "Ingress shop/b",
				"IngressClass rukou",
				"Service default/web", "Service shop/web",
				"EndpointSlice shop/web-1",
				"Secret shop/tls",
			},
		},
		{
			name: "upsert_replaces_the_object_with_the_same_key",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.KubeSource, labelled(svcObject("default", "web"), "1"))
				s.Upsert(watcher.KubeSource, labelled(svcObject("default", "web"), "2"))
			},
			want: []string{"Service default/web"},
		},
		{
			name: "same_name_in_another_kind_or_namespace_is_another_object",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.KubeSource, svcObject("default", "web"))
				s.Upsert(watcher.KubeSource, svcObject("shop", "web"))
				s.Upsert(watcher.KubeSource, ingress("default", "web"))
			},
			want: []string{"Ingress default/web", "Service default/web", "Service shop/web"},
		},
		{
			name: "delete_removes_the_object",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.KubeSource, svcObject("default", "a"))
				s.Upsert(watcher.KubeSource, svcObject("default", "b"))
				s.Delete(watcher.KubeSource, svcObject("default", "a"))
			},
			want: []string{"Service default/b"},
		},
		{
			name: "delete_of_an_unknown_object_or_source_is_harmless",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.KubeSource, svcObject("default", "a"))
				s.Delete(watcher.KubeSource, svcObject("default", "missing"))
				s.Delete("nowhere", svcObject("default", "a"))
			},
			want: []string{"Service default/a"},
		},
		{
			name: "replace_sets_the_whole_source",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.DirSource, svcObject("default", "old"))
				s.Replace(watcher.DirSource, []runtime.Object{svcObject("default", "new"), ingress("default", "new")})
			},
			want: []string{"Ingress default/new", "Service default/new"},
		},
		{
			name: "replace_leaves_other_sources_alone",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.KubeSource, svcObject("default", "from-kube"))
				s.Replace(watcher.DirSource, []runtime.Object{svcObject("default", "from-dir")})
				s.Replace(watcher.DirSource, nil)
			},
			want: []string{"Service default/from-kube"},
		},
		{
			name: "unwatched_kinds_are_ignored",
			ops: func(s *watcher.Store) {
				s.Upsert(watcher.KubeSource, &corev1.ServiceAccount{ObjectMeta: meta("default", "conf")})
				s.Replace(watcher.DirSource, []runtime.Object{&corev1.Pod{ObjectMeta: meta("default", "pod")}, svcObject("default", "web")})
			},
			want: []string{"Service default/web"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := watcher.NewStore()
			c.ops(s)
			equalKeys(t, "input", inputKeys(s.Input()), c.want)
		})
	}
}

func TestStoreObjectInTwoSourcesIsReadFromTheLastSourceByName(t *testing.T) {
	s := watcher.NewStore()
	fromDir, fromKube := svcObject("default", "web"), svcObject("default", "web")
	fromDir.Labels = map[string]string{"from": "dir"}
	fromKube.Labels = map[string]string{"from": "kube"}
	s.Upsert(watcher.KubeSource, fromKube)
	s.Upsert(watcher.DirSource, fromDir)

	in := s.Input()
	if len(in.Services) != 1 {
		t.Fatalf("got %d Services, want 1: %v", len(in.Services), inputKeys(in))
	}
	if got := in.Services[0].Labels["from"]; got != "kube" {
		t.Errorf("Service read from %q, want kube (sources sort dir < kube)", got)
	}
	s.Delete(watcher.KubeSource, fromKube)
	if in := s.Input(); len(in.Services) != 1 || in.Services[0].Labels["from"] != "dir" {
		t.Errorf("after the kube copy is deleted: %v, want the dir copy", inputKeys(in))
	}
}

func TestStoreCounts(t *testing.T) {
	s := watcher.NewStore()
	s.Upsert(watcher.KubeSource, svcObject("default", "a"))
	s.Upsert(watcher.KubeSource, svcObject("default", "b"))
	s.Upsert(watcher.DirSource, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "rukou"}})
	got := s.Counts()
	if len(got) != 2 || got["Service"] != 2 || got["IngressClass"] != 1 {
		t.Errorf("Counts() = %v, want 2 Services and 1 IngressClass", got)
	}
}

func TestStoreChangesCoalesce(t *testing.T) {
	s := watcher.NewStore()
	if drained(s) {
		t.Fatal("a new store signals a change")
	}
	for i := range 10 {
		s.Upsert(watcher.KubeSource, svcObject("default", string(rune('a'+i))))
	}
	s.Delete(watcher.KubeSource, svcObject("default", "a"))
	s.Replace(watcher.DirSource, nil)
	if !drained(s) {
		t.Fatal("no signal after changes")
	}
	if drained(s) {
		t.Fatal("twelve changes gave more than one pending signal")
	}

	for _, change := range []struct {
		name string
		do   func()
	}{
		{"upsert", func() { s.Upsert(watcher.KubeSource, svcObject("default", "z")) }},
		{"delete", func() { s.Delete(watcher.KubeSource, svcObject("default", "z")) }},
		{"replace", func() { s.Replace(watcher.DirSource, []runtime.Object{svcObject("default", "y")}) }},
	} {
		change.do()
		if !drained(s) {
			t.Errorf("%s after the signal was taken gave no new signal", change.name)
		}
	}

	s.Upsert(watcher.KubeSource, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "conf"}})
	if drained(s) {
		t.Error("an object of an unwatched kind signalled a change")
	}
}

func TestSnapshotReportsChangedKinds(t *testing.T) {
	s := watcher.NewStore()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-1"}}
	s.Replace(watcher.DirSource, []runtime.Object{svc, slice})
	if changed := s.TakeChanges().Kinds; !changed["Service"] || !changed["EndpointSlice"] {
		t.Errorf("first snapshot: changed %v, want Service and EndpointSlice", changed)
	}
	if changed := s.TakeChanges().Kinds; len(changed) != 0 {
		t.Errorf("nothing changed, but %v reported", changed)
	}
	s.Replace(watcher.DirSource, []runtime.Object{svc.DeepCopy(), slice.DeepCopy()})
	if changed := s.TakeChanges().Kinds; len(changed) != 0 {
		t.Errorf("objects read again with the same content, but %v reported", changed)
	}
	moved := slice.DeepCopy()
	moved.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.9"}}}
	s.Replace(watcher.DirSource, []runtime.Object{svc.DeepCopy(), moved})
	if changed := s.TakeChanges(); !changed.OnlyEndpoints() {
		t.Errorf("only the slice changed, but %v reported", changed)
	}
	s.Delete(watcher.DirSource, svc)
	if changed := s.TakeChanges(); changed.OnlyEndpoints() || !changed.Kinds["Service"] {
		t.Errorf("a deleted Service: changed %v", changed)
	}
}

// TestChangesNameTheServicesOfChangedSlices: an endpoint change names the
// Services whose slices changed (both when a slice moves from one Service
// to another), and EndpointSlicesOf gives exactly their slices, the last
// source's object winning.
func TestChangesNameTheServicesOfChangedSlices(t *testing.T) {
	slice := func(name, svc, ip string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{ip}}},
		}
	}
	named := func(names ...string) map[types.NamespacedName]bool {
		out := map[types.NamespacedName]bool{}
		for _, n := range names {
			out[types.NamespacedName{Namespace: "default", Name: n}] = true
		}
		return out
	}
	s := watcher.NewStore()
	s.Replace(watcher.DirSource, []runtime.Object{slice("web-1", "web", "10.0.0.1"), slice("api-1", "api", "10.0.0.2"), slice("db-1", "db", "10.0.0.3")})
	s.TakeChanges()

	s.Replace(watcher.DirSource, []runtime.Object{slice("web-1", "web", "10.0.0.9"), slice("api-1", "api", "10.0.0.2"), slice("db-1", "db", "10.0.0.3")})
	if got := s.TakeChanges().Services; !maps.Equal(got, named("web")) {
		t.Errorf("web's slice changed: Services %v, want web alone", got)
	}
	s.Upsert(watcher.DirSource, slice("api-1", "db", "10.0.0.2"))
	s.Delete(watcher.DirSource, slice("web-1", "web", ""))
	if got := s.TakeChanges().Services; !maps.Equal(got, named("api", "db", "web")) {
		t.Errorf("a slice moved from api to db, web's went: Services %v, want api, db and web", got)
	}

	// The cluster's source comes after the directory's, so its object wins.
	s.Upsert(watcher.KubeSource, slice("db-1", "api", "10.0.0.7"))
	var got []string
	for _, es := range s.EndpointSlicesOf(named("db")) {
		got = append(got, es.Name+"="+es.Endpoints[0].Addresses[0])
	}
	if want := []string{"api-1=10.0.0.2"}; !slices.Equal(got, want) {
		t.Errorf("db's slices: %v, want %v (db-1 belongs to api in the source that wins)", got, want)
	}
}

// TestTakeChangesDropsTheirSignal: once a rebuild has taken the changes, the
// signal they raised is gone, so no second rebuild follows with nothing to
// do (at 10,000 Ingresses, a whole translation and a second copy of the
// configuration in memory); a change after the take signals again, and an
// unchanged Replace signals nothing.
func TestTakeChangesDropsTheirSignal(t *testing.T) {
	s := watcher.NewStore()
	s.Replace(watcher.DirSource, []runtime.Object{svcObject("default", "a")})
	if got := s.TakeChanges().Kinds; !got["Service"] {
		t.Fatalf("TakeChanges() = %v, want Service", got)
	}
	if drained(s) {
		t.Error("a signal was left for changes already taken")
	}
	s.Replace(watcher.DirSource, []runtime.Object{svcObject("default", "a")})
	if drained(s) {
		t.Error("a Replace with the same objects signalled a change")
	}
	s.Upsert(watcher.KubeSource, svcObject("default", "b"))
	if !drained(s) {
		t.Error("a change after the take gave no signal")
	}
}

// TestInputAfterEveryChange: read after each change, the input is what a
// store that saw the same changes and is read once gives: the objects of
// the kinds that did not change are kept from the read before, and those
// of a changed kind are merged again, in either source.
func TestInputAfterEveryChange(t *testing.T) {
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	labelled := func(o *corev1.Service, v string) *corev1.Service {
		o.Labels = map[string]string{"v": v}
		return o
	}
	ops := []func(s *watcher.Store){
		func(s *watcher.Store) { s.Upsert(watcher.DirSource, svcObject("shop", "web")) },
		func(s *watcher.Store) {
			s.Upsert(watcher.DirSource, &networkingv1.Ingress{ObjectMeta: meta("shop", "b")})
		},
		func(s *watcher.Store) {
			s.Upsert(watcher.KubeSource, &networkingv1.Ingress{ObjectMeta: meta("shop", "a")})
		},
		func(s *watcher.Store) { s.Upsert(watcher.KubeSource, labelled(svcObject("shop", "web"), "kube")) },
		func(s *watcher.Store) {
			s.Replace(watcher.DirSource, []runtime.Object{labelled(svcObject("shop", "web"), "dir"), svcObject("default", "api")})
		},
		func(s *watcher.Store) {
			s.Patch(watcher.DirSource, []runtime.Object{&corev1.Secret{ObjectMeta: meta("shop", "tls")}}, []watcher.Key{{Kind: "Service", Namespace: "default", Name: "api"}})
		},
		func(s *watcher.Store) { s.Delete(watcher.KubeSource, svcObject("shop", "web")) },
		func(s *watcher.Store) {
			s.Delete(watcher.KubeSource, &networkingv1.Ingress{ObjectMeta: meta("shop", "a")})
		},
	}
	read := watcher.NewStore()
	for k := range ops {
		ops[k](read)
		got := read.Input()
		once := watcher.NewStore()
		for _, op := range ops[:k+1] {
			op(once)
		}
		want := once.Input()
		equalKeys(t, "after change "+strconv.Itoa(k+1), inputKeys(got), inputKeys(want))
		for i, s := range want.Services {
			if i < len(got.Services) && got.Services[i].Labels["v"] != s.Labels["v"] {
				t.Errorf("after change %d: Service %s from %q, want %q", k+1, s.Name, got.Services[i].Labels["v"], s.Labels["v"])
			}
		}
	}
}
