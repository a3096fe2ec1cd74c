// Package golden runs the translator's golden tests: each input file in
// one folder of translator/testdata gives the file of the same name in
// another, compared byte for byte, or rewritten with -update for review as
// a diff. Tests only.
//
// It may import only the standard library.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Run calls render for each testdata/<from>/*.yaml under dir and compares
// the result with testdata/<to>/ of the same name.
func Run(t *testing.T, dir, from, to string, render func(t *testing.T, file string) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, from, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatalf("no inputs in %s", filepath.Join(dir, from))
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			got := render(t, in)
			out := filepath.Join(dir, to, name)
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run the test with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run the test with -update and review the diff):\n%s", in, out, lineDiff(string(want), string(got)))
			}
		})
	}
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
