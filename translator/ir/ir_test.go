package ir_test

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestImportsOnlyTheStandardLibrary keeps the model free of Kubernetes,
// nginx and Envoy: a frontend lowers into it, a backend renders it.
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports found: the test reads the wrong directory")
	}
	for _, imp := range pkg.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("package ir imports %q; it may import only the standard library", imp)
		}
	}
	if !slices.Contains(pkg.Imports, "net/netip") {
		t.Errorf("imports %v: expected net/netip among them", pkg.Imports)
	}
}
