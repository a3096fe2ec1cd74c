package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Netns is a network namespace that a test uses as another host: a veth pair
// joins it to this host over a private /30. The API server refuses
// EndpointSlice addresses in the loopback range, so cluster-mode backends
// run in here.
type Netns struct {
	Name string
	// HostIP is this host's end of the veth pair; IP is the namespace's.
	HostIP, IP string
}

// StartNetns creates a namespace with addresses from 10.213.0.0/30 and
// removes it when the test ends. It needs root and iproute2.
func StartNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("cluster-mode tests create a network namespace and need root (run as root, as CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("cluster-mode tests need `ip` from iproute2: apt-get install iproute2")
	}
	n := &Netns{Name: "rukou-e2e", HostIP: "10.213.0.1", IP: "10.213.0.2"}
	hostIf, nsIf := "rke2e0", "rke2e1"
	// A namespace left over from a killed run would make every step fail.
	_ = exec.Command("ip", "netns", "del", n.Name).Run()
	_ = exec.Command("ip", "link", "del", hostIf).Run()
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", hostIf).Run()
		_ = exec.Command("ip", "netns", "del", n.Name).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", n.Name},
		{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", n.Name},
		{"addr", "add", n.HostIP + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", n.Name, "addr", "add", n.IP + "/30", "dev", nsIf},
		{"-n", n.Name, "link", "set", nsIf, "up"},
		{"-n", n.Name, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return n
}

// Command returns a command that runs inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// StartBackend runs the echo backend inside the namespace on port and
// returns its address.
func (n *Netns) StartBackend(t testing.TB, name string, port int) string {
	t.Helper()
	addr := fmt.Sprintf("%s:%d", n.IP, port)
	p := Start(t, "backend "+name, n.Command(Tool(t, "backend"), "--name", name, "--listen", addr), 5*time.Second)
	Eventually(t, 10*time.Second, "backend "+name+" listens", func() error {
		if p.Exited() {
			t.Fatalf("backend %s exited:\n%s", name, p.Log())
		}
		r, err := getDirect("http://" + addr + "/")
		if err != nil {
			return err
		}
		if r != name {
			return fmt.Errorf("answered as %q", r)
		}
		return nil
	})
	return addr
}
