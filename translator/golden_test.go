package translator_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/out")

// TestGolden translates each testdata/in/NAME.yaml as `rukou translate -f`
// does and compares the dump with testdata/out/NAME.yaml. After a deliberate
// change, `go test ./translator -update` rewrites the outputs: review the
// diff as you would review code.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata/in")
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			got := goldenDump(t, in)
			out := filepath.Join("testdata", "out", name)
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./translator -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test ./translator -update and review the diff):\n%s", in, out, lineDiff(string(want), string(got)))
			}
		})
	}
}

// goldenDump reads one input file into a store and renders the dump.
func goldenDump(t *testing.T, file string) []byte {
	t.Helper()
	objs, err := watcher.ReadPaths([]string{file})
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	res, err := translator.Translate(store.Input(), translator.DefaultOptions())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	dump, err := translator.NewDump(res.Resources, res.Diagnostics)
	if err != nil {
		t.Fatalf("NewDump: %v", err)
	}
	out, err := dump.YAML()
	if err != nil {
		t.Fatalf("Dump.YAML: %v", err)
	}
	return out
}

// lineDiff shows the lines of want and got from the first that differs,
// a few of each, which is enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for _, side := range []struct {
		sign  string
		lines []string
	}{{"-", w}, {"+", g}} {
		for j := i; j < len(side.lines) && j < i+8; j++ {
			b.WriteString(side.sign + " " + side.lines[j] + "\n")
		}
	}
	return fmt.Sprintf("from line %d:\n%s", i+1, b.String())
}
