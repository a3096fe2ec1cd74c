package cluster_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/examples/backend/echo"
)

// root is the repository's root; kubeconfig the cluster's admin kubeconfig.
var root, kubeconfig string

// TestMain uses the cluster `make cluster-up` started, or starts one (and
// stops it after) when none answers. A cluster that cannot start fails the
// package with what cluster.sh said: never a skip.
func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root = filepath.Clean(filepath.Join(wd, "../.."))
	state := os.Getenv("RUKOU_CLUSTER_DIR")
	if state == "" {
		state = filepath.Join(root, "bin", "cluster")
	}
	kubeconfig = filepath.Join(state, "kubeconfig")
	started := false
	if _, err := kubectlErr("get", "--raw", "/readyz"); err != nil {
		fmt.Fprintf(os.Stderr, "no one-node cluster answers (%v); starting one with test/cluster/cluster.sh up\n", err)
		up := exec.Command("bash", filepath.Join(root, "test/cluster/cluster.sh"), "up")
		up.Stdout, up.Stderr = os.Stderr, os.Stderr
		if err := up.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: the one-node cluster did not start: %v (it needs root and `make cluster-tools`; the lines above say what is missing)\n", err)
			os.Exit(1)
		}
		started = true
	}
	code := m.Run()
	if started {
		down := exec.Command("bash", filepath.Join(root, "test/cluster/cluster.sh"), "down")
		down.Stdout, down.Stderr = os.Stderr, os.Stderr
		if err := down.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "cluster.sh down: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// kubectlErr runs bin/kubectl against the cluster, within two minutes.
func kubectlErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// kubectl runs bin/kubectl and fails the test when it fails.
func kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := kubectlErr(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually calls f every 100 ms until it returns nil, and fails the test
// with f's last error after timeout. It returns how long it took.
func eventually(t testing.TB, timeout time.Duration, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answer is what a request through Envoy got.
type answer struct {
	status   int
	location string
	echo     echo.Request
}

// client sends requests to the node's NodePorts; tlsConfig, when set, is
// the HTTPS client's.
func client(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     tlsConfig,
			MaxIdleConnsPerHost: 4,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(c *http.Client, url, host string) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return answer{}, err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, location: resp.Header.Get("Location")}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &a.echo); err != nil {
			return a, fmt.Errorf("GET %s (Host %s): 200 with a body that is not the echo backend's: %q", url, host, body)
		}
	}
	return a, nil
}

// load sends GET requests at a steady pace, one at a time, until stopped
// or until its bounds (count and time) are reached.
type load struct {
	mu       sync.Mutex
	ok       int
	failures []string
	stop     chan struct{}
	done     chan struct{}
}

func startLoad(c *http.Client, url, host string, every time.Duration, maxRequests int, maxTime time.Duration) *load {
	l := &load{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		deadline := time.Now().Add(maxTime)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; i < maxRequests && time.Now().Before(deadline); i++ {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			a, err := get(c, url, host)
			l.mu.Lock()
			switch {
			case err != nil:
				l.failures = append(l.failures, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
			case a.status != http.StatusOK:
				l.failures = append(l.failures, fmt.Sprintf("%s: status %d", time.Now().Format("15:04:05.000"), a.status))
			default:
				l.ok++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// finish stops the loop and returns how many requests succeeded and how
// each failed one failed.
func (l *load) finish() (int, []string) {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, l.failures
}

// portForward runs `kubectl port-forward` to a pod's port and returns the
// local address; it stops with the test.
func portForward(t testing.TB, namespace, pod string, port int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl"), "--kubeconfig", kubeconfig,
		"-n", namespace, "port-forward", "--address=127.0.0.1", "pod/"+pod, fmt.Sprintf(":%d", port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Forwarding from (127\.0\.0\.1:\d+)`)
		b := make([]byte, 4096)
		var seen []byte
		for {
			n, err := out.Read(b)
			seen = append(seen, b[:n]...)
			if m := re.FindSubmatch(seen); m != nil {
				addr <- string(m[1])
				_, _ = io.Copy(io.Discard, out)
				return
			}
			if err != nil {
				close(addr)
				return
			}
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("kubectl port-forward pod/%s %d: %s", pod, port, errb.String())
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("kubectl port-forward pod/%s %d: no port after 30 s: %s", pod, port, errb.String())
	}
	return ""
}

// envoyHosts is the addresses of the healthy hosts of an Envoy cluster, as
// Envoy's admin API (at admin) lists them.
func envoyHosts(admin, cluster string) ([]string, error) {
	resp, err := http.Get("http://" + admin + "/clusters?format=json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var cs struct {
		ClusterStatuses []struct {
			Name         string `json:"name"`
			HostStatuses []struct {
				Address struct {
					SocketAddress struct {
						Address string `json:"address"`
					} `json:"socket_address"`
				} `json:"address"`
				HealthStatus map[string]any `json:"health_status"`
			} `json:"host_statuses"`
		} `json:"cluster_statuses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		return nil, err
	}
	for _, c := range cs.ClusterStatuses {
		if c.Name != cluster {
			continue
		}
		var hosts []string
		for _, h := range c.HostStatuses {
			if h.HealthStatus["eds_health_status"] == "HEALTHY" {
				hosts = append(hosts, h.Address.SocketAddress.Address)
			}
		}
		return hosts, nil
	}
	return nil, errors.New("Envoy has no cluster " + cluster)
}
