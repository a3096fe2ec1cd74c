package watcher_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

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
	if changed := s.TakeChanges(); !changed["Service"] || !changed["EndpointSlice"] {
		t.Errorf("first snapshot: changed %v, want Service and EndpointSlice", changed)
	}
	if changed := s.TakeChanges(); len(changed) != 0 {
		t.Errorf("nothing changed, but %v reported", changed)
	}
	s.Replace(watcher.DirSource, []runtime.Object{svc.DeepCopy(), slice.DeepCopy()})
	if changed := s.TakeChanges(); len(changed) != 0 {
		t.Errorf("objects read again with the same content, but %v reported", changed)
	}
	moved := slice.DeepCopy()
	moved.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.9"}}}
	s.Replace(watcher.DirSource, []runtime.Object{svc.DeepCopy(), moved})
	if changed := s.TakeChanges(); !watcher.OnlyEndpoints(changed) {
		t.Errorf("only the slice changed, but %v reported", changed)
	}
	s.Delete(watcher.DirSource, svc)
	if changed := s.TakeChanges(); watcher.OnlyEndpoints(changed) || !changed["Service"] {
		t.Errorf("a deleted Service: changed %v", changed)
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
	if got := s.TakeChanges(); !got["Service"] {
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
