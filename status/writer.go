package status

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	frontend "github.com/rukou/rukou/translator/ingress"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/retry"
)

// FieldManager names rukou's writes in managedFields.
const FieldManager = "rukou"

// Writer keeps status.loadBalancer.ingress of owned Ingresses equal to the
// published addresses, and clears it on Ingresses that stop being rukou's.
type Writer struct {
	Client    kubernetes.Interface
	Addresses Addresses
	Log       *slog.Logger
	// Limiter spaces writes out; nil means 10 per second, bursts of 20.
	Limiter flowcontrol.RateLimiter
	// Written is called after each successful write (for metrics).
	Written func()
}

// Sync brings the status of every Ingress in view in line with the
// statuses of the last translation. It writes only what differs, and
// returns the first error after trying every Ingress.
func (w *Writer) Sync(ctx context.Context, ingresses []*networkingv1.Ingress, statuses []frontend.Status) error {
	if w.Limiter == nil {
		w.Limiter = flowcontrol.NewTokenBucketRateLimiter(10, 20)
	}
	addrs, err := w.Addresses.Addresses(ctx)
	if err != nil {
		return err
	}
	owned := make(map[string]bool, len(statuses))
	for _, s := range statuses {
		owned[s.Namespace+"/"+s.Name] = s.Owned
	}
	var firstErr error
	for _, ing := range ingresses {
		current := ing.Status.LoadBalancer.Ingress
		var want []networkingv1.IngressLoadBalancerIngress
		switch {
		case owned[ing.Namespace+"/"+ing.Name]:
			want = addrs
		case len(current) > 0 && sameAddresses(sortLB(append([]networkingv1.IngressLoadBalancerIngress(nil), current...)), addrs):
			// No longer ours, still showing our address: take it away.
			// An address some other controller wrote is left alone.
			want = nil
		default:
			continue
		}
		if sameAddresses(current, want) {
			continue
		}
		if err := w.write(ctx, ing, want); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func (w *Writer) write(ctx context.Context, ing *networkingv1.Ingress, addrs []networkingv1.IngressLoadBalancerIngress) error {
	if err := w.Limiter.Wait(ctx); err != nil {
		return err
	}
	ingresses := w.Client.NetworkingV1().Ingresses(ing.Namespace)
	current := ing
	unchanged := false
	// The cached Ingress may be older than the API server's (a change not
	// yet seen by the informer): on a conflict, read it again and retry.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if current != ing && sameAddresses(current.Status.LoadBalancer.Ingress, addrs) {
			unchanged = true // another writer got there first
			return nil
		}
		// Objects from the informer cache are shared: write a copy.
		updated := current.DeepCopy()
		updated.Status.LoadBalancer.Ingress = addrs
		_, err := ingresses.UpdateStatus(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			fresh, getErr := ingresses.Get(ctx, ing.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			current = fresh
		}
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil // deleted meanwhile
	case err != nil:
		return fmt.Errorf("ingress %s/%s: writing status: %w", ing.Namespace, ing.Name, err)
	case unchanged:
		return nil
	}
	w.Log.Info("ingress status updated", "namespace", ing.Namespace, "name", ing.Name, "addresses", describe(addrs))
	if w.Written != nil {
		w.Written()
	}
	return nil
}

func describe(addrs []networkingv1.IngressLoadBalancerIngress) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a.IP != "" {
			out = append(out, a.IP)
		} else {
			out = append(out, a.Hostname)
		}
	}
	return out
}

// Loop calls sync whenever kick fires, and at least every resync so that
// address changes (new nodes, a load balancer that got its address) and
// failed writes are picked up. It returns when ctx is done.
func Loop(ctx context.Context, kick <-chan struct{}, resync time.Duration, sync func(context.Context) error, log *slog.Logger) {
	t := time.NewTicker(resync)
	defer t.Stop()
	for {
		if err := sync(ctx); err != nil && ctx.Err() == nil {
			log.Error("status sync failed; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
	}
}
