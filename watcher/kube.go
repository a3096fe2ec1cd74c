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
func (k *Kube) Start(ctx context.Context) error {
	log := k.Log
	if log == nil {
		log = slog.Default()
	}
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
	for _, inf := range []cache.SharedIndexInformer{
		factory.Networking().V1().Ingresses().Informer(),
		factory.Networking().V1().IngressClasses().Informer(),
		factory.Core().V1().Services().Informer(),
		factory.Discovery().V1().EndpointSlices().Informer(),
		secrets.Core().V1().Secrets().Informer(),
	} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("adding informer handler: %w", err)
		}
	}
	factory.Start(ctx.Done())
	secrets.Start(ctx.Done())

	start := time.Now()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache of %v did not sync", typ)
		}
	}
	for typ, ok := range secrets.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache of %v did not sync", typ)
		}
	}
	log.Info("informer caches synced", "elapsed", time.Since(start).Round(time.Millisecond), "namespace", k.Namespace)
	return nil
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
