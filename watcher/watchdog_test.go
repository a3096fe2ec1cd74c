package watcher_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rukou/rukou/watcher"
)

// TestWatchdogRestartsOnlyAfterASustainedOutage: a blip of the API server
// (a probe or two failing) costs no relist; a 30 s outage restarts the
// watches once, soon after the API server answers again. The clock is
// synctest's, so the test waits on no real time.
func TestWatchdogRestartsOnlyAfterASustainedOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := fake.NewClientset(&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}})
		start := time.Now()
		outages := [][2]time.Duration{
			{10 * time.Second, 13 * time.Second}, // at most two probes fail
			{60 * time.Second, 90 * time.Second},
		}
		probe := func(context.Context) error {
			since := time.Since(start)
			for _, o := range outages {
				if since >= o[0] && since < o[1] {
					return errors.New("connection refused")
				}
			}
			return nil
		}
		k := &watcher.Kube{Client: client, Store: watcher.NewStore(), Log: slog.New(slog.DiscardHandler), Probe: probe}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := k.Start(ctx); err != nil {
			t.Fatal(err)
		}
		lists := func() int {
			n := 0
			for _, a := range client.Actions() {
				if a.GetVerb() == "list" && a.GetResource().Resource == "ingresses" {
					n++
				}
			}
			return n
		}

		time.Sleep(50 * time.Second)
		synctest.Wait()
		if n := lists(); n != 1 {
			t.Errorf("after a 3 s blip: %d lists of Ingresses, want 1 (no restart)", n)
		}
		// The watchdog sees the return within probeMax plus jitter (7.5 s).
		time.Sleep(90*time.Second + 8*time.Second - time.Since(start))
		synctest.Wait()
		if n := lists(); n != 2 {
			t.Errorf("8 s after a 30 s outage: %d lists of Ingresses, want 2 (one restart)", n)
		}
		time.Sleep(60 * time.Second)
		synctest.Wait()
		if n := lists(); n != 2 {
			t.Errorf("a minute later: %d lists of Ingresses, want still 2", n)
		}
		cancel()
	})
}
