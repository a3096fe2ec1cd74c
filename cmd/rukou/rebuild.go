package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// Debounce of rukou serve: a burst of changes makes one rebuild, after
// 100 ms without another change, or 1 s after the burst began at most;
// after a quiet spell, the quiet awaited starts at 2 ms and grows by 2 ms
// with each change, so that a lone change is rebuilt some 2 ms after it
// (a new Ingress's Service and EndpointSlice, named by no Ingress yet,
// are no change: watcher.Store.SetReads) and a change during a short
// rebuild of such a burst goes on growing; a longer burst soon waits
// 100 ms, and a stream that goes on during a rebuild, or within its
// length after it, waits 100 ms at once. A change that comes when nothing
// is pending, at least the last rebuild's length after it ended, starts
// afresh at 2 ms (Fresh 0.5): Ingresses created one at a time, each once
// the one before is served, are each rebuilt some 2 ms after they come,
// not after a quiet that grew with every one before. So steady changes
// more than about two rebuilds apart are each rebuilt; rebuilds so started
// take at most half of the time.
// Endpoint changes alone, whose rebuild touches only the changed
// assignments, are rebuilt at once when the last rebuild ended at least
// nine times its length ago (after a rebuild of 0.3 ms at 1,000
// Ingresses, a change 3 ms later waits for nothing; with rebuilds of
// similar length, those made at once take at most a tenth of the time);
// a change that comes sooner is held for 1 ms after a quiet spell, the
// quiet growing by 1 ms with each change up to 10 ms, 50 ms at most: a pod
// that goes away stops getting requests at once, while changes that come
// faster than rebuilds run are rebuilt together.
var (
	configHold    = watcher.Hold{Quiet: 100 * time.Millisecond, Max: time.Second, First: 2 * time.Millisecond, Fresh: 0.5}
	endpointsHold = watcher.Hold{Quiet: 10 * time.Millisecond, Max: 50 * time.Millisecond, First: time.Millisecond, Duty: 0.1}
)

// rebuilder is serve's rebuild policy. It coalesces a burst of changes into
// one rebuild; it takes the endpoints-only fast path when nothing but
// EndpointSlices changed since a result that was served, and translates
// everything otherwise; and when a rebuild fails, Envoy keeps the last
// good result and the next rebuild is a full one.
type rebuilder struct {
	// changes takes the changes since it was last called.
	changes func() watcher.Changes
	// translate translates every watched object, after prev (the last
	// result published, nil before the first), whose resources it
	// reuses where nothing changed.
	translate func(prev *translator.Result) (*translator.Result, error)
	// updateEndpoints recomputes only the endpoints of prev that the
	// changes touch.
	updateEndpoints func(prev *translator.Result, changes watcher.Changes) (*translator.Result, error)
	// publish hands a result to the xDS server; an error means Envoy was
	// not given it.
	publish func(*translator.Result) error
	// reads, when set, is told after each rebuild what the result served
	// was built from (the Services and Secrets looked up, the Ingresses
	// owned); nil after one that failed, as changes are then missing from
	// what is served.
	reads func(*translator.Reads)
	// done, when set, hears the outcome of each rebuild.
	done func(rebuild)
	// now is the clock that times rebuilds.
	now func() time.Time
	// hold bounds the burst pending (watcher.Batch).
	hold func() watcher.Hold

	// last is the last result published, nil before the first.
	last *translator.Result
	// stale is set while changes are missing from last (a rebuild failed),
	// so that the next rebuild is full.
	stale bool
}

// rebuild is the outcome of one rebuild.
type rebuild struct {
	// res is the result published; nil when err is set.
	res *translator.Result
	// endpointsOnly says the fast path made res.
	endpointsOnly bool
	elapsed       time.Duration
	err           error
}

// newRebuilder returns the rebuilder of serve: it translates store with
// opts and publishes with publish.
func newRebuilder(store *watcher.Store, opts translator.Options, publish func(*translator.Result) error) *rebuilder {
	return &rebuilder{
		changes: store.TakeChanges,
		translate: func(prev *translator.Result) (*translator.Result, error) {
			return translator.TranslateAfter(prev, store.Input(), opts)
		},
		updateEndpoints: func(prev *translator.Result, changes watcher.Changes) (*translator.Result, error) {
			// Listeners, routes and clusters cannot have changed: only
			// the EndpointSlices of the Services changed are read, unless
			// the default backend's endpoints came or went, which changes
			// routes.
			in := translator.Input{EndpointSlices: store.EndpointSlicesOf(changes.Services)}
			res, err := translator.UpdateServiceEndpoints(prev, changes.Services, in)
			if errors.Is(err, translator.ErrNeedsTranslate) {
				return translator.TranslateAfter(prev, store.Input(), opts)
			}
			return res, err
		},
		publish: publish,
		reads:   store.SetReads,
		now:     time.Now,
		hold:    holdFor(store),
	}
}

// holdFor holds a burst of store's changes as endpointsHold while they are
// endpoint changes alone, and as configHold once any other change joins.
func holdFor(store *watcher.Store) func() watcher.Hold {
	return func() watcher.Hold {
		if store.PendingOnlyEndpoints() {
			return endpointsHold
		}
		return configHold
	}
}

// run rebuilds once per burst of signals on changed until ctx is done.
func (r *rebuilder) run(ctx context.Context, changed <-chan struct{}) {
	watcher.Batch(ctx, changed, r.hold, r.rebuild)
}

// rebuild takes the pending changes, makes a result and publishes it.
func (r *rebuilder) rebuild() {
	start := r.now()
	out := r.build(r.changes())
	out.elapsed = r.now().Sub(start)
	if r.done != nil {
		r.done(out)
	}
}

func (r *rebuilder) build(changes watcher.Changes) rebuild {
	out := r.attempt(changes)
	if r.reads != nil {
		if out.err != nil {
			r.reads(nil)
		} else {
			r.reads(&out.res.Model.Reads)
		}
	}
	return out
}

// attempt translates (or updates the endpoints of) the changes and
// publishes the result.
func (r *rebuilder) attempt(changes watcher.Changes) rebuild {
	out := rebuild{endpointsOnly: changes.OnlyEndpoints() && r.last != nil && !r.stale}
	var res *translator.Result
	var err error
	if out.endpointsOnly {
		res, err = r.updateEndpoints(r.last, changes)
	} else {
		res, err = r.translate(r.last)
	}
	if err != nil {
		r.stale = true
		out.err = fmt.Errorf("translation failed: %w", err)
		return out
	}
	if err := r.publish(res); err != nil {
		r.stale = true
		out.err = fmt.Errorf("snapshot not served: %w", err)
		return out
	}
	r.last, r.stale, out.res = res, false, res
	return out
}
