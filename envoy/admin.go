package envoy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Admin reads an Envoy's admin API.
type Admin struct {
	Address string // host:port
}

func (a *Admin) get(ctx context.Context, path string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Address+path, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode, err
}

// Live reports whether Envoy has finished initialising: its listeners are up
// and it serves traffic.
func (a *Admin) Live(ctx context.Context) bool {
	body, code, err := a.get(ctx, "/ready")
	return err == nil && code == http.StatusOK && strings.TrimSpace(body) == "LIVE"
}

// Stats returns Envoy's counters and gauges whose names contain filter.
func (a *Admin) Stats(ctx context.Context, filter string) (map[string]int64, error) {
	body, code, err := a.get(ctx, "/stats?filter="+filter)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("envoy admin /stats: status %d", code)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			out[name] = n
		}
	}
	return out, sc.Err()
}
