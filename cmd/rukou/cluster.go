package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/rukou/rukou/status"
	"github.com/rukou/rukou/watcher"
)

// clusterConfig is what rukou writes back to a cluster, and who may write.
type clusterConfig struct {
	publishService string // namespace/name
	publishAddress string // comma-separated
	leader         leaderConfig
}

func clusterFlags(fs *pflag.FlagSet, cfg *clusterConfig) {
	ns := ownNamespace()
	host, _ := os.Hostname()
	fs.StringVar(&cfg.publishService, "publish-service", "", "NAMESPACE/NAME of the Service that exposes Envoy; its addresses go into Ingress status")
	fs.StringVar(&cfg.publishAddress, "publish-status-address", "", "comma-separated addresses to put into Ingress status (overrides --publish-service)")
	fs.BoolVar(&cfg.leader.enabled, "leader-elect", false, "elect one replica to write Ingress status and Events (every replica serves xDS)")
	fs.StringVar(&cfg.leader.namespace, "leader-elect-namespace", ns, "namespace of the leader election Lease ($POD_NAMESPACE when set)")
	fs.StringVar(&cfg.leader.identity, "leader-elect-identity", host+"_"+rand.String(5), "this replica's name in the Lease")
	fs.DurationVar(&cfg.leader.lease, "leader-elect-lease-duration", 15*time.Second, "how long a lease lasts without renewal")
	fs.DurationVar(&cfg.leader.renew, "leader-elect-renew-deadline", 10*time.Second, "how long the leader retries renewing before it steps down")
	fs.DurationVar(&cfg.leader.retry, "leader-elect-retry-period", 2*time.Second, "how often replicas try to acquire or renew the lease")
}

func (c clusterConfig) addresses(client kubernetes.Interface) (status.Addresses, error) {
	if c.publishAddress != "" {
		return status.Static(strings.Split(c.publishAddress, ",")), nil
	}
	if c.publishService == "" {
		return nil, nil
	}
	ns, name, ok := strings.Cut(c.publishService, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("--publish-service %q: want NAMESPACE/NAME", c.publishService)
	}
	return status.NewPublishService(client, ns, name), nil
}

// runClusterWriter writes Ingress status and Events while this replica
// leads, after every translation and every 30 s.
func runClusterWriter(ctx context.Context, client kubernetes.Interface, cfg clusterConfig, store *watcher.Store, st *state, reg prometheus.Registerer, log *slog.Logger) error {
	addrs, err := cfg.addresses(client)
	if err != nil {
		return err
	}
	leading := prometheus.NewGauge(prometheus.GaugeOpts{Name: "rukou_leader", Help: "1 while this replica leads and writes Ingress status and Events."})
	writes := prometheus.NewCounter(prometheus.CounterOpts{Name: "rukou_status_writes_total", Help: "Ingress status updates written."})
	reg.MustRegister(leading, writes)

	if ps, ok := addrs.(*status.PublishService); ok {
		// A new node or load balancer address is written at once, not at
		// the next resync.
		ps.Changed = st.poke
		ps.Start(ctx)
	}
	var writer *status.Writer
	if addrs != nil {
		writer = &status.Writer{Client: client, Addresses: addrs, Log: log, Written: writes.Inc}
	} else {
		log.Info("neither --publish-service nor --publish-status-address is set: Ingress status is not written")
	}

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	led := make(chan struct{})
	go func() {
		defer close(led)
		lead(ctx, client, cfg.leader, log, func(ctx context.Context) {
			leading.Set(1)
			defer leading.Set(0)
			events := &status.Events{Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "rukou", Host: cfg.leader.identity})}
			status.Loop(ctx, st.kicks(), 30*time.Second, func(ctx context.Context) error {
				res := st.result()
				if res == nil {
					return nil
				}
				ingresses := store.Input("Ingress").Ingresses
				events.Record(ingresses, res.Ingresses, store.Input("ConfigMap").ConfigMaps, res.Diagnostics)
				if writer == nil {
					return nil
				}
				return writer.Sync(ctx, ingresses, res.Ingresses)
			}, log)
		})
	}()
	<-ctx.Done()
	// Wait for lead to release the Lease, so that the release reaches the
	// API server before the process exits; bounded, since the API server
	// may be gone.
	select {
	case <-led:
	case <-time.After(releaseWait):
		log.Warn("leader election did not stop in time; the other replica takes over once the lease expires", "waited", releaseWait)
	}
	return nil
}

// releaseWait bounds how long a stopping replica waits for its last status
// writes and the release of its Lease.
const releaseWait = 5 * time.Second

// ownNamespace is the namespace rukou runs in: $POD_NAMESPACE (set from the
// downward API in deploy/rukou.yaml), else rukou-system.
func ownNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return "rukou-system"
}
