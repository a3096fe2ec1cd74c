package main

import (
	"context"
	"log/slog"
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
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   cfg.lease,
			RenewDeadline:   cfg.renew,
			RetryPeriod:     cfg.retry,
			ReleaseOnCancel: true,
			Name:            leaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					log.Info("leading: writing Ingress status and Events", "identity", cfg.identity)
					work(ctx)
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
		le.Run(ctx)
	}
}

func metaFor(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}
