package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rukou/rukou/envoy"
	"github.com/rukou/rukou/examples/backend/echo"
)

// Rukou is a running `rukou serve`.
type Rukou struct {
	*Process
	XDSAddress string
	// OpsAddress serves /metrics, /healthz and /readyz.
	OpsAddress string
	// DebugAddress serves the /debug/ pages and pprof.
	DebugAddress string
	// HTTPPort and HTTPSPort are the ports of the Envoy listeners this
	// rukou configures.
	HTTPPort, HTTPSPort int
}

// StartRukou runs `rukou serve` with free ports on 127.0.0.1 and the source
// flags given in args (--watch-dir DIR, or --kubeconfig PATH), and waits
// until it is healthy.
func StartRukou(t testing.TB, args ...string) *Rukou {
	t.Helper()
	r := &Rukou{XDSAddress: Addr(t), OpsAddress: Addr(t), DebugAddress: Addr(t), HTTPPort: FreePort(t), HTTPSPort: FreePort(t)}
	cmd := exec.Command(filepath.Join(Root(t), "bin", "rukou"), append([]string{"serve",
		"--xds-address", r.XDSAddress,
		"--ops-address", r.OpsAddress,
		"--debug-address", r.DebugAddress,
		"--envoy-listen-address", "127.0.0.1",
		"--envoy-http-port", strconv.Itoa(r.HTTPPort),
		"--envoy-https-port", strconv.Itoa(r.HTTPSPort),
		"--https-redirect-port", strconv.Itoa(r.HTTPSPort),
		"--log-level", "debug",
	}, args...)...)
	r.Process = Start(t, "rukou", cmd, 5*time.Second)
	Eventually(t, 30*time.Second, "rukou is healthy", func() error {
		if r.Exited() {
			t.Fatalf("rukou exited:\n%s", r.Log())
		}
		_, err := r.Ops("/healthz")
		return err
	})
	return r
}

// Ops GETs a path of rukou's ops address and returns the body of a 200.
func (r *Rukou) Ops(path string) (string, error) {
	return GetOK("http://" + r.OpsAddress + path)
}

// Debug GETs a /debug/ path of rukou's debug address and returns the body
// of a 200.
func (r *Rukou) Debug(path string) (string, error) {
	return GetOK("http://" + r.DebugAddress + path)
}

// GetOK GETs url and returns the body of a 200; any other status is an
// error that carries the body.
func GetOK(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), nil
}

// Envoy is a running Envoy, configured by `rukou bootstrap`.
type Envoy struct {
	*Process
	Admin *envoy.Admin
}

// StartEnvoy writes a bootstrap with `rukou bootstrap` that points at
// xdsAddress in the given mode (delta or sotw), runs Envoy with it, and waits
// until Envoy is LIVE.
func StartEnvoy(t testing.TB, xdsAddress, mode string) *Envoy {
	t.Helper()
	return StartEnvoyWith(t, xdsAddress, EnvoyOptions{Mode: mode})
}

// Response is what a request through Envoy got back.
type Response struct {
	Status int
	// Backend is the name the echo backend reported, empty when the
	// answer did not come from an echo backend.
	Backend string
	Echo    echo.Request
	Header  http.Header
}

// client never follows redirects: tests look at them.
var client = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Get sends GET http://127.0.0.1:port/path with the given Host header.
func Get(port int, host, path string) (Response, error) {
	return GetWith(port, host, path, nil)
}

// GetWith is Get with the request headers header besides.
func GetWith(port int, host, path string, header http.Header) (Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
	if err != nil {
		return Response{}, err
	}
	req.Host = host
	maps.Copy(req.Header, header)
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header}
	if resp.Header.Get("X-Backend") != "" {
		if err := json.Unmarshal(body, &r.Echo); err != nil {
			return r, fmt.Errorf("echo backend answer: %w", err)
		}
		r.Backend = r.Echo.Backend
	}
	return r, nil
}

// ExpectRoute waits until GET host+path through Envoy on port is answered by
// backend (or, when backend is empty, with status).
func ExpectRoute(t testing.TB, port int, host, path string, status int, backend string) Response {
	t.Helper()
	var last Response
	Eventually(t, 15*time.Second, fmt.Sprintf("GET %s%s answers %d from %q", host, path, status, backend), func() error {
		r, err := Get(port, host, path)
		if err != nil {
			return err
		}
		last = r
		if r.Status != status || r.Backend != backend {
			return fmt.Errorf("got %d from %q", r.Status, r.Backend)
		}
		return nil
	})
	return last
}

// getDirect GETs url without Envoy and returns the echo backend's name.
func getDirect(url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r echo.Request
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", err
	}
	return r.Backend, nil
}
