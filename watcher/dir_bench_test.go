package watcher_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/watcher"
)

// BenchmarkDirScanOneFileChanged measures what one changed EndpointSlice
// costs the directory source at 10,000 Services, Ingresses and
// EndpointSlices in 20 files of a namespace each: the scan that rereads
// the file and hands the change to the store.
func BenchmarkDirScanOneFileChanged(b *testing.B) {
	const files, perFile = 20, 500
	dir := b.TempDir()
	write := func(f, changed int, mtime time.Time) {
		var w strings.Builder
		ns := fmt.Sprintf("ns-%03d", f)
		for i := range perFile {
			n := f*perFile + i
			fmt.Fprintf(&w, "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%05d\n  namespace: %s\nspec:\n  ports:\n  - name: http\n    port: 80\n---\n", n, ns)
			addr := fmt.Sprintf("10.%d.%d.%d", 1+n>>16&0xff, n>>8&0xff, n&0xff)
			if i == 0 {
				addr = fmt.Sprintf("10.200.%d.%d", changed>>8&0xff, changed&0xff)
			}
			fmt.Fprintf(&w, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-%05d-a\n  namespace: %s\n  labels:\n    kubernetes.io/service-name: svc-%05d\naddressType: IPv4\nports:\n- name: http\n  port: 8080\nendpoints:\n- addresses: [%q]\n---\n", n, ns, n, addr)
			fmt.Fprintf(&w, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app-%05d\n  namespace: %s\nspec:\n  ingressClassName: rukou\n  rules:\n  - host: app-%05d.bench.example\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: svc-%05d\n            port:\n              number: 80\n---\n", n, ns, n, n)
		}
		name := filepath.Join(dir, ns+".yaml")
		if err := os.WriteFile(name, []byte(w.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			b.Fatal(err)
		}
	}
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for f := range files {
		write(f, 0, mtime)
	}
	store := watcher.NewStore()
	d := &watcher.Dir{Path: dir, Store: store}
	if err := d.Scan(); err != nil {
		b.Fatal(err)
	}
	store.TakeChanges()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		mtime = mtime.Add(time.Second)
		write(i%files, i+1, mtime)
		b.StartTimer()
		if err := d.Scan(); err != nil {
			b.Fatal(err)
		}
		if c := store.TakeChanges(); !c.OnlyEndpoints() || len(c.Services) != 1 {
			b.Fatalf("changes = %+v, want one Service's EndpointSlice", c)
		}
	}
}
