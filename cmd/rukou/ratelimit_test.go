package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/ir"
)

// TestRateLimitFileWritesOnChange: the service's configuration lands in
// the directory (made when missing) as rukou.yaml only, with no dot file
// left, and only when it changed.
func TestRateLimitFileWritesOnChange(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rukou", "config")
	f := &rateLimitFile{dir: dir, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res := func(limit uint32) *translator.Result {
		g := &ir.GlobalRateLimit{ID: "default/web", Limit: limit, Unit: ir.RateLimitMinute, Key: []ir.HashKey{{ClientAddress: true}}}
		return &translator.Result{Config: &ir.Config{Listeners: []*ir.Listener{{
			RateLimitService: &ir.RateLimitService{Domain: "rukou"},
			VirtualHosts:     []*ir.VirtualHost{{Routes: []*ir.Route{{Policy: &ir.Policy{GlobalRateLimit: g}}}}},
		}}}}
	}
	read := func() string {
		b, err := os.ReadFile(filepath.Join(dir, rateLimitFileName))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if err := f.write(res(3)); err != nil {
		t.Fatal(err)
	}
	if got := read(); !strings.Contains(got, "requests_per_unit: 3") {
		t.Fatalf("rukou.yaml:\n%s", got)
	}
	before, _ := os.Stat(filepath.Join(dir, rateLimitFileName))
	if err := f.write(res(3)); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(dir, rateLimitFileName)); !os.SameFile(before, after) {
		t.Error("an unchanged configuration was written again")
	}
	if err := f.write(res(4)); err != nil {
		t.Fatal(err)
	}
	if got := read(); !strings.Contains(got, "requests_per_unit: 4") {
		t.Fatalf("rukou.yaml after a change:\n%s", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %v, want rukou.yaml alone", entries)
	}
}

func TestHostPortFlag(t *testing.T) {
	var s string
	for _, bad := range []string{"ratelimit", ":8081", "ratelimit:0", "ratelimit:http", "ratelimit:70000"} {
		if err := (hostPort{&s}).Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"ratelimit.rukou-system.svc:8081", "127.0.0.1:8081", "[::1]:8081"} {
		if err := (hostPort{&s}).Set(good); err != nil || s != good {
			t.Errorf("%q: %v, %q", good, err, s)
		}
	}
}
