// Package watcher holds the sources of Kubernetes objects (the API server
// through informers, or a directory of manifests) and the store they feed.
//
// It may import client-go, the Kubernetes API types, sigs.k8s.io/yaml and the Ingress
// frontend's Input type; never the Envoy protos.
package watcher

import (
	"cmp"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator/ingress"
)

// Key identifies one object in the store.
type Key struct {
	Kind      string
	Namespace string
	Name      string
}

// KeyOf returns the key of a watched object, and false for any other kind.
func KeyOf(obj runtime.Object) (Key, bool) {
	switch o := obj.(type) {
	case *networkingv1.Ingress:
		return Key{"Ingress", o.Namespace, o.Name}, true
	case *networkingv1.IngressClass:
		return Key{"IngressClass", "", o.Name}, true
	case *corev1.Service:
		return Key{"Service", o.Namespace, o.Name}, true
	case *discoveryv1.EndpointSlice:
		return Key{"EndpointSlice", o.Namespace, o.Name}, true
	case *corev1.Secret:
		return Key{"Secret", o.Namespace, o.Name}, true
	case *corev1.ConfigMap:
		return Key{"ConfigMap", o.Namespace, o.Name}, true
	}
	return Key{}, false
}

// Store holds the current objects of every source and says when they change.
// Objects in the store are never modified; readers share them.
type Store struct {
	mu      sync.RWMutex
	sources map[string]map[Key]runtime.Object
	changes chan struct{}
	// dirty holds the kinds changed since the last Snapshot.
	dirty map[string]bool
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{sources: map[string]map[Key]runtime.Object{}, changes: make(chan struct{}, 1)}
}

// Changes delivers a signal after one or more changes; signals coalesce.
func (s *Store) Changes() <-chan struct{} { return s.changes }

func (s *Store) notify() {
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

// Upsert adds or replaces obj as seen by source.
func (s *Store) Upsert(source string, obj runtime.Object) {
	key, ok := KeyOf(obj)
	if !ok {
		return
	}
	s.mu.Lock()
	objs := s.sources[source]
	if objs == nil {
		objs = map[Key]runtime.Object{}
		s.sources[source] = objs
	}
	objs[key] = obj
	s.markDirty(key.Kind)
	s.mu.Unlock()
}

// markDirty records a changed kind and signals it; s.mu must be held.
// Signalling under the lock keeps TakeChanges from taking a change whose
// signal is still to come, which would start a rebuild with nothing to do.
func (s *Store) markDirty(kind string) {
	if s.dirty == nil {
		s.dirty = map[string]bool{}
	}
	s.dirty[kind] = true
	s.notify()
}

// Delete removes obj as seen by source.
func (s *Store) Delete(source string, obj runtime.Object) {
	key, ok := KeyOf(obj)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.sources[source], key)
	s.markDirty(key.Kind)
	s.mu.Unlock()
}

// Replace makes objs the whole set of objects of source. It signals when
// that changes an object, and on the source's first Replace.
func (s *Store) Replace(source string, objs []runtime.Object) {
	next := make(map[Key]runtime.Object, len(objs))
	for _, obj := range objs {
		if key, ok := KeyOf(obj); ok {
			next[key] = obj
		}
	}
	s.mu.Lock()
	prev, known := s.sources[source]
	if !known {
		// A source's first set, even an empty one, settles the input
		// that a first rebuild may wait for.
		s.notify()
	}
	for key, obj := range next {
		// A file read again yields new objects for unchanged content:
		// only a real difference marks the kind changed.
		if old, ok := prev[key]; !ok || (old != obj && !equality.Semantic.DeepEqual(old, obj)) {
			s.markDirty(key.Kind)
		}
	}
	for key := range prev {
		if _, ok := next[key]; !ok {
			s.markDirty(key.Kind)
		}
	}
	s.sources[source] = next
	s.mu.Unlock()
}

// Counts returns how many objects of each kind the store holds.
func (s *Store) Counts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	for _, objs := range s.sources {
		for key := range objs {
			out[key.Kind]++
		}
	}
	return out
}

// TakeChanges returns the kinds changed since the previous call. Call it
// before Input: a change that lands in between is both in that input and
// reported by the next call, so the next rebuild repeats it, which is
// harmless; nothing is ever missed.
//
// It also drops a change signal still pending for the changes it takes:
// that signal would start a rebuild with nothing to do, and a rebuild that
// finds no changes translates everything again, which at 10,000 Ingresses
// costs a second or so of CPU and, until a snapshot replaces the one
// served, a second copy of every resource in memory. (rukou serve's first
// rebuild took the sources' first changes and left their signal, which
// made exactly that rebuild.) A change whose mark lands after this call
// signals again.
func (s *Store) TakeChanges() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	dirty := s.dirty
	s.dirty = nil
	select {
	case <-s.changes:
	default:
	}
	return dirty
}

// PendingOnlyEndpoints reports whether the changes not yet taken are
// EndpointSlices alone.
func (s *Store) PendingOnlyEndpoints() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return OnlyEndpoints(s.dirty)
}

// OnlyEndpoints reports whether the changed kinds are EndpointSlices alone.
func OnlyEndpoints(changed map[string]bool) bool {
	return len(changed) == 1 && changed["EndpointSlice"]
}

// Input returns the current objects for translation, in a stable order:
// every kind, or only the kinds named.
func (s *Store) Input(kinds ...string) ingress.Input {
	s.mu.RLock()
	keys := make([]Key, 0)
	merged := map[Key]runtime.Object{}
	sources := make([]string, 0, len(s.sources))
	for name := range s.sources {
		sources = append(sources, name)
	}
	slices.Sort(sources) // when two sources hold one object, the last name wins
	for _, name := range sources {
		for key, obj := range s.sources[name] {
			if len(kinds) > 0 && !slices.Contains(kinds, key.Kind) {
				continue
			}
			if _, dup := merged[key]; !dup {
				keys = append(keys, key)
			}
			merged[key] = obj
		}
	}
	s.mu.RUnlock()

	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var in ingress.Input
	for _, key := range keys {
		switch o := merged[key].(type) {
		case *networkingv1.Ingress:
			in.Ingresses = append(in.Ingresses, o)
		case *networkingv1.IngressClass:
			in.IngressClasses = append(in.IngressClasses, o)
		case *corev1.Service:
			in.Services = append(in.Services, o)
		case *discoveryv1.EndpointSlice:
			in.EndpointSlices = append(in.EndpointSlices, o)
		case *corev1.Secret:
			in.Secrets = append(in.Secrets, o)
		case *corev1.ConfigMap:
			in.ConfigMaps = append(in.ConfigMaps, o)
		}
	}
	return in
}
