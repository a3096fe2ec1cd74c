package watcher_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rukou/rukou/watcher"
)

// The Batch tests run in a synctest bubble: its clock is fake and moves only
// when every goroutine in the bubble is blocked, so the times below are
// exact whatever the machine's load, and waiting an hour costs nothing.

// patience bounds every wait for something that should happen soon (in the
// tests outside a bubble).
const patience = 5 * time.Second

// batchRun is Batch running in the background, with its calls recorded.
type batchRun struct {
	in    chan struct{}
	calls chan time.Time

	stop func()
}

// startBatch runs Batch on a signal channel like the Store's (one buffered
// signal). before, if not nil, runs at the start of each call. Call it
// inside a bubble.
func startBatch(t *testing.T, quiet, max time.Duration, before func()) *batchRun {
	t.Helper()
	return startBatchHeld(t, func() watcher.Hold { return watcher.Hold{Quiet: quiet, Max: max} }, before)
}

// startBatchHeld is startBatch with a hold that may change.
func startBatchHeld(t *testing.T, hold func() watcher.Hold, before func()) *batchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &batchRun{in: make(chan struct{}, 1), calls: make(chan time.Time, 1000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		watcher.Batch(ctx, r.in, hold, func() {
			if before != nil {
				before()
			}
			r.calls <- time.Now()
		})
	}()
	r.stop = func() {
		cancel()
		// In a bubble, a Batch that ignores its context deadlocks the
		// bubble, and synctest fails the test.
		<-done
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

// wait returns the time of the next call, failing the test when none comes
// however long the fake clock runs.
func (r *batchRun) wait(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-r.calls:
		return at
	case <-time.After(24 * time.Hour):
		t.Fatal("no call")
		return time.Time{}
	}
}

// none checks that no call comes within d.
func (r *batchRun) none(t *testing.T, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	synctest.Wait()
	if n := len(r.calls); n != 0 {
		t.Fatalf("%d unexpected calls", n)
	}
}

func TestBatchCallsOnceAfterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const quiet = 20 * time.Millisecond
		r := startBatch(t, quiet, time.Hour, nil)
		start := time.Now()
		r.signal()
		if at := r.wait(t); at.Sub(start) != quiet {
			t.Errorf("called %v after the signal, want after the quiet period of %v", at.Sub(start), quiet)
		}
		r.none(t, time.Hour)
	})
}

// TestBatchHoldChangesWithTheBurst: a burst that begins with a short hold
// and is joined by a change that asks a longer one is held for the longer,
// counted from the burst's start for its Max.
func TestBatchHoldChangesWithTheBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		short := watcher.Hold{Quiet: 10 * time.Millisecond, Max: 50 * time.Millisecond}
		long := watcher.Hold{Quiet: 100 * time.Millisecond, Max: 300 * time.Millisecond}
		// The batch reads the hold on its own goroutine.
		var hold atomic.Pointer[watcher.Hold]
		hold.Store(&short)
		r := startBatchHeld(t, func() watcher.Hold { return *hold.Load() }, nil)
		start := time.Now()
		r.signal()
		time.Sleep(5 * time.Millisecond)
		hold.Store(&long)
		r.signal()
		if at := r.wait(t); at.Sub(start) != 105*time.Millisecond {
			t.Errorf("called %v after the burst began, want 105ms (the long quiet after the second signal)", at.Sub(start))
		}

		start = time.Now()
		for range 40 { // a signal every 10 ms never leaves 100 ms of quiet
			r.signal()
			time.Sleep(10 * time.Millisecond)
		}
		if at := <-r.calls; at.Sub(start) != long.Max {
			t.Errorf("a continuous burst was called %v after it began, want %v", at.Sub(start), long.Max)
		}
	})
}

func TestBatchBurstGivesOneCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const quiet = 100 * time.Millisecond
		r := startBatch(t, quiet, time.Hour, nil)
		for range 50 {
			r.signal()
			time.Sleep(quiet / 2) // a gap shorter than the quiet period
		}
		last := time.Now().Add(-quiet / 2)
		if at := r.wait(t); at.Sub(last) != quiet {
			t.Errorf("called %v after the last signal, want %v", at.Sub(last), quiet)
		}
		r.none(t, time.Hour)
	})
}

func TestBatchSeparateBurstsGiveSeparateCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startBatch(t, 20*time.Millisecond, time.Hour, nil)
		for range 3 {
			r.signal()
			r.signal()
			r.wait(t)
		}
		r.none(t, time.Hour)
	})
}

func TestBatchMaxBoundsAContinuousStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Signals every 5ms never leave the 250ms of quiet, so every call
		// in the stream comes from the 50ms bound.
		const quiet, max = 250 * time.Millisecond, 50 * time.Millisecond
		r := startBatch(t, quiet, max, nil)
		start := time.Now()
		for time.Since(start) < 500*time.Millisecond {
			r.signal()
			time.Sleep(5 * time.Millisecond)
		}
		synctest.Wait()
		var calls []time.Time
		for len(r.calls) > 0 {
			calls = append(calls, <-r.calls)
		}
		// A burst begins with the first signal after a call, at most 5ms
		// after it, and is called max later: 9 or 10 calls in 500ms.
		if len(calls) < 9 || len(calls) > 10 {
			t.Fatalf("%d calls during 500ms of signals with a bound of %v, want 9 or 10", len(calls), max)
		}
		if first := calls[0].Sub(start); first != max {
			t.Errorf("first call %v after the stream began, want at the bound of %v", first, max)
		}
		for i := 1; i < len(calls); i++ {
			if gap := calls[i].Sub(calls[i-1]); gap < max || gap > max+5*time.Millisecond {
				t.Errorf("call %d came %v after the one before, want the bound of %v (and at most one signal's gap more)", i, gap, max)
			}
		}
	})
}

func TestBatchSignalDuringACallGivesAnotherCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
		r.none(t, time.Hour)
	})
}

func TestBatchReturnsWhenCancelled(t *testing.T) {
	t.Run("while_idle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := startBatch(t, time.Millisecond, time.Millisecond, nil)
			r.stop()
			if len(r.calls) != 0 {
				t.Error("called without a signal")
			}
		})
	})
	t.Run("during_a_burst_without_calling", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := startBatch(t, time.Hour, time.Hour, nil)
			r.signal()
			synctest.Wait() // Batch has taken the signal and waits for quiet
			if len(r.in) != 0 {
				t.Fatal("Batch did not take the signal")
			}
			r.stop()
			if len(r.calls) != 0 {
				t.Error("called for a burst cut short by cancellation")
			}
		})
	})
}

// TestBatchDutyActsAtOnceOnCheapCalls: with Duty, a signal that comes
// long enough after the last call ended (nine times its length, for a
// Duty of 0.1) is acted on at once; one that comes sooner is held as
// without Duty, the call at once counting as a lone signal's; a burst
// still makes one call Quiet after its last signal, besides the first.
func TestBatchDutyActsAtOnceOnCheapCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const took = time.Millisecond // each call's length
		h := watcher.Hold{Quiet: 10 * time.Millisecond, Max: 50 * time.Millisecond, First: time.Millisecond, Duty: 0.1}
		r := startBatchHeld(t, func() watcher.Hold { return h }, func() { time.Sleep(took) })
		start := time.Now()
		r.signal()
		if at := r.wait(t); at.Sub(start) != took {
			t.Errorf("a lone change was done %v after it came, want at once, %v", at.Sub(start), took)
		}
		time.Sleep(4 * time.Millisecond) // 4 ms after that call: less than 9 times its length
		start = time.Now()
		r.signal()
		if at := r.wait(t); at.Sub(start) != 2*h.First+took {
			t.Errorf("a change 4 ms after a call of 1 ms was done %v after it, want after twice First, %v", at.Sub(start), 2*h.First+took)
		}
		time.Sleep(9 * took)
		start = time.Now()
		r.signal()
		if at := r.wait(t); at.Sub(start) != took {
			t.Errorf("a change 9 ms after a call of 1 ms was done %v after it, want at once, %v", at.Sub(start), took)
		}

		time.Sleep(time.Second)
		start = time.Now()
		const gap = 400 * time.Microsecond
		for i := range 20 {
			if i > 0 {
				time.Sleep(gap)
			}
			r.signal()
		}
		if at := r.wait(t); at.Sub(start) != took {
			t.Errorf("the first of changes 0.4 ms apart was done %v after it came, want at once, %v", at.Sub(start), took)
		}
		if at, want := r.wait(t), 19*gap+h.Quiet+took; at.Sub(start) != want {
			t.Errorf("the 19 changes after it were done %v after the first, want once, %v (Quiet after the last)", at.Sub(start), want)
		}
		r.none(t, time.Hour)
	})
}

// TestBatchActsOnALoneChangeAfterFirst: after a quiet spell, a lone signal
// is acted on after First; each further signal adds First to the quiet
// awaited, up to Quiet, so that a burst is soon held for Quiet; a change
// that comes during a long call gets no First, and one during the short
// call of a lone change, or soon after it, goes on growing.
func TestBatchActsOnALoneChangeAfterFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := watcher.Hold{Quiet: 100 * time.Millisecond, Max: time.Second, First: 10 * time.Millisecond}
		inCall, release := make(chan struct{}), make(chan struct{})
		blocking := false
		r := startBatchHeld(t, func() watcher.Hold { return h }, func() {
			if blocking {
				blocking = false
				inCall <- struct{}{}
				<-release
			}
		})
		start := time.Now()
		r.signal()
		if at := r.wait(t); at.Sub(start) != h.First {
			t.Errorf("a lone change was acted on %v after it came, want First, %v", at.Sub(start), h.First)
		}

		time.Sleep(time.Second)
		start = time.Now()
		r.signal()
		time.Sleep(5 * time.Millisecond)
		r.signal()
		if at := r.wait(t); at.Sub(start) != 5*time.Millisecond+2*h.First {
			t.Errorf("two changes 5 ms apart were acted on %v after the first, want %v (twice First after the second)", at.Sub(start), 5*time.Millisecond+2*h.First)
		}

		time.Sleep(time.Second)
		start = time.Now()
		for range 30 { // every 15 ms: the first alone, then a burst held for Quiet
			r.signal()
			time.Sleep(15 * time.Millisecond)
		}
		if at := r.wait(t); at.Sub(start) != h.First {
			t.Errorf("the first of changes 15 ms apart was acted on %v after it came, want First, %v", at.Sub(start), h.First)
		}
		if at := r.wait(t); at.Sub(start) != 29*15*time.Millisecond+h.Quiet {
			t.Errorf("the 29 changes after it were acted on %v after the first, want once, %v (Quiet after the last)", at.Sub(start), 29*15*time.Millisecond+h.Quiet)
		}

		time.Sleep(time.Second)
		blocking = true
		r.signal()
		<-inCall
		time.Sleep(time.Second) // a long call
		r.signal()              // comes during it
		close(release)
		r.wait(t)
		start = time.Now()
		if at := r.wait(t); at.Sub(start) != h.Quiet {
			t.Errorf("a change that came during a long call was acted on %v after it, want Quiet, %v", at.Sub(start), h.Quiet)
		}

		// A change soon after a lone one, while its short call runs (an
		// Ingress just after its Service), goes on growing the quiet.
		time.Sleep(time.Second)
		release = make(chan struct{})
		blocking = true
		r.signal()
		<-inCall
		time.Sleep(10 * time.Millisecond)
		r.signal()
		start = time.Now()
		close(release)
		r.wait(t)
		if at := r.wait(t); at.Sub(start) != 2*h.First {
			t.Errorf("a change that came during a short call after a lone one was acted on %v after it, want twice First, %v", at.Sub(start), 2*h.First)
		}

		// A lone change soon after a lone one that was acted on (a new
		// Ingress after another, each served before the next) goes on
		// growing the quiet too, from where the first left it.
		time.Sleep(time.Second)
		r.signal()
		r.wait(t)
		time.Sleep(50 * time.Millisecond)
		start = time.Now()
		r.signal()
		if at := r.wait(t); at.Sub(start) != 2*h.First {
			t.Errorf("a change 50 ms after a lone one was acted on %v after it, want twice First, %v", at.Sub(start), 2*h.First)
		}
		r.none(t, time.Hour)
	})
}

// TestBatchFreshHoldsChangesOneAtATimeFirst: changes that come one at a
// time, each 30 ms after the call before ended (calls of 20 ms), are each
// held First with Fresh 0.5; without Fresh, each is held First longer than
// the one before. With Fresh, a change that comes sooner than the last
// call's length after it still goes on growing the quiet, and a burst of
// changes is still acted on once.
func TestBatchFreshHoldsChangesOneAtATimeFirst(t *testing.T) {
	for _, c := range []struct {
		fresh float64
		held  func(i int) time.Duration // the hold of the i-th change
	}{
		{0.5, func(int) time.Duration { return 2 * time.Millisecond }},
		{0, func(i int) time.Duration { return time.Duration(i+1) * 2 * time.Millisecond }},
	} {
		synctest.Test(t, func(t *testing.T) {
			const took = 20 * time.Millisecond
			h := watcher.Hold{Quiet: 100 * time.Millisecond, Max: time.Second, First: 2 * time.Millisecond, Fresh: c.fresh}
			r := startBatchHeld(t, func() watcher.Hold { return h }, func() { time.Sleep(took) })
			for i := range 10 {
				start := time.Now()
				r.signal()
				if at, want := r.wait(t), c.held(i)+took; at.Sub(start) != want {
					t.Errorf("Fresh %v: change %d, 30 ms after the call before, was done %v after it came, want %v", c.fresh, i, at.Sub(start), want)
				}
				time.Sleep(30 * time.Millisecond)
			}
			if c.fresh == 0 {
				return
			}

			// 10 ms after a call of 20 ms: the quiet grows.
			time.Sleep(time.Second)
			r.signal()
			r.wait(t)
			for i := range 3 {
				time.Sleep(10 * time.Millisecond)
				start := time.Now()
				r.signal()
				if at, want := r.wait(t), time.Duration(i+2)*h.First+took; at.Sub(start) != want {
					t.Errorf("a change 10 ms after a call of 20 ms was done %v after it came, want %v", at.Sub(start), want)
				}
			}

			// A burst of 50 changes 1 ms apart, long after the last call,
			// is acted on once, Quiet after its last change.
			time.Sleep(time.Second)
			start := time.Now()
			for i := range 50 {
				if i > 0 {
					time.Sleep(time.Millisecond)
				}
				r.signal()
			}
			if at, want := r.wait(t), 49*time.Millisecond+h.Quiet+took; at.Sub(start) != want {
				t.Errorf("a burst of 50 changes was done %v after its first, want once, %v", at.Sub(start), want)
			}
			r.none(t, time.Hour)
		})
	}
}

// TestBatchFreshAtItsThreshold: with Fresh 0.5, a change that comes as
// long after a call ended as the call took starts a burst afresh, held
// First; one that comes a millisecond sooner goes on from the burst before,
// its hold grown.
func TestBatchFreshAtItsThreshold(t *testing.T) {
	const took = 20 * time.Millisecond
	for _, c := range []struct {
		idle, held time.Duration
	}{
		{took, 2 * time.Millisecond},
		{took - time.Millisecond, 4 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			h := watcher.Hold{Quiet: 100 * time.Millisecond, Max: time.Second, First: 2 * time.Millisecond, Fresh: 0.5}
			r := startBatchHeld(t, func() watcher.Hold { return h }, func() { time.Sleep(took) })
			r.signal()
			r.wait(t)
			time.Sleep(time.Second)
			r.signal()
			r.wait(t)
			time.Sleep(c.idle)
			start := time.Now()
			r.signal()
			if at, want := r.wait(t), c.held+took; at.Sub(start) != want {
				t.Errorf("a change %v after a call of %v was done %v after it came, want %v", c.idle, took, at.Sub(start), want)
			}
		})
	}
}
