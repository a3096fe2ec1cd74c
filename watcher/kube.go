package watcher

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// KubeSource is the source name of objects read from the API server.
const KubeSource = "kube"

// Kube feeds the store from the API server with shared informers.
type Kube struct {
	Client kubernetes.Interface
	// Namespace limits the namespaced kinds to one namespace; empty is all.
	Namespace string
	// ConfigMapNamespaces are the namespaces whose ConfigMaps are watched:
	// those of the ConfigMaps rukou serve's flags name (--configmap and
	// the others), which the controller's settings may name in turn (as
	// proxy-set-headers does). Empty watches no ConfigMap.
	ConfigMapNamespaces []string
	// DefaultSSLCertificate and DefaultBackendService (namespace/name:
	// --default-ssl-certificate, --default-backend-service) are watched
	// by name, with the Service's EndpointSlices, where Namespace leaves
	// them out.
	DefaultSSLCertificate string
	DefaultBackendService string
	Store                 *Store
	Log                   *slog.Logger
	// Probe asks whether the API server answers; nil asks its /readyz.
	Probe func(context.Context) error
}

// Start starts the informers and returns once their caches have synced, so
// that the first translation sees everything rather than an empty cluster.
// The informers run until ctx is done.
//
// When the API server goes away, client-go's reflectors retry with a backoff
// that grows to 30 s, so after a long outage changes could wait that long.
// A watchdog asks the API server's /readyz every few seconds (jittered);
// only a sustained outage (several failed probes in a row, which the
// reflectors' own retries do not ride out quickly) makes it restart the
// watches, once the API server answers again. A blip costs no relist. The
// store keeps the last objects meanwhile, so Envoy keeps its configuration.
func (k *Kube) Start(ctx context.Context) error {
	if k.Log == nil {
		k.Log = slog.Default()
	}
	gen, err := k.startInformers(ctx)
	if err != nil {
		return err
	}
	go k.watchdog(ctx, gen)
	return nil
}

// generation is one set of running informers.
type generation struct {
	cancel    context.CancelFunc
	informers []cache.SharedIndexInformer
}

func (k *Kube) startInformers(parent context.Context) (*generation, error) {
	ctx, cancel := context.WithCancel(parent)
	gen := &generation{cancel: cancel}
	opts := []informers.SharedInformerOption{informers.WithTransform(stripObject)}
	if k.Namespace != "" {
		opts = append(opts, informers.WithNamespace(k.Namespace))
	}
	factory := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, opts...)
	// Only TLS and Opaque Secrets are watched (certificates; basic
	// authentication's users and CA bundles, which `kubectl create secret
	// generic` makes): rukou has no use for the others (service account
	// tokens, registry credentials), and holding every Secret of a
	// cluster would cost memory and trust.
	secretsOfType := func(typ corev1.SecretType) informers.SharedInformerFactory {
		return informers.NewSharedInformerFactoryWithOptions(k.Client, 0, append(opts,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("type", string(typ)).String()
			}))...)
	}
	secrets, opaque := secretsOfType(corev1.SecretTypeTLS), secretsOfType(corev1.SecretTypeOpaque)

	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { k.upsert(obj) },
		UpdateFunc: func(_, obj any) { k.upsert(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			k.delete(obj)
		},
	}
	gen.informers = []cache.SharedIndexInformer{
		factory.Networking().V1().Ingresses().Informer(),
		factory.Networking().V1().IngressClasses().Informer(),
		factory.Core().V1().Services().Informer(),
		factory.Discovery().V1().EndpointSlices().Informer(),
		secrets.Core().V1().Secrets().Informer(),
		opaque.Core().V1().Secrets().Informer(),
	}
	factories := []informers.SharedInformerFactory{factory, secrets, opaque}
	for _, ns := range k.ConfigMapNamespaces {
		cms := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, informers.WithTransform(stripObject), informers.WithNamespace(ns))
		gen.informers = append(gen.informers, cms.Core().V1().ConfigMaps().Informer())
		factories = append(factories, cms)
	}
	named, namedInformers := k.namedInformers()
	gen.informers = append(gen.informers, namedInformers...)
	factories = append(factories, named...)
	var handled []cache.DoneChecker
	for _, inf := range gen.informers {
		reg, err := inf.AddEventHandler(handler)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("adding informer handler: %w", err)
		}
		handled = append(handled, reg.HasSyncedChecker())
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}

	start := time.Now()
	for _, f := range factories {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				cancel()
				return nil, fmt.Errorf("cache of %v did not sync", typ)
			}
		}
	}
	// A synced cache does not mean that the handlers, which run on their
	// own goroutines, have put every object in the store yet.
	if !cache.WaitFor(ctx, "", handled...) {
		cancel()
		return nil, fmt.Errorf("informer handlers did not sync: %w", context.Cause(ctx))
	}
	k.Log.Info("informer caches synced", "elapsed", time.Since(start).Round(time.Millisecond), "namespace", k.Namespace)
	return gen, nil
}

// namedInformers watches the Secret of --default-ssl-certificate and the
// Service of --default-backend-service (with its EndpointSlices) when
// Namespace leaves them out: each by name in its own namespace (a field
// selector on metadata.name, which RBAC's resourceNames allows; the
// EndpointSlices by their Service's label), never that whole namespace.
func (k *Kube) namedInformers() ([]informers.SharedInformerFactory, []cache.SharedIndexInformer) {
	var factories []informers.SharedInformerFactory
	var infs []cache.SharedIndexInformer
	add := func(ref string, selector func(name string) (field, label string), informer func(informers.SharedInformerFactory) cache.SharedIndexInformer) {
		ns, name, ok := strings.Cut(ref, "/")
		if !ok || k.Namespace == "" || k.Namespace == ns {
			return
		}
		field, label := selector(name)
		f := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, informers.WithTransform(stripObject),
			informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector, o.LabelSelector = field, label }))
		factories, infs = append(factories, f), append(infs, informer(f))
	}
	byName := func(name string) (string, string) {
		return fields.OneTermEqualSelector("metadata.name", name).String(), ""
	}
	byService := func(name string) (string, string) { return "", discoveryv1.LabelServiceName + "=" + name }
	add(k.DefaultSSLCertificate, byName, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Secrets().Informer()
	})
	add(k.DefaultBackendService, byName, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Services().Informer()
	})
	add(k.DefaultBackendService, byService, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Discovery().V1().EndpointSlices().Informer()
	})
	return factories, infs
}

// Watchdog timing: healthy, a probe every probeEvery; outageAfter failed
// probes in a row make an outage; during one, probes back off from
// probeEvery to probeMax, so that the API server's return is seen within
// probeMax. Every wait is jittered (up to +50%) and ends with ctx.
const (
	probeEvery   = 2 * time.Second
	probeMax     = 5 * time.Second
	probeTimeout = 2 * time.Second
	outageAfter  = 3
)

// watchdog restarts the informers when the API server comes back from a
// sustained outage.
func (k *Kube) watchdog(ctx context.Context, gen *generation) {
	defer func() { gen.cancel() }()
	for {
		if !k.awaitOutage(ctx) {
			return
		}
		k.Log.Warn("API server unreachable; serving the last configuration until it returns", "failedProbes", outageAfter)
		if !k.awaitReturn(ctx) {
			return
		}
		k.Log.Info("API server is back; restarting watches")
		gen.cancel()
		next, ok := k.restart(ctx)
		if !ok {
			return
		}
		gen = next
	}
}

// awaitOutage probes until outageAfter probes in a row have failed (true)
// or ctx is done (false).
func (k *Kube) awaitOutage(ctx context.Context) bool {
	failed := 0
	for failed < outageAfter {
		if !sleep(ctx, probeEvery) {
			return false
		}
		if k.reachable(ctx) {
			failed = 0
		} else {
			failed++
		}
	}
	return true
}

// awaitReturn probes, backing off, until the API server answers (true) or
// ctx is done (false).
func (k *Kube) awaitReturn(ctx context.Context) bool {
	wait := probeEvery
	for !k.reachable(ctx) {
		if !sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, probeMax)
	}
	return true
}

// restart starts a new generation of informers, retrying with backoff
// until it syncs; ok is false when ctx ended first.
func (k *Kube) restart(ctx context.Context) (gen *generation, ok bool) {
	wait := probeEvery
	for {
		next, err := k.startInformers(ctx)
		if err == nil {
			gen = next
			break
		}
		if ctx.Err() != nil {
			return nil, false
		}
		k.Log.Error("restarting watches failed; retrying", "error", err, "retryIn", wait)
		if !sleep(ctx, wait) {
			return nil, false
		}
		wait = min(2*wait, probeMax)
	}
	// The new informers listed everything afresh: objects deleted during
	// the outage go from the store too.
	var objs []runtime.Object
	for _, inf := range gen.informers {
		for _, o := range inf.GetStore().List() {
			if ro, ok := toRuntime(o); ok {
				objs = append(objs, ro)
			}
		}
	}
	k.Store.Replace(KubeSource, objs)
	return gen, true
}

// sleep waits d, jittered up to +50%, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(wait.Jitter(d, 0.5))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// reachable reports whether the API server answers.
func (k *Kube) reachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if k.Probe != nil {
		return k.Probe(ctx) == nil
	}
	return k.Client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error() == nil
}

func (k *Kube) upsert(obj any) {
	if ro, ok := toRuntime(obj); ok {
		k.Store.Upsert(KubeSource, ro)
	}
}

func (k *Kube) delete(obj any) {
	if ro, ok := toRuntime(obj); ok {
		k.Store.Delete(KubeSource, ro)
	}
}

func toRuntime(obj any) (runtime.Object, bool) {
	ro, ok := obj.(runtime.Object)
	return ro, ok
}

// stripObject drops what translation never reads before an object enters the
// informer cache: managed fields and the last-applied annotation are often
// larger than the object itself.
func stripObject(obj any) (any, error) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tomb, nil
	}
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a != nil {
			delete(a, corev1.LastAppliedConfigAnnotation)
		}
	}
	return obj, nil
}
