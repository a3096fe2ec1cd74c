package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
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

// StartNetns creates a namespace on a /30 of 10.213.0.0/16 and removes it
// when the test ends. It needs root and iproute2. Names and addresses come
// from the process id, so test runs side by side (two checkouts, say) do not
// collide; namespaces left behind by killed runs are removed first.
func StartNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("cluster-mode tests create a network namespace and need root (run as root, as CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("cluster-mode tests need `ip` from iproute2: apt-get install iproute2")
	}
	removeStaleNetns()
	pid := os.Getpid()
	slot := netnsSlot.Add(1) - 1
	block := (pid*4 + int(slot)) % 16384 // a /30 of 10.213.0.0/16
	n := &Netns{
		Name:   fmt.Sprintf("rukou-e2e-%d-%d", pid, slot),
		HostIP: fmt.Sprintf("10.213.%d.%d", block/64, block%64*4+1),
		IP:     fmt.Sprintf("10.213.%d.%d", block/64, block%64*4+2),
	}
	hostIf, nsIf := fmt.Sprintf("rk%dx%d", pid, slot), fmt.Sprintf("rk%dy%d", pid, slot)
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

// netnsSlot numbers the namespaces of one test process.
var netnsSlot atomic.Int32

// removeStaleNetns deletes namespaces of test processes that no longer run
// (a run killed before its cleanup). Deleting a namespace removes its end of
// the veth pair, which takes the host's end with it.
func removeStaleNetns() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "rukou-e2e-")
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue // not ours, or its process still runs
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	}
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
