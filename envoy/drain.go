package envoy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DrainOptions shape Drain.
type DrainOptions struct {
	// MinWait is how long Envoy keeps serving after it fails its health
	// checks, even with no connection open: the time it takes the kubelet
	// to see the pod unready and kube-proxy to stop sending it new
	// connections. Stopping earlier refuses the connections still on
	// their way.
	MinWait time.Duration
	// Interval is the time between two looks at the open connections.
	Interval time.Duration
	// Progress, when set, receives a line per look.
	Progress io.Writer
}

// Drain takes Envoy out of service gracefully: it fails Envoy's health
// checks (so /ready answers 503 and the pod leaves the Service's endpoints),
// starts the graceful drain of every listener (HTTP/1.1 responses carry
// "Connection: close", HTTP/2 connections get GOAWAY), and waits until
// MinWait has passed and either no downstream connection is open or, twice
// in a row, no request is in flight.
//
// Envoy closes a connection that has no request in flight only when its idle
// timeout ends (minutes): during a drain, it tells a client to go away only
// in a response. Waiting for idle connections would hold every rollout for
// the whole grace period and gain nothing, since Envoy's exit closes them
// just as the idle timeout would, and clients retry a request on a
// keep-alive connection that closed before it answered.
//
// It returns an error that says what is still open when ctx ends first. An
// Envoy that goes away meanwhile has nothing left to drain.
func (a *Admin) Drain(ctx context.Context, o DrainOptions) error {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	start := time.Now()
	for _, path := range []string{"/healthcheck/fail", "/drain_listeners?graceful"} {
		if err := a.post(ctx, path); isGone(err) {
			progress(o.Progress, "envoy is not running: nothing to drain")
			return nil
		} else if err != nil {
			return err
		}
	}
	var last Load
	idle := 0 // consecutive looks without a request in flight
	for {
		l, err := a.Load(ctx)
		switch {
		case isGone(err):
			progress(o.Progress, "envoy has exited after %v", time.Since(start).Round(time.Millisecond))
			return nil
		case err != nil && ctx.Err() == nil:
			return err
		case err == nil:
			last = l
			elapsed := time.Since(start)
			progress(o.Progress, "%v: %d downstream connections open, %d requests in flight", elapsed.Round(time.Millisecond), l.Connections, l.Requests)
			if l.Requests == 0 {
				idle++
			} else {
				idle = 0
			}
			if elapsed >= o.MinWait && (l.Connections == 0 || idle >= 2) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("envoy admin %s: %d downstream connections and %d requests still open after %v: %w",
				a.Address, last.Connections, last.Requests, time.Since(start).Round(time.Millisecond), ctx.Err())
		case <-time.After(o.Interval):
		}
	}
}

// Load is what Envoy's listeners are busy with.
type Load struct {
	// Connections are the open client connections.
	Connections int64
	// Requests are the requests in flight on them.
	Requests int64
}

// Load returns the client connections and requests open on Envoy's
// listeners, the readiness listener's and the admin API's aside.
func (a *Admin) Load(ctx context.Context) (Load, error) {
	// Stats puts the filter into the query string as it is.
	stats, err := a.Stats(ctx, url.QueryEscape(`^(listener|http)\..*\.downstream_(cx|rq)_active$`))
	if err != nil {
		return Load{}, err
	}
	var l Load
	for name, v := range stats {
		kind, rest, _ := strings.Cut(name, ".")
		switch {
		case strings.HasPrefix(rest, "admin.") || strings.HasPrefix(rest, ReadyStatPrefix+"."):
		case strings.Contains(rest, ".worker_"):
			// Per-worker gauges repeat the listener's total.
		case kind == "listener" && strings.HasSuffix(rest, ".downstream_cx_active"):
			l.Connections += v
		case kind == "http" && strings.HasSuffix(rest, ".downstream_rq_active"):
			l.Requests += v
		}
	}
	return l, nil
}

func (a *Admin) post(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+a.Address+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("envoy admin POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("envoy admin POST %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// isGone reports whether err says that nothing listens at the admin address
// any more.
func isGone(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
