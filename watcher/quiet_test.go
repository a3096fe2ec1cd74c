package watcher_test

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/watcher"
)

// readsOf names Services and Secrets of namespace default as Reads.
func readsOf(services, secrets []string) *ingress.Reads {
	set := func(names []string) map[types.NamespacedName]struct{} {
		out := map[types.NamespacedName]struct{}{}
		for _, n := range names {
			out[types.NamespacedName{Namespace: "default", Name: n}] = struct{}{}
		}
		return out
	}
	return &ingress.Reads{Services: set(services), Secrets: set(secrets)}
}

func endpointSlice(name, svc, ip string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{ip}}},
	}
}

// taken takes the changes, and says whether a signal came for them.
func taken(s *watcher.Store) (watcher.Changes, bool) {
	signalled := drained(s)
	return s.TakeChanges(), signalled
}

// TestStoreIsQuietForWhatIsNotRead: once the store knows which Services
// and Secrets the configuration served was built from, a change to another
// one, or to an EndpointSlice of another Service, is kept (the next input
// holds it) but neither signalled nor reported, as it cannot change the
// configuration; a change to one that was read is signalled as before.
func TestStoreIsQuietForWhatIsNotRead(t *testing.T) {
	s := watcher.NewStore()
	s.SetReads(readsOf([]string{"web"}, []string{"web-tls"}))

	s.Upsert(watcher.KubeSource, svcObject("default", "unused"))
	s.Upsert(watcher.KubeSource, endpointSlice("unused-1", "unused", "10.0.0.1"))
	s.Upsert(watcher.KubeSource, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "helm-release"}})
	if got, signalled := taken(s); signalled || len(got.Kinds) > 0 {
		t.Errorf("changes to objects not read: signalled %v, changes %v; want none", signalled, got)
	}
	in := s.Input()
	if len(in.Services) != 1 || len(in.EndpointSlices) != 1 || len(in.Secrets) != 1 {
		t.Errorf("the input lacks the objects of quiet changes: %v", inputKeys(in))
	}

	s.Upsert(watcher.KubeSource, svcObject("default", "web"))
	s.Upsert(watcher.KubeSource, endpointSlice("web-1", "web", "10.0.0.2"))
	s.Upsert(watcher.KubeSource, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-tls"}})
	got, signalled := taken(s)
	want := map[string]bool{"Service": true, "EndpointSlice": true, "Secret": true}
	if !signalled || !maps.Equal(got.Kinds, want) || !maps.Equal(got.Services, map[types.NamespacedName]bool{{Namespace: "default", Name: "web"}: true}) {
		t.Errorf("changes to objects read: signalled %v, changes %v; want a signal and %v, Services web", signalled, got, want)
	}

	// A slice that moves from a Service not read to one read is a change
	// of both.
	s.Upsert(watcher.KubeSource, endpointSlice("unused-1", "web", "10.0.0.1"))
	if got, signalled := taken(s); !signalled || len(got.Services) != 2 {
		t.Errorf("a slice moved to web: signalled %v, Services %v; want unused and web", signalled, got.Services)
	}
}

// TestSetReadsSignalsWhatTheyName: a change left quiet after the changes
// were taken for a translation is signalled when that translation's reads
// name it (the translation may have read its input before the change);
// reads of nil (after a failed translation) name everything.
func TestSetReadsSignalsWhatTheyName(t *testing.T) {
	s := watcher.NewStore()
	s.SetReads(readsOf([]string{"web"}, nil))
	s.Upsert(watcher.KubeSource, svcObject("default", "api"))
	s.TakeChanges() // a rebuild starts
	s.Upsert(watcher.KubeSource, svcObject("default", "new"))
	s.Upsert(watcher.KubeSource, svcObject("default", "other"))
	if drained(s) {
		t.Fatal("a Service not read signalled")
	}
	// The rebuild's Ingresses name "new" (just created).
	s.SetReads(readsOf([]string{"web", "new"}, nil))
	got, signalled := taken(s)
	if !signalled || !got.Kinds["Service"] {
		t.Errorf("SetReads naming a Service changed meanwhile: signalled %v, changes %v; want a Service change", signalled, got)
	}

	s.Upsert(watcher.KubeSource, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "any"}})
	if drained(s) {
		t.Fatal("a Secret not read signalled")
	}
	s.SetReads(nil)
	if got, signalled := taken(s); !signalled || !got.Kinds["Secret"] {
		t.Errorf("SetReads(nil) after a quiet Secret change: signalled %v, changes %v; want a Secret change", signalled, got)
	}
}

// TestStoreIsQuietForStatusAlone: rukou's own status writes (and any
// change of status alone) and an object delivered again at the same
// resource version (an informer's relist) change nothing the translation
// reads; a change of spec, labels or annotations does.
func TestStoreIsQuietForStatusAlone(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "shop", ResourceVersion: "1", Generation: 1, Annotations: map[string]string{"a": "1"}},
		Spec:       networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web"}}},
	}
	s := watcher.NewStore()
	s.Upsert(watcher.KubeSource, ing)
	s.TakeChanges()

	withStatus := ing.DeepCopy()
	withStatus.ResourceVersion = "2"
	withStatus.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}}
	s.Upsert(watcher.KubeSource, withStatus)
	if got, signalled := taken(s); signalled || len(got.Kinds) > 0 {
		t.Errorf("a status update: signalled %v, changes %v; want none", signalled, got)
	}
	if got := s.Input().Ingresses; len(got) != 1 || len(got[0].Status.LoadBalancer.Ingress) != 1 {
		t.Errorf("the input's Ingress lacks the status written: %v", got)
	}

	again := withStatus.DeepCopy()
	s.Upsert(watcher.KubeSource, again)
	if _, signalled := taken(s); signalled {
		t.Error("the same resource version again signalled a change")
	}

	svc := svcObject("default", "web")
	svc.ResourceVersion = "3"
	s.Upsert(watcher.KubeSource, svc)
	s.TakeChanges()
	lb := svc.DeepCopy()
	lb.ResourceVersion = "4"
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.11"}}
	s.Upsert(watcher.KubeSource, lb)
	if _, signalled := taken(s); signalled {
		t.Error("a Service's status update signalled a change")
	}

	for _, c := range []struct {
		name   string
		change func(*networkingv1.Ingress)
	}{
		{"spec", func(i *networkingv1.Ingress) { i.Generation++; i.Spec.DefaultBackend.Service.Name = "api" }},
		{"annotation", func(i *networkingv1.Ingress) { i.Annotations = map[string]string{"a": "2"} }},
		{"label", func(i *networkingv1.Ingress) { i.Labels = map[string]string{"team": "shop"} }},
	} {
		next := s.Input().Ingresses[0].DeepCopy()
		c.change(next)
		next.ResourceVersion += "0"
		s.Upsert(watcher.KubeSource, next)
		if got, signalled := taken(s); !signalled || !slices.Equal(keysOf(got.Kinds), []string{"Ingress"}) {
			t.Errorf("a change of %s: signalled %v, changes %v; want an Ingress change", c.name, signalled, got)
		}
	}
}

// TestStoreIsQuietForOtherControllersIngresses: an Ingress that the
// configuration served does not own, before nor after a change (another
// controller's, during a migration), changes nothing; one that becomes
// rukou's, or is rukou's, does.
func TestStoreIsQuietForOtherControllersIngresses(t *testing.T) {
	classed := func(name, class string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Spec: networkingv1.IngressSpec{IngressClassName: &class}}
	}
	reads := readsOf(nil, nil)
	reads.Owns = func(ing *networkingv1.Ingress) bool { return *ing.Spec.IngressClassName == "rukou" }
	s := watcher.NewStore()
	s.SetReads(reads)

	s.Upsert(watcher.KubeSource, classed("legacy", "nginx"))
	changed := classed("legacy", "nginx")
	changed.Annotations = map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}
	s.Upsert(watcher.KubeSource, changed)
	s.Delete(watcher.KubeSource, changed)
	if got, signalled := taken(s); signalled || len(got.Kinds) > 0 {
		t.Errorf("another controller's Ingress created, changed, deleted: signalled %v, changes %v; want none", signalled, got)
	}
	s.SetReads(reads)

	s.Upsert(watcher.KubeSource, classed("moving", "nginx"))
	s.Upsert(watcher.KubeSource, classed("moving", "rukou"))
	if got, signalled := taken(s); !signalled || !got.Kinds["Ingress"] {
		t.Errorf("an Ingress moved to rukou's class: signalled %v, changes %v; want an Ingress change", signalled, got)
	}
	s.SetReads(reads)
	s.Upsert(watcher.KubeSource, classed("moving", "nginx"))
	if got, signalled := taken(s); !signalled || !got.Kinds["Ingress"] {
		t.Errorf("an Ingress moved away from rukou's class: signalled %v, changes %v; want an Ingress change", signalled, got)
	}
}

func keysOf(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
