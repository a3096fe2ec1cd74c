package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/envoy"
	"github.com/rukou/rukou/xds"
)

// EnvoyOptions shape an Envoy started by StartEnvoyWith.
type EnvoyOptions struct {
	// Mode is the ADS flavour: delta or sotw.
	Mode string
	// BootstrapArgs are more `rukou bootstrap` flags, such as --xds-ca.
	BootstrapArgs []string
	// NoWait returns as soon as Envoy's admin API answers, without waiting
	// for it to be LIVE (which needs a control plane that serves it).
	NoWait bool
	// EnvoyArgs are more Envoy flags, such as --concurrency 1.
	EnvoyArgs []string
	// Under is a command and its flags that Envoy runs under, such as
	// valgrind's; Envoy's own command line follows it.
	Under []string
}

// StartEnvoyWith is StartEnvoy with more bootstrap flags, and optionally
// without waiting for Envoy to be LIVE.
func StartEnvoyWith(t testing.TB, xdsAddress string, o EnvoyOptions) *Envoy {
	t.Helper()
	admin := Addr(t)
	bootstrap := filepath.Join(t.TempDir(), "bootstrap.yaml")
	args := append([]string{"bootstrap",
		"--xds-address", xdsAddress, "--admin-address", admin, "--xds-mode", o.Mode,
		"--node-id", "e2e-" + strings.ReplaceAll(t.Name(), "/", "-"), "-o", bootstrap}, o.BootstrapArgs...)
	if out, err := exec.Command(filepath.Join(Root(t), "bin", "rukou"), args...).CombinedOutput(); err != nil {
		t.Fatalf("rukou bootstrap: %v\n%s", err, out)
	}
	e := &Envoy{Process: StartEnvoyUnder(t, o.Under, bootstrap, o.EnvoyArgs...), Admin: &envoy.Admin{Address: admin}}
	Eventually(t, 30*time.Second, "envoy admin answers", func() error {
		if e.Exited() {
			t.Fatalf("envoy exited:\n%s", e.Log())
		}
		if o.NoWait {
			_, err := e.Admin.Stats(Context(t), "server.state")
			return err
		}
		if !e.Admin.Live(Context(t)) {
			return fmt.Errorf("envoy admin %s not LIVE yet", admin)
		}
		return nil
	})
	return e
}

// StartEnvoyFrom runs bin/envoy with the bootstrap file bootstrap (written
// by `rukou bootstrap`, or by a peer's own bootstrap command) and more Envoy
// flags, without waiting for anything: what ready means depends on the
// bootstrap.
func StartEnvoyFrom(t testing.TB, bootstrap string, args ...string) *Process {
	t.Helper()
	return StartEnvoyUnder(t, nil, bootstrap, args...)
}

// StartEnvoyUnder is StartEnvoyFrom with Envoy run under another command
// (under, which may be empty): valgrind, say.
func StartEnvoyUnder(t testing.TB, under []string, bootstrap string, args ...string) *Process {
	t.Helper()
	line := append(append(slices.Clone(under), Tool(t, "envoy"), "-c", bootstrap, "--disable-hot-restart", "--log-level", "info"), args...)
	return Start(t, "envoy", exec.Command(line[0], line[1:]...), 10*time.Second)
}

// WriteManifest writes content to path as editors and kubectl do, through
// a temporary file and a rename, so that a watching rukou never reads half
// of it.
func WriteManifest(t testing.TB, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Metrics are samples scraped from a Prometheus text page.
type Metrics []Sample

// Sample is one line of a Prometheus text page.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics scrapes rukou's /metrics.
func (r *Rukou) Metrics() (Metrics, error) {
	body, err := r.Ops("/metrics")
	if err != nil {
		return nil, err
	}
	return ParseMetrics(body)
}

// ParseMetrics reads the Prometheus text format (the subset client_golang
// writes: no timestamps, label values without "," or "}").
func ParseMetrics(text string) (Metrics, error) {
	var out Metrics
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("metrics line %q: no value", line)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		s := Sample{Name: series, Labels: map[string]string{}, Value: v}
		if name, labels, ok := strings.Cut(series, "{"); ok {
			s.Name = name
			for _, pair := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
				if k, v, ok := strings.Cut(pair, "="); ok {
					s.Labels[k] = strings.Trim(v, `"`)
				}
			}
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// Sum adds the samples named name whose labels include the given
// label=value pairs.
func (m Metrics) Sum(name string, labels ...string) float64 {
	var sum float64
next:
	for _, s := range m {
		if s.Name != name {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if s.Labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		sum += s.Value
	}
	return sum
}

// Has reports whether any sample is named name.
func (m Metrics) Has(name string) bool {
	for _, s := range m {
		if s.Name == name {
			return true
		}
	}
	return false
}

// XDSStatus reads rukou's /debug/xds.
func (r *Rukou) XDSStatus() (xds.Status, error) {
	var st xds.Status
	body, err := r.Debug("/debug/xds")
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return st, fmt.Errorf("/debug/xds: %w", err)
	}
	return st, nil
}
