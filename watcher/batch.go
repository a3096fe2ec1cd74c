package watcher

import (
	"context"
	"time"
)

// Hold is how long Batch holds a burst of signals before it acts: until
// Quiet has passed without a new signal, or Max since the burst began,
// whichever comes first.
type Hold struct {
	Quiet, Max time.Duration
}

// Batch calls fn once per burst of signals on in, held as hold says. hold
// is asked at the start of a burst and at each signal in it, so that a
// burst may be held for less (endpoint changes alone) or for longer (once
// another change joins it). It returns when ctx is done.
func Batch(ctx context.Context, in <-chan struct{}, hold func() Hold, fn func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-in:
		}
		if !holdBurst(ctx, in, hold) {
			return
		}
		fn()
	}
}

// holdBurst waits out one burst; false when ctx is done.
func holdBurst(ctx context.Context, in <-chan struct{}, hold func() Hold) bool {
	start := time.Now()
	h := hold()
	deadline := time.NewTimer(h.Max)
	defer deadline.Stop()
	idle := time.NewTimer(h.Quiet)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-in:
			if next := hold(); next.Max != h.Max {
				deadline.Reset(max(next.Max-time.Since(start), 0))
				h = next
			} else {
				h.Quiet = next.Quiet
			}
			idle.Reset(h.Quiet)
		case <-idle.C:
			return true
		case <-deadline.C:
			return true
		}
	}
}
