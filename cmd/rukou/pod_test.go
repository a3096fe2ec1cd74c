package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The commands the Envoy pod of deploy/rukou.yaml runs besides Envoy; the
// end-to-end tests run them against a real Envoy.

func TestBootstrapCopiesItself(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "rukou")
	code, out, errOut := runCmd(t, "bootstrap", "--ready-address", "0.0.0.0:9902", "--copy-binary", dst, "-o", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "name: rukou-ready") {
		t.Errorf("bootstrap has no readiness listener:\n%s", out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.Stat(self)
	got, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size() != want.Size() || got.Mode().Perm() != 0o755 {
		t.Errorf("copy: %d bytes, mode %v; want %d bytes, mode 0755", got.Size(), got.Mode().Perm(), want.Size())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the copy left %d files behind, want only the binary", len(entries))
	}
	if code, _, errOut := runCmd(t, "bootstrap", "--copy-binary", filepath.Join(dir, "missing", "rukou")); code != 1 || !strings.Contains(errOut, "--copy-binary") {
		t.Errorf("copy into a missing directory: exit %d: %s", code, errOut)
	}
}

func TestDrainWithoutEnvoy(t *testing.T) {
	// A port nothing listens on: Envoy has gone, nothing to drain.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, out, errOut := runCmd(t, "drain", "--admin-address", addr, "--timeout", "2s")
	if code != 0 || !strings.Contains(out, "nothing to drain") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	if code, _, _ := runCmd(t, "drain", "extra"); code != 2 {
		t.Errorf("drain with an argument: exit %d, want 2 (a usage error)", code)
	}
}
