package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leaseName is the coordination.k8s.io Lease the replicas compete for.
const leaseName = "rukou-leader"

type leaderConfig struct {
	enabled             bool
	namespace, identity string
	lease, renew, retry time.Duration
}

// lead runs work while this replica leads, until ctx is done. Without leader
// election the replica always leads. Losing the lease (the API server gone
// too long, say) cancels work and rejoins the election: the replica keeps
// serving xDS throughout, it only stops writing to the cluster.
//
// When ctx ends, lead returns once work has returned and the Lease has been
// released (ReleaseOnCancel), so that the other replica takes over at once
// rather than after the lease duration.
func lead(ctx context.Context, client kubernetes.Interface, cfg leaderConfig, log *slog.Logger, work func(context.Context)) {
	if !cfg.enabled {
		work(ctx)
		return
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metaFor(cfg.namespace, leaseName),
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.identity},
	}
	// The elector runs on a context of its own that ends only after work
	// has returned: ReleaseOnCancel hands the Lease over as soon as that
	// context ends, and no write may still be in flight then.
	elect, stopElection := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElection()
	var mu sync.Mutex
	working := closedChan()
	go func() {
		<-ctx.Done()
		mu.Lock()
		w := working
		mu.Unlock()
		<-w
		stopElection()
	}()
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   cfg.lease,
			RenewDeadline:   cfg.renew,
			RetryPeriod:     cfg.retry,
			ReleaseOnCancel: true,
			Name:            leaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(leading context.Context) {
					mu.Lock()
					if ctx.Err() != nil {
						mu.Unlock()
						return // shutting down: release without writing
					}
					done := make(chan struct{})
					working = done
					mu.Unlock()
					defer close(done)
					// work ends when the lease is lost or when rukou stops.
					wctx, cancel := context.WithCancel(leading)
					defer cancel()
					defer context.AfterFunc(ctx, cancel)()
					log.Info("leading: writing Ingress status and Events", "identity", cfg.identity)
					work(wctx)
				},
				OnStoppedLeading: func() {
					log.Info("not leading", "identity", cfg.identity)
				},
				OnNewLeader: func(id string) {
					if id != cfg.identity {
						log.Info("another replica leads", "leader", id)
					}
				},
			},
		})
		if err != nil {
			log.Error("leader election is misconfigured", "error", err)
			return
		}
		le.Run(elect)
	}
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func metaFor(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}
