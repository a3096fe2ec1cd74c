package e2e

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// TestLeaderReleasesLeaseOnStop: a leader stopped with SIGTERM (a rollout,
// a drained node) releases its Lease before it exits, so the other replica
// writes status again at once instead of after the lease duration.
func TestLeaderReleasesLeaseOnStop(t *testing.T) {
	cluster := harness.StartCluster(t)
	k := newKube(t, cluster)
	k.namespace("rukou-system")
	k.ingressClass("rukou")
	k.service("default", "web", "10.213.0.2")
	k.ingress("default", "first", "rukou", "first.example", "web")
	// The lease lasts 15 s (the default): a handover that waited for
	// it to expire would be plain to see.
	const leaseDuration = 15 * time.Second
	start := func(id string) *harness.Rukou {
		return harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--publish-status-address", "192.0.2.10",
			"--leader-elect", "--leader-elect-namespace", "rukou-system", "--leader-elect-identity", id,
			"--leader-elect-lease-duration", leaseDuration.String(), "--leader-elect-renew-deadline", "10s", "--leader-elect-retry-period", "500ms")
	}
	replicas := map[string]*harness.Rukou{"replica-a": start("replica-a"), "replica-b": start("replica-b")}
	k.expectStatus("default", "first", "192.0.2.10")

	holder := func() (string, error) {
		lease, err := k.c.CoordinationV1().Leases("rukou-system").Get(k.cx, "rukou-leader", metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if lease.Spec.HolderIdentity == nil {
			return "", nil
		}
		return *lease.Spec.HolderIdentity, nil
	}
	var leader string
	harness.Eventually(t, 20*time.Second, "a replica holds the Lease and leads", func() error {
		h, err := holder()
		if err != nil {
			return err
		}
		if r, ok := replicas[h]; !ok || metric(t, r, "rukou_leader") != 1 {
			return fmt.Errorf("Lease held by %q, which does not report leading", h)
		}
		leader = h
		return nil
	})
	follower := "replica-a"
	if leader == follower {
		follower = "replica-b"
	}

	t.Logf("stopping the leader %s gracefully (SIGTERM)", leader)
	stopped := time.Now()
	replicas[leader].Stop(10 * time.Second)
	exited := time.Since(stopped)
	h, err := holder()
	if err != nil {
		t.Fatal(err)
	}
	if h == leader {
		t.Fatalf("%s exited (%v after SIGTERM) still holding the Lease: it was not released\n%s", leader, exited.Round(time.Millisecond), replicas[leader].Log())
	}
	t.Logf("%s exited %v after SIGTERM; the Lease is held by %q", leader, exited.Round(time.Millisecond), h)
	if exited > 2*time.Second {
		t.Errorf("the leader took %v to stop; want the release within about a second", exited.Round(time.Millisecond))
	}

	// The follower retries every 500 ms: it holds the Lease well within the
	// lease duration, and writes status again.
	awaitLeader(t, replicas[follower], follower, leaseDuration/3)
	t.Logf("%s leads %v after the SIGTERM", follower, time.Since(stopped).Round(10*time.Millisecond))
	k.ingress("default", "second", "rukou", "second.example", "web")
	k.expectStatus("default", "second", "192.0.2.10")
}
