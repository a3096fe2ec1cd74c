package harness

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// contourModule is the Go module whose cmd/contour `make bench-peers`
// installs; its source also carries the CRDs that `contour serve` watches.
const contourModule = "github.com/projectcontour/contour"

// Contour is a running `contour serve`: the peer that `make bench-peers`
// measures rukou against, on the same API server and the same Envoy build.
type Contour struct {
	*Process
	// XDSPort is its xDS server's port on 127.0.0.1.
	XDSPort int
	// HTTPPort is the port of the HTTP listener it gives Envoy; StatsPort
	// that of Envoy's /ready and /stats listener.
	HTTPPort, StatsPort int
	// HealthAddress serves /healthz.
	HealthAddress string
}

// ContourBinary returns bin/contour, or fails the test saying how to
// install it.
func ContourBinary(t testing.TB) string {
	p := filepath.Join(Root(t), "bin", "contour")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("bin/contour is missing: run `make bench-peers`, or `bash test/tools/install.sh contour` "+
			"(GOBIN=$PWD/bin go install %s/cmd/contour@VERSION, VERSION pinned there)", contourModule)
	}
	return p
}

// StartContour installs into cluster the CRDs of the Contour that
// bin/contour was built from, runs `contour serve` on it with free ports on
// 127.0.0.1 and plain-text xDS, serving the Ingresses of class
// ingressClass, and waits until it is healthy.
func StartContour(t testing.TB, cluster *Cluster, ingressClass string) *Contour {
	t.Helper()
	bin := ContourBinary(t)
	applyContourCRDs(t, cluster, bin)
	healthPort := FreePort(t)
	c := &Contour{XDSPort: FreePort(t), HTTPPort: FreePort(t), StatsPort: FreePort(t), HealthAddress: "127.0.0.1:" + strconv.Itoa(healthPort)}
	cmd := exec.Command(bin, "serve",
		"--kubeconfig", cluster.Kubeconfig,
		"--insecure", "--disable-leader-election",
		"--ingress-class-name", ingressClass,
		"--xds-address", "127.0.0.1", "--xds-port", strconv.Itoa(c.XDSPort),
		"--envoy-service-http-address", "127.0.0.1", "--envoy-service-http-port", strconv.Itoa(c.HTTPPort),
		"--envoy-service-https-address", "127.0.0.1", "--envoy-service-https-port", strconv.Itoa(FreePort(t)),
		"--stats-address", "127.0.0.1", "--stats-port", strconv.Itoa(c.StatsPort),
		"--health-address", "127.0.0.1", "--health-port", strconv.Itoa(healthPort),
		"--http-address", "127.0.0.1", "--http-port", strconv.Itoa(FreePort(t)),
		"--debug-http-address", "127.0.0.1", "--debug-http-port", strconv.Itoa(FreePort(t)),
	)
	c.Process = Start(t, "contour", cmd, 10*time.Second)
	Eventually(t, 60*time.Second, "contour is healthy", func() error {
		if c.Exited() {
			t.Fatalf("contour exited:\n%s", c.Log())
		}
		_, err := GetOK("http://" + c.HealthAddress + "/healthz")
		return err
	})
	return c
}

// StartEnvoy writes a bootstrap with `contour bootstrap` that points at c,
// runs Envoy with it, and waits until Envoy's /ready answers 200 on the
// stats listener, which only exists once Envoy has Contour's listeners.
func (c *Contour) StartEnvoy(t testing.TB) *Process {
	t.Helper()
	// The admin socket's path must fit a sockaddr_un (108 bytes), which a
	// benchmark's TempDir may not.
	dir, err := os.MkdirTemp("", "contour-envoy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bootstrap := filepath.Join(dir, "bootstrap.json")
	if out, err := exec.Command(ContourBinary(t), "bootstrap", bootstrap,
		"--xds-address", "127.0.0.1", "--xds-port", strconv.Itoa(c.XDSPort),
		"--admin-address", filepath.Join(dir, "admin.sock"),
	).CombinedOutput(); err != nil {
		t.Fatalf("contour bootstrap: %v\n%s", err, out)
	}
	envoy := StartEnvoyFrom(t, bootstrap, "--service-cluster", "projectcontour", "--service-node", "envoy-bench")
	ready := fmt.Sprintf("http://127.0.0.1:%d/ready", c.StatsPort)
	Eventually(t, 60*time.Second, "contour's envoy is ready", func() error {
		if envoy.Exited() {
			t.Fatalf("envoy exited:\n%s", envoy.Log())
		}
		_, err := GetOK(ready)
		return err
	})
	return envoy
}

// applyContourCRDs creates, in cluster, the CRDs of examples/contour in the
// source of the module bin was built from (the module cache has it once
// `go install` has run), and waits until the API server serves them.
func applyContourCRDs(t testing.TB, cluster *Cluster, bin string) {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	if info.Main.Path != contourModule {
		t.Fatalf("%s was built from %q, not %s", bin, info.Main.Path, contourModule)
	}
	cmd := exec.Command("go", "mod", "download", "-json", contourModule+"@"+info.Main.Version)
	cmd.Dir = Root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s@%s: %v", contourModule, info.Main.Version, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s@%s: no Dir in %s (%v)", contourModule, info.Main.Version, out, err)
	}
	crds := filepath.Join(mod.Dir, "examples", "contour", "01-crds.yaml")
	// Server-side: ContourDeployment's CRD is larger than the annotation
	// that a client-side apply keeps.
	if out, err := Kubectl(t, cluster.Kubeconfig, "apply", "--server-side", "-f", crds); err != nil {
		t.Fatalf("kubectl apply %s: %v\n%s", crds, err, out)
	}
	if out, err := Kubectl(t, cluster.Kubeconfig, "wait", "--for", "condition=established", "--timeout", "60s", "crd", "--all"); err != nil {
		t.Fatalf("contour's CRDs not established: %v\n%s", err, out)
	}
}
