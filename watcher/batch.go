package watcher

import (
	"context"
	"time"
)

// Hold is how long Batch holds a burst of signals before it acts: until
// Quiet has passed without a new signal, or Max since the burst began,
// whichever comes first.
//
// First, when not zero, is the quiet awaited after the first signal that
// follows a quiet spell (no signal for Quiet), and the quiet then grows by
// First with each signal, up to Quiet: a lone change, such as one new
// Ingress with its Service and EndpointSlice, is acted on within a few
// First, while a burst soon waits for Quiet.
//
// Duty, when not zero (and First is not), acts at once on a signal that
// comes when nothing is pending, if the time since the last call ended is
// at least that call's length times (1/Duty - 1): with calls of similar
// length, those made at once take at most Duty of the time (the calls of
// held bursts come on top, and a call much longer than the one before
// is not foreseen). A signal that comes sooner is held as the rules above
// say, the call acted on at once counting as a lone signal's (growth
// carried from before it is dropped). Signals further apart than that are
// each acted on: for cheap calls (the endpoints of one Service) that are
// not to wait for company unless it comes faster than they run.
//
// Fresh, when not zero (and First is not), starts a burst afresh, held
// First, when its first signal comes when nothing is pending and at least
// the last call's length times (1/Fresh - 1) after that call ended, even
// within Quiet of the burst before: changes that come one at a time, each
// well after the last was acted on (Ingresses created one by one, each once
// the one before is served), are each held First, instead of a quiet that
// grows with every one of them. Signals that come sooner, or while a call
// runs, go on growing the quiet as before, so that a dense stream still
// soon waits for Quiet; but a steady stream whose signals are further apart
// than that is acted on once per signal. With calls of similar length, the
// calls of bursts started afresh take at most Fresh of the time.
type Hold struct {
	Quiet, Max, First time.Duration
	Duty, Fresh       float64
}

// leads reports whether h acts at once on a signal that comes idle after
// the end of a call that took took.
func (h Hold) leads(idle, took time.Duration) bool { return withinShare(h.Duty, idle, took) }

// fresh reports whether h starts a burst afresh on a signal that comes
// idle after the end of a call that took took.
func (h Hold) fresh(idle, took time.Duration) bool {
	return h.First != 0 && withinShare(h.Fresh, idle, took)
}

// withinShare reports whether a call of length took, made after idle,
// keeps calls at or under share of the time: idle >= took*(1/share - 1).
// A share of zero is never kept under.
func withinShare(share float64, idle, took time.Duration) bool {
	return share > 0 && float64(idle) >= float64(took)*(1/share-1)
}

// Batch calls fn once per burst of signals on in, held as hold says. hold
// is asked at the start of a burst and at each signal in it, so that a
// burst may be held for less (endpoint changes alone) or for longer (once
// another change joins it). It returns when ctx is done.
func Batch(ctx context.Context, in <-chan struct{}, hold func() Hold, fn func()) {
	var last time.Time // of the last signal taken
	// pending is set when a signal came while fn ran: the burst goes on,
	// with no quiet spell before it.
	pending := false
	// grown is how many signals the last burst took while its quiet grew
	// by First: a burst that goes on during a short fn, or soon after it,
	// goes on growing, so that a change that came as fn ran or just after
	// (an Ingress just after its Service) is held a few First more, not
	// Quiet.
	grown := 0
	// ended and took are when the last call of fn ended and how long it
	// ran, for Hold.Duty.
	var ended time.Time
	var took time.Duration
	for {
		// afresh says the burst starts as after a quiet spell: held
		// First, its quiet growing from there.
		afresh := false
		if !pending {
			select {
			case <-ctx.Done():
				return
			case <-in:
			}
			// After a quiet spell the burst starts afresh; a signal
			// within Quiet of a burst that grew goes on growing from it
			// (a change soon after another), and one after a burst held
			// for Quiet is held for Quiet (grown is zero), unless
			// Hold.Fresh starts either afresh below.
			if afresh = time.Since(last) >= hold().Quiet; afresh {
				grown = 0
			}
		}
		if h := hold(); !pending && h.First != 0 && h.leads(time.Since(ended), took) {
			// select picks at random between a signal and ctx done
			// together: no call once ctx is done.
			if ctx.Err() != nil {
				return
			}
			last, grown = time.Now(), 1
		} else {
			if !pending && h.fresh(time.Since(ended), took) {
				afresh, grown = true, 0
			}
			var ok bool
			if last, grown, ok = holdBurst(ctx, in, hold, afresh, grown); !ok {
				return
			}
		}
		start := time.Now()
		fn()
		ended = time.Now()
		took = ended.Sub(start)
		select {
		case <-in:
			pending = true
			if time.Since(last) >= hold().Quiet {
				// After a long fn, the signals are a stream: Quiet.
				grown = 0
			}
		default:
			pending = false
		}
	}
}

// holdBurst waits out one burst, which starts afresh (after a spell of
// quiet, or as Hold.Fresh says) or goes on from one that had grown
// signals; it returns the time of the burst's last signal, how many
// signals it has grown by (zero when its quiet did not grow) and false
// when ctx is done.
func holdBurst(ctx context.Context, in <-chan struct{}, hold func() Hold, afresh bool, grown int) (time.Time, int, bool) {
	start := time.Now()
	last := start
	h := hold()
	deadline := time.NewTimer(h.Max)
	defer deadline.Stop()
	// grow is the quiet after n signals.
	grow := func(int) time.Duration { return h.Quiet }
	growing := h.First != 0 && (afresh || grown > 0)
	if growing {
		grow = func(n int) time.Duration { return min(h.Quiet, time.Duration(n)*h.First) }
	}
	n := grown + 1
	taken := func() int {
		if growing {
			return n
		}
		return 0
	}
	idle := time.NewTimer(grow(n))
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return last, 0, false
		case <-in:
			last = time.Now()
			if next := hold(); next.Max != h.Max {
				deadline.Reset(max(next.Max-time.Since(start), 0))
				h = next
			} else {
				h.Quiet = next.Quiet
			}
			n++
			idle.Reset(grow(n))
		case <-idle.C:
			return last, taken(), true
		case <-deadline.C:
			return last, taken(), true
		}
	}
}
