package watcher_test

import (
	"context"
	"testing"
	"time"

	"github.com/rukou/rukou/watcher"
)

// The timings below are chosen so that a loaded machine makes the tests
// slower, never wrong: timers never fire early, so lower bounds are exact,
// and upper bounds are waits of seconds for what should take milliseconds.

// patience bounds every wait for something that should happen soon.
const patience = 5 * time.Second

// batchRun is Batch running in the background, with its calls recorded.
type batchRun struct {
	in    chan struct{}
	calls chan time.Time

	stop func()
}

// startBatch runs Batch on a signal channel like the Store's (one buffered
// signal). before, if not nil, runs at the start of each call.
func startBatch(t *testing.T, quiet, max time.Duration, before func()) *batchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &batchRun{in: make(chan struct{}, 1), calls: make(chan time.Time, 1000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		watcher.Batch(ctx, r.in, quiet, max, func() {
			if before != nil {
				before()
			}
			r.calls <- time.Now()
		})
	}()
	r.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			t.Fatal("Batch did not return after its context was cancelled")
		}
	}
	t.Cleanup(r.stop)
	return r
}

// signal sends a change signal the way Store does: it never blocks.
func (r *batchRun) signal() {
	select {
	case r.in <- struct{}{}:
	default:
	}
}

// wait returns the time of the next call, failing the test when none comes.
func (r *batchRun) wait(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-r.calls:
		return at
	case <-time.After(patience):
		t.Fatal("no call")
		return time.Time{}
	}
}

// none checks that no call comes within d.
func (r *batchRun) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.calls:
		t.Fatal("unexpected call")
	case <-time.After(d):
	}
}

func TestBatchCallsOnceAfterQuiet(t *testing.T) {
	const quiet = 20 * time.Millisecond
	r := startBatch(t, quiet, time.Hour, nil)
	start := time.Now()
	r.signal()
	if at := r.wait(t); at.Sub(start) < quiet {
		t.Errorf("called %v after the signal, before the quiet period of %v", at.Sub(start), quiet)
	}
	r.none(t, 5*quiet)
}

func TestBatchBurstGivesOneCall(t *testing.T) {
	// The quiet period is long next to the gaps between signals, so that
	// a descheduled test goroutine does not split the burst.
	const quiet = 100 * time.Millisecond
	r := startBatch(t, quiet, time.Hour, nil)
	for range 50 {
		r.signal()
		time.Sleep(time.Millisecond)
	}
	r.wait(t)
	r.none(t, 2*quiet)
}

func TestBatchSeparateBurstsGiveSeparateCalls(t *testing.T) {
	r := startBatch(t, 20*time.Millisecond, time.Hour, nil)
	for range 3 {
		r.signal()
		r.signal()
		r.wait(t)
	}
	r.none(t, 60*time.Millisecond)
}

func TestBatchMaxBoundsAContinuousStream(t *testing.T) {
	// Signals every 5ms never leave the 250ms of quiet, so every call in
	// the stream comes from the 50ms bound: about ten in half a second.
	const quiet, max = 250 * time.Millisecond, 50 * time.Millisecond
	r := startBatch(t, quiet, max, nil)
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Since(start) < 500*time.Millisecond {
		r.signal()
		<-tick.C
	}
	var calls []time.Time
	for len(r.calls) > 0 {
		calls = append(calls, <-r.calls)
	}
	if len(calls) < 3 {
		t.Fatalf("%d calls during 500ms of signals with a bound of %v, want several", len(calls), max)
	}
	if first := calls[0].Sub(start); first < max {
		t.Errorf("first call %v after the stream began, before the bound of %v", first, max)
	}
}

func TestBatchSignalDuringACallGivesAnotherCall(t *testing.T) {
	inCall, release := make(chan struct{}), make(chan struct{})
	first := true
	r := startBatch(t, 10*time.Millisecond, time.Hour, func() {
		if first {
			first = false
			close(inCall)
			<-release
		}
	})
	r.signal()
	<-inCall
	r.signal() // arrives while the first call runs
	close(release)
	r.wait(t)
	r.wait(t)
}

func TestBatchReturnsWhenCancelled(t *testing.T) {
	t.Run("while_idle", func(t *testing.T) {
		r := startBatch(t, time.Millisecond, time.Millisecond, nil)
		r.stop()
		if len(r.calls) != 0 {
			t.Error("called without a signal")
		}
	})
	t.Run("during_a_burst_without_calling", func(t *testing.T) {
		r := startBatch(t, time.Hour, time.Hour, nil)
		r.signal()
		time.Sleep(10 * time.Millisecond) // let Batch take the signal
		r.stop()
		if len(r.calls) != 0 {
			t.Error("called for a burst cut short by cancellation")
		}
	})
}
