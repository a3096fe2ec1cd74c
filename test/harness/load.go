package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/examples/backend/echo"
)

// LoadConfig says what a load generator sends: GET http://127.0.0.1:Port/Path
// with Host, from Workers concurrent clients, until MaxRequests have been
// sent or MaxDuration has passed, whichever comes first.
type LoadConfig struct {
	Port        int
	Host, Path  string
	Workers     int
	MaxRequests int
	MaxDuration time.Duration
}

// Load is a running load generator.
type Load struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	res    LoadResult
}

// LoadResult counts what a load generator got back.
type LoadResult struct {
	// Total is the number of requests that completed, well or not.
	Total int
	// Failed are the requests that got no answer, or an answer other than
	// 200 from an echo backend.
	Failed int
	// ByBackend counts the good answers by the backend that gave them.
	ByBackend map[string]int
	// Last is the backend of the latest good answer.
	Last string
	// Failures describes the first few failures.
	Failures []string
	Elapsed  time.Duration
}

// StartLoad starts sending requests; Stop ends it and returns the counts.
// It stops on its own at the bounds of cfg and when the test ends.
func StartLoad(t testing.TB, cfg LoadConfig) *Load {
	t.Helper()
	if cfg.Workers <= 0 || cfg.MaxRequests <= 0 || cfg.MaxDuration <= 0 {
		t.Fatalf("load generator needs workers, a request budget and a time budget: %+v", cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.MaxDuration)
	l := &Load{cancel: cancel, done: make(chan struct{}), res: LoadResult{ByBackend: map[string]int{}}}
	t.Cleanup(func() { l.Stop() })
	url := "http://127.0.0.1:" + strconv.Itoa(cfg.Port) + cfg.Path
	// Keep-alive connections, as a browser or another proxy would hold:
	// a configuration change must not break them either.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: cfg.Workers,
	}
	c := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	budget := make(chan struct{}, cfg.MaxRequests)
	for range cfg.MaxRequests {
		budget <- struct{}{}
	}
	close(budget)
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for range budget {
				if ctx.Err() != nil {
					return
				}
				backend, err := loadRequest(ctx, c, url, cfg.Host)
				if ctx.Err() != nil {
					return // the time budget, not the request, failed
				}
				l.record(backend, err)
			}
		})
	}
	go func() {
		wg.Wait()
		transport.CloseIdleConnections()
		l.mu.Lock()
		l.res.Elapsed = time.Since(start)
		l.mu.Unlock()
		close(l.done)
	}()
	return l
}

func loadRequest(ctx context.Context, c *http.Client, url, host string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d (envoy flags %q): %.200s", resp.StatusCode, resp.Header.Get("X-Envoy-Response-Flags"), body)
	}
	var r echo.Request
	if err := json.Unmarshal(body, &r); err != nil || r.Backend == "" {
		return "", fmt.Errorf("not an echo backend's answer: %.200s", body)
	}
	return r.Backend, nil
}

func (l *Load) record(backend string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Total++
	if err != nil {
		l.res.Failed++
		if len(l.res.Failures) < 10 {
			l.res.Failures = append(l.res.Failures, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
		}
		return
	}
	l.res.ByBackend[backend]++
	l.res.Last = backend
}

// Now returns the counts so far.
func (l *Load) Now() LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.res
	r.ByBackend = make(map[string]int, len(l.res.ByBackend))
	for k, v := range l.res.ByBackend {
		r.ByBackend[k] = v
	}
	r.Failures = append([]string(nil), l.res.Failures...)
	return r
}

// Stop ends the load and returns the final counts.
func (l *Load) Stop() LoadResult {
	l.cancel()
	<-l.done
	return l.Now()
}

// Wait waits until the load reaches one of its bounds and returns the
// final counts.
func (l *Load) Wait() LoadResult {
	<-l.done
	return l.Now()
}
