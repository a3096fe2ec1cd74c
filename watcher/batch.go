package watcher

import (
	"context"
	"time"
)

// Batch calls fn once per burst of signals on in: when quiet has passed
// without a new signal, or when max has passed since the burst began,
// whichever comes first. It returns when ctx is done.
func Batch(ctx context.Context, in <-chan struct{}, quiet, max time.Duration, fn func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-in:
		}
		deadline := time.NewTimer(max)
		idle := time.NewTimer(quiet)
	burst:
		for {
			select {
			case <-ctx.Done():
				deadline.Stop()
				idle.Stop()
				return
			case <-in:
				idle.Reset(quiet)
			case <-idle.C:
				break burst
			case <-deadline.C:
				break burst
			}
		}
		deadline.Stop()
		idle.Stop()
		fn()
	}
}
