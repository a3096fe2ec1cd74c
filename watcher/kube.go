package watcher

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
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
	Store     *Store
	Log       *slog.Logger
}

// Start starts the informers and returns once their caches have synced, so
// that the first translation sees everything rather than an empty cluster.
// The informers run until ctx is done.
//
// When the API server goes away, client-go's reflectors retry with a backoff
// that grows to 30 s and more, so after an outage changes could wait a
// minute. A watchdog asks the API server's /readyz every second, and after an
// outage restarts the watches as soon as it answers again. The store keeps
// the last objects meanwhile, so Envoy keeps its configuration.
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
	// Only TLS Secrets are watched: rukou has no use for the others, and
	// holding every Secret of a cluster would cost memory and trust.
	secrets := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, append(opts,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()
		}))...)

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
	var handled []cache.DoneChecker
	gen.informers = []cache.SharedIndexInformer{
		factory.Networking().V1().Ingresses().Informer(),
		factory.Networking().V1().IngressClasses().Informer(),
		factory.Core().V1().Services().Informer(),
		factory.Discovery().V1().EndpointSlices().Informer(),
		secrets.Core().V1().Secrets().Informer(),
	}
	for _, inf := range gen.informers {
		reg, err := inf.AddEventHandler(handler)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("adding informer handler: %w", err)
		}
		handled = append(handled, reg.HasSyncedChecker())
	}
	factory.Start(ctx.Done())
	secrets.Start(ctx.Done())

	start := time.Now()
	for _, f := range []informers.SharedInformerFactory{factory, secrets} {
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

// watchdog restarts the informers when the API server comes back from an
// outage.
func (k *Kube) watchdog(ctx context.Context, gen *generation) {
	defer func() { gen.cancel() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		outage := false
		for !k.reachable(ctx) {
			if !outage {
				k.Log.Warn("API server unreachable; serving the last configuration until it returns")
				outage = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		if !outage {
			continue
		}
		k.Log.Info("API server is back; restarting watches")
		gen.cancel()
		for {
			next, err := k.startInformers(ctx)
			if err == nil {
				gen = next
				break
			}
			if ctx.Err() != nil {
				return
			}
			k.Log.Error("restarting watches failed; retrying", "error", err)
			time.Sleep(time.Second)
		}
		// The new informers listed everything afresh: objects deleted
		// during the outage go from the store too.
		var objs []runtime.Object
		for _, inf := range gen.informers {
			for _, o := range inf.GetStore().List() {
				if ro, ok := toRuntime(o); ok {
					objs = append(objs, ro)
				}
			}
		}
		k.Store.Replace(KubeSource, objs)
	}
}

// reachable reports whether the API server answers /readyz.
func (k *Kube) reachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
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
