// Package watcher holds the sources of Kubernetes objects (the API server
// through informers, or a directory of manifests) and the store they feed.
//
// It may import client-go, the Kubernetes API types, sigs.k8s.io/yaml and the Ingress
// frontend's Input type; never the Envoy protos.
package watcher

import (
	"cmp"
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

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
	// pending holds the changes since the last TakeChanges.
	pending Changes
	// slicesOf indexes the EndpointSlices by the Service their label
	// names: how many sources hold each key under that label. A slice, as
	// a Service has one EndpointSlice or a few: a map each would weigh
	// some 700 bytes per Service.
	slicesOf map[types.NamespacedName][]sliceCount
	// merged holds Input's objects of each kind, in order, until an
	// object of that kind changes: a new Ingress among 10,000 Services and
	// EndpointSlices merges and sorts the Ingresses alone.
	merged map[string][]runtime.Object
	// dirty are the keys changed since the list of their kind in merged
	// was made, up to mergePatch of them: merge patches the list with
	// those instead of merging and sorting the kind again.
	dirty map[string][]Key
	// reads are what the configuration served was built from (SetReads),
	// nil before the first: a change to another Service or Secret, to an
	// EndpointSlice of another Service, or to an Ingress owned neither
	// before nor after, is kept but not signalled (see unread).
	reads *ingress.Reads
	// quiet are the changes not signalled while a rebuild runs (from
	// TakeChanges to SetReads): SetReads judges them again.
	quiet []quietChange
	// building is set from TakeChanges to SetReads.
	building bool
}

// quietChange is a change left unsignalled: the kind and key of the
// object, for an EndpointSlice the Services it was under, before and
// after, and for an Ingress the object before and after.
type quietChange struct {
	key      Key
	services []types.NamespacedName
	old, obj *networkingv1.Ingress
}

// sliceCount is how many sources hold an EndpointSlice under a Service.
type sliceCount struct {
	key Key
	n   int
}

// Changes are what changed in the store between two rebuilds: the kinds,
// and the Services whose EndpointSlices changed, so that an endpoint change
// touches only their endpoints.
type Changes struct {
	Kinds map[string]bool
	// Services are those named by the service-name label of an
	// EndpointSlice added, changed or removed, before and after.
	Services map[types.NamespacedName]bool
}

// OnlyEndpoints reports whether EndpointSlices alone changed.
func (c Changes) OnlyEndpoints() bool {
	return len(c.Kinds) == 1 && c.Kinds["EndpointSlice"]
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{sources: map[string]map[Key]runtime.Object{}, changes: make(chan struct{}, 1), slicesOf: map[types.NamespacedName][]sliceCount{}, merged: map[string][]runtime.Object{}, dirty: map[string][]Key{}}
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
	if old := objs[key]; !sameVersion(old, obj) {
		s.markDirty(key, old, obj)
		objs[key] = obj
	}
	s.mu.Unlock()
}

// sameVersion reports whether old and obj are the same version of an
// object from the API server, as a relist of an informer delivers every
// object again.
func sameVersion(old, obj runtime.Object) bool {
	o, ok1 := old.(metav1.Object)
	n, ok2 := obj.(metav1.Object)
	return ok1 && ok2 && o.GetResourceVersion() != "" && o.GetResourceVersion() == n.GetResourceVersion()
}

// markDirty records that the object at key changed from old to obj (either
// may be nil) in one source, keeps slicesOf in step, and signals the
// change unless it cannot change the configuration: a change of status
// alone, or of an object the configuration served was not built from (see
// reads). s.mu must be held. Signalling under the lock keeps TakeChanges
// from taking a change whose signal is still to come, which would start a
// rebuild with nothing to do.
func (s *Store) markDirty(key Key, old, obj runtime.Object) {
	if _, ok := s.merged[key.Kind]; ok {
		if d := s.dirty[key.Kind]; len(d) < mergePatch {
			s.dirty[key.Kind] = append(d, key)
		} else {
			delete(s.merged, key.Kind)
			delete(s.dirty, key.Kind)
		}
	}
	var services []types.NamespacedName
	for i, o := range [2]runtime.Object{old, obj} {
		es, ok := o.(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		svc := serviceOf(es)
		if len(services) == 0 || services[0] != svc {
			services = append(services, svc)
		}
		counts := s.slicesOf[svc]
		at := slices.IndexFunc(counts, func(c sliceCount) bool { return c.key == key })
		if at < 0 {
			at, counts = len(counts), append(counts, sliceCount{key: key})
		}
		if counts[at].n += 2*i - 1; counts[at].n <= 0 { // old leaves, obj comes
			counts = slices.Delete(counts, at, at+1)
		}
		if len(counts) == 0 {
			delete(s.slicesOf, svc)
		} else {
			s.slicesOf[svc] = counts
		}
	}
	q := quietChange{key: key, services: services}
	q.old, _ = old.(*networkingv1.Ingress)
	q.obj, _ = obj.(*networkingv1.Ingress)
	switch {
	case statusOnly(old, obj):
	case s.unread(q):
		if s.building {
			s.quiet = append(s.quiet, q)
		}
	default:
		s.mark(key.Kind, services)
	}
}

// mark adds a change of kind, of EndpointSlices under services, to the
// pending changes, and signals.
func (s *Store) mark(kind string, services []types.NamespacedName) {
	defer s.notify()
	if s.pending.Kinds == nil {
		s.pending.Kinds = map[string]bool{}
	}
	s.pending.Kinds[kind] = true
	for _, svc := range services {
		if s.pending.Services == nil {
			s.pending.Services = map[types.NamespacedName]bool{}
		}
		s.pending.Services[svc] = true
	}
}

// unread reports whether the configuration served was built without the
// object of a change: a Service or Secret it did not look up, an
// EndpointSlice of none of the Services it looked up, an Ingress it owns
// neither before nor after.
func (s *Store) unread(q quietChange) bool {
	if s.reads == nil {
		return false
	}
	name := types.NamespacedName{Namespace: q.key.Namespace, Name: q.key.Name}
	switch q.key.Kind {
	case "Service":
		_, read := s.reads.Services[name]
		return !read
	case "Secret":
		_, read := s.reads.Secrets[name]
		return !read
	case "EndpointSlice":
		for _, svc := range q.services {
			if _, read := s.reads.Services[svc]; read {
				return false
			}
		}
		return true
	case "Ingress":
		owns := s.reads.Owns
		return owns != nil && (q.old == nil || !owns(q.old)) && (q.obj == nil || !owns(q.obj))
	}
	return false
}

// SetReads tells the store what the configuration now served was built
// from, nil for "everything" (as after a translation that failed), and
// ends the rebuild that TakeChanges began. The changes left unsignalled
// during that rebuild were judged by the reads before; those that reads
// names are signalled now, as they may have come after the rebuild read
// its input.
func (s *Store) SetReads(reads *ingress.Reads) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = reads
	for _, q := range s.quiet {
		if !s.unread(q) {
			s.mark(q.key.Kind, q.services)
		}
	}
	s.quiet, s.building = nil, false
}

// statusOnly reports whether obj is old with only its status changed
// (such as the load balancer address rukou writes on its Ingresses) or
// the bookkeeping of its metadata: nothing translation reads.
func statusOnly(old, obj runtime.Object) bool {
	switch o := obj.(type) {
	case *networkingv1.Ingress:
		p, ok := old.(*networkingv1.Ingress)
		return ok && sameMeta(p.ObjectMeta, o.ObjectMeta) && equality.Semantic.DeepEqual(p.Spec, o.Spec)
	case *corev1.Service:
		p, ok := old.(*corev1.Service)
		return ok && sameMeta(p.ObjectMeta, o.ObjectMeta) && equality.Semantic.DeepEqual(p.Spec, o.Spec)
	}
	return false
}

// sameMeta reports whether a and b differ in nothing but their resource
// version, generation (which counts changes of the spec, compared on its
// own) and managed fields.
func sameMeta(a, b metav1.ObjectMeta) bool {
	a.ResourceVersion, b.ResourceVersion = "", ""
	a.Generation, b.Generation = 0, 0
	a.ManagedFields, b.ManagedFields = nil, nil
	return equality.Semantic.DeepEqual(a, b)
}

// serviceOf names the Service of an EndpointSlice.
func serviceOf(es *discoveryv1.EndpointSlice) types.NamespacedName {
	return types.NamespacedName{Namespace: es.Namespace, Name: es.Labels[discoveryv1.LabelServiceName]}
}

// Delete removes obj as seen by source.
func (s *Store) Delete(source string, obj runtime.Object) {
	key, ok := KeyOf(obj)
	if !ok {
		return
	}
	s.mu.Lock()
	s.markDirty(key, s.sources[source][key], nil)
	delete(s.sources[source], key)
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
		s.markChanged(key, prev[key], obj)
	}
	for key, old := range prev {
		if _, ok := next[key]; !ok {
			s.markDirty(key, old, nil)
		}
	}
	s.sources[source] = next
	s.mu.Unlock()
}

// Get returns source's object at key, or nil.
func (s *Store) Get(source string, key Key) runtime.Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sources[source][key]
}

// Patch puts objs into source's set and takes the objects at deletes out
// of it, signalling as Replace does for the set so changed: a source that
// knows what changed hands over that alone.
func (s *Store) Patch(source string, objs []runtime.Object, deletes []Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.sources[source]
	if set == nil {
		// A source's first set, as in Replace.
		s.notify()
		set = map[Key]runtime.Object{}
		s.sources[source] = set
	}
	for _, obj := range objs {
		if key, ok := KeyOf(obj); ok {
			s.markChanged(key, set[key], obj)
			set[key] = obj
		}
	}
	for _, key := range deletes {
		if old, ok := set[key]; ok {
			s.markDirty(key, old, nil)
			delete(set, key)
		}
	}
}

// markChanged marks the object at key changed from old (nil when there
// was none) to obj, unless the two are equal: a file read again yields
// new objects for unchanged content. s.mu must be held.
func (s *Store) markChanged(key Key, old, obj runtime.Object) {
	if old == nil || (old != obj && !equality.Semantic.DeepEqual(old, obj)) {
		s.markDirty(key, old, obj)
	}
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

// TakeChanges returns the changes since the previous call. Call it before
// Input: a change that lands in between is both in that input and reported
// by the next call, so the next rebuild repeats it, which is harmless;
// nothing is ever missed.
//
// It also drops a change signal still pending for the changes it takes:
// that signal would start a rebuild with nothing to do, and a rebuild that
// finds no changes translates everything again, which at 10,000 Ingresses
// costs a second or so of CPU and, until a snapshot replaces the one
// served, a second copy of every resource in memory. (rukou serve's first
// rebuild took the sources' first changes and left their signal, which
// made exactly that rebuild.) A change whose mark lands after this call
// signals again.
//
// It begins a rebuild, which SetReads ends: the changes left unsignalled
// until then are in the input read after this call; SetReads judges again
// those that come later.
func (s *Store) TakeChanges() Changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pending
	s.pending, s.quiet, s.building = Changes{}, nil, true
	select {
	case <-s.changes:
	default:
	}
	return out
}

// PendingOnlyEndpoints reports whether the changes not yet taken are
// EndpointSlices alone.
func (s *Store) PendingOnlyEndpoints() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending.OnlyEndpoints()
}

// EndpointSlicesOf returns the EndpointSlices of services, in the order
// Input gives them: what an endpoint change of those Services needs. It
// looks at their slices alone, however many objects the store holds.
func (s *Store) EndpointSlicesOf(services map[types.NamespacedName]bool) []*discoveryv1.EndpointSlice {
	s.mu.RLock()
	sources := s.sourceNames()
	var keys []Key
	objs := map[Key]*discoveryv1.EndpointSlice{}
	for svc := range services {
		for _, c := range s.slicesOf[svc] {
			key := c.key
			// The last source holding the key wins, as in Input; its
			// object may name another Service.
			for _, name := range slices.Backward(sources) {
				if obj, ok := s.sources[name][key]; ok {
					if es := obj.(*discoveryv1.EndpointSlice); serviceOf(es) == svc {
						keys, objs[key] = append(keys, key), es
					}
					break
				}
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(keys, compareKeys)
	out := make([]*discoveryv1.EndpointSlice, len(keys))
	for i, key := range keys {
		out[i] = objs[key]
	}
	return out
}

// sourceNames lists the sources in order: when two hold one object, the
// last one's wins. s.mu must be held.
func (s *Store) sourceNames() []string {
	out := make([]string, 0, len(s.sources))
	for name := range s.sources {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// compareKeys orders keys by kind, namespace and name.
func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// kinds are the kinds the store holds, in Input's order.
var kinds = []string{"ConfigMap", "EndpointSlice", "Ingress", "IngressClass", "Secret", "Service"}

// Input returns the current objects for translation, in a stable order
// (by kind, namespace and name): every kind, or only the kinds named.
func (s *Store) Input(only ...string) ingress.Input {
	if len(only) == 0 {
		only = kinds
	}
	s.mu.Lock()
	s.merge(only)
	objs := make([][]runtime.Object, len(only))
	for i, kind := range only {
		objs[i] = s.merged[kind]
	}
	s.mu.Unlock()

	var in ingress.Input
	for _, list := range objs {
		for _, obj := range list {
			in.Add(obj)
		}
	}
	return in
}

// mergePatch is how many changed keys of a kind merge patches into its
// list; more, and it merges the kind again.
const mergePatch = 64

// merge fills s.merged for those of kinds it lacks: each key's object
// from the last source that holds it, sorted by namespace and name, in
// one pass over the sources. A list with a few keys changed since it was
// made is patched with them instead: a new Ingress with its Service and
// EndpointSlice among 10,000 of each would otherwise merge and sort 20,000
// objects again (about 40 ms). s.mu must be held.
func (s *Store) merge(kinds []string) {
	missing := map[string]map[Key]runtime.Object{}
	var names []string
	for _, kind := range kinds {
		if _, ok := s.merged[kind]; !ok {
			missing[kind] = map[Key]runtime.Object{}
			continue
		}
		if d := s.dirty[kind]; len(d) > 0 {
			if names == nil {
				names = s.sourceNames()
			}
			s.merged[kind] = s.patched(s.merged[kind], d, names)
			delete(s.dirty, kind)
		}
	}
	if len(missing) == 0 {
		return
	}
	for _, name := range s.sourceNames() {
		for key, obj := range s.sources[name] {
			if m, ok := missing[key.Kind]; ok {
				m[key] = obj
			}
		}
	}
	for kind, m := range missing {
		keys := slices.SortedFunc(maps.Keys(m), compareKeys)
		list := make([]runtime.Object, len(keys))
		for i, key := range keys {
			list[i] = m[key]
		}
		s.merged[kind] = list
		delete(s.dirty, kind)
	}
}

// patched is a copy of the merged list with the objects now at keys: each
// key's object from the last of the sources names that holds it, in its
// place, or out of the list when none does. The list itself may still be
// read by an Input made before. s.mu must be held.
func (s *Store) patched(list []runtime.Object, keys []Key, names []string) []runtime.Object {
	list = slices.Clone(list)
	for _, key := range keys {
		var obj runtime.Object
		for _, name := range names {
			if o, ok := s.sources[name][key]; ok {
				obj = o
			}
		}
		at, found := slices.BinarySearchFunc(list, key, func(o runtime.Object, k Key) int {
			ok, _ := KeyOf(o)
			return compareKeys(ok, k)
		})
		switch {
		case obj != nil && found:
			list[at] = obj
		case obj != nil:
			list = slices.Insert(list, at, obj)
		case found:
			list = slices.Delete(list, at, at+1)
		}
	}
	return list
}
