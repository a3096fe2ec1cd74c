package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// fakeRebuilder is a rebuilder whose translation and publishing are
// recorded and may be made to fail.
type fakeRebuilder struct {
	*rebuilder
	pending map[string]bool
	// calls are "translate", "endpoints" and "publish", in order.
	calls []string
	// prevs are the results updateEndpoints was given.
	prevs                                 []*translator.Result
	failTranslate, failEndpoints, failPub bool
}

func newFakeRebuilder() *fakeRebuilder {
	f := &fakeRebuilder{}
	f.rebuilder = &rebuilder{
		changes: func() watcher.Changes {
			c := f.pending
			f.pending = nil
			return watcher.Changes{Kinds: c}
		},
		translate: func(*translator.Result) (*translator.Result, error) {
			f.calls = append(f.calls, "translate")
			if f.failTranslate {
				return nil, errors.New("invalid")
			}
			return &translator.Result{}, nil
		},
		updateEndpoints: func(prev *translator.Result, _ watcher.Changes) (*translator.Result, error) {
			f.calls = append(f.calls, "endpoints")
			f.prevs = append(f.prevs, prev)
			if f.failEndpoints {
				return nil, errors.New("invalid")
			}
			return &translator.Result{}, nil
		},
		publish: func(*translator.Result) error {
			f.calls = append(f.calls, "publish")
			if f.failPub {
				return errors.New("snapshot inconsistent")
			}
			return nil
		},
		now:  time.Now,
		hold: func() watcher.Hold { return configHold },
	}
	return f
}

func TestRebuilderChoosesThePath(t *testing.T) {
	type step struct {
		changed                               []string
		failTranslate, failEndpoints, failPub bool
		// want is the calls of this rebuild.
		want string
	}
	endpoints := []string{"EndpointSlice"}
	cases := []struct {
		name  string
		steps []step
	}{
		{"first_rebuild_is_full_even_for_endpoints", []step{
			{changed: endpoints, want: "[translate publish]"},
		}},
		{"endpoints_alone_take_the_fast_path", []step{
			{changed: []string{"Ingress"}, want: "[translate publish]"},
			{changed: endpoints, want: "[endpoints publish]"},
			{changed: endpoints, want: "[endpoints publish]"},
		}},
		{"endpoints_with_another_kind_are_full", []step{
			{want: "[translate publish]"},
			{changed: []string{"EndpointSlice", "Service"}, want: "[translate publish]"},
		}},
		{"no_recorded_change_is_full", []step{
			{want: "[translate publish]"},
			{want: "[translate publish]"},
		}},
		{"failed_translation_publishes_nothing_and_next_is_full", []step{
			{want: "[translate publish]"},
			{changed: []string{"Ingress"}, failTranslate: true, want: "[translate]"},
			{changed: endpoints, want: "[translate publish]"},
			{changed: endpoints, want: "[endpoints publish]"},
		}},
		{"failed_endpoints_update_makes_next_full", []step{
			{want: "[translate publish]"},
			{changed: endpoints, failEndpoints: true, want: "[endpoints]"},
			{changed: endpoints, want: "[translate publish]"},
		}},
		{"failed_publish_makes_next_full", []step{
			{want: "[translate publish]"},
			{changed: endpoints, failPub: true, want: "[endpoints publish]"},
			{changed: endpoints, want: "[translate publish]"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRebuilder()
			var outcomes []rebuild
			f.done = func(r rebuild) { outcomes = append(outcomes, r) }
			var good *translator.Result // the last result published
			for i, s := range tc.steps {
				f.calls = nil
				f.pending = map[string]bool{}
				for _, k := range s.changed {
					f.pending[k] = true
				}
				f.failTranslate, f.failEndpoints, f.failPub = s.failTranslate, s.failEndpoints, s.failPub
				f.rebuild()
				if got := fmt.Sprint(f.calls); got != s.want {
					t.Errorf("step %d: calls %s, want %s", i, got, s.want)
				}
				out := outcomes[len(outcomes)-1]
				failed := s.failTranslate || s.failEndpoints || s.failPub
				if (out.err != nil) != failed || (out.res == nil) != failed {
					t.Errorf("step %d: outcome %+v, want failed=%v", i, out, failed)
				}
				if !failed {
					good = out.res
				}
				if f.last != good {
					t.Errorf("step %d: the last good result was not kept", i)
				}
			}
			for _, prev := range f.prevs {
				if prev == nil {
					t.Error("the fast path was given no previous result")
				}
			}
		})
	}
}

// TestRebuilderCoalescesBursts: a burst of changes makes one rebuild once
// the store has been quiet, and the kinds of the whole burst choose its path
// and how long it is held: up to 10 ms of quiet for endpoints alone, up to
// 100 ms once another change joins.
func TestRebuilderCoalescesBursts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := watcher.NewStore()
		f := newFakeRebuilder()
		f.changes = store.TakeChanges
		f.hold = holdFor(store)
		outcomes := make(chan rebuild, 10)
		f.done = func(r rebuild) { outcomes <- r }
		f.rebuild()
		<-outcomes

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go f.run(ctx, store.Changes())

		slice := func(i int) *discoveryv1.EndpointSlice {
			return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("web-%d", i)}}
		}
		// An endpoint change after a quiet spell goes the fast way at
		// once; a Service 5 ms later among a stream of endpoint changes,
		// 1 ms apart, makes one full rebuild: the quiet awaited grows
		// with each change, by configHold.First once the Service joined,
		// and the burst is soon held until 100 ms of quiet.
		store.Upsert(watcher.DirSource, slice(0))
		time.Sleep(5 * time.Millisecond)
		synctest.Wait()
		if r := <-outcomes; !r.endpointsOnly || r.err != nil {
			t.Errorf("a lone EndpointSlice: %+v, want the endpoints-only path", r)
		}
		store.Upsert(watcher.DirSource, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}})
		for i := 1; i <= int(configHold.Quiet/configHold.First); i++ {
			time.Sleep(time.Millisecond)
			store.Upsert(watcher.DirSource, slice(i))
		}
		time.Sleep(configHold.Quiet - time.Millisecond)
		synctest.Wait()
		if len(outcomes) != 0 {
			t.Fatalf("%d rebuilds before the store was quiet for %v", len(outcomes), configHold.Quiet)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := len(outcomes); n != 1 {
			t.Fatalf("%d rebuilds after a burst, want 1", n)
		}
		if r := <-outcomes; r.endpointsOnly || r.err != nil {
			t.Errorf("a burst with a Service: %+v, want a full rebuild", r)
		}

		// rebuiltAfter checks that the changes just made are one rebuild
		// by the endpoints-only path, d after the last of them, not before.
		rebuiltAfter := func(d time.Duration, what string) {
			t.Helper()
			time.Sleep(d - 100*time.Microsecond)
			synctest.Wait()
			if n := len(outcomes); n != 0 {
				t.Fatalf("%s: %d rebuilds before %v", what, n, d)
			}
			time.Sleep(100 * time.Microsecond)
			synctest.Wait()
			if n := len(outcomes); n != 1 {
				t.Fatalf("%s: %d rebuilds %v after it, want 1", what, n, d)
			}
			if r := <-outcomes; !r.endpointsOnly || r.err != nil {
				t.Errorf("%s: %+v, want the endpoints-only path", what, r)
			}
		}
		// Then endpoints alone, whose rebuild here takes cost: after that
		// quiet spell the first goes the fast way at once; one that comes
		// less than nine times cost after a rebuild (endpointsHold.Duty)
		// and within 10 ms of the last change goes on growing the quiet by
		// 1 ms (a pod after a pod); and after another quiet spell a burst
		// 0.4 ms apart makes two fast rebuilds, one at once and one 10 ms
		// after its last change.
		const cost = time.Millisecond
		f.publish = func(*translator.Result) error { time.Sleep(cost); return nil }
		store.Upsert(watcher.DirSource, slice(10))
		rebuiltAfter(cost, "a lone endpoint change")
		time.Sleep(4 * time.Millisecond)
		store.Upsert(watcher.DirSource, slice(11))
		rebuiltAfter(2*endpointsHold.First+cost, "an endpoint change 5 ms after a lone one")
		time.Sleep(2 * time.Millisecond)
		store.Upsert(watcher.DirSource, slice(12))
		rebuiltAfter(3*endpointsHold.First+cost, "the next, 5 ms later")
		time.Sleep(endpointsHold.Quiet)
		store.Upsert(watcher.DirSource, slice(20))
		rebuiltAfter(cost, "the first of 20 endpoint changes 0.4 ms apart")
		for i := range 19 {
			if i > 0 {
				time.Sleep(400 * time.Microsecond)
			}
			store.Upsert(watcher.DirSource, slice(21+i))
		}
		rebuiltAfter(endpointsHold.Quiet+cost, "the 19 others")
	})
}
