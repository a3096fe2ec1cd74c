package ir_test

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/ir"
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

// TestReasonsListsEveryReason: Reasons, which puts every reason on the
// metrics at 0, names each Reason constant of this package.
func TestReasonsListsEveryReason(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "diagnostics.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Reason" {
				for _, v := range vs.Values {
					lit, err := strconv.Unquote(v.(*ast.BasicLit).Value)
					if err != nil {
						t.Fatal(err)
					}
					declared = append(declared, lit)
				}
			}
		}
	}
	var listed []string
	for _, r := range ir.Reasons() {
		listed = append(listed, string(r))
	}
	slices.Sort(declared)
	slices.Sort(listed)
	if len(declared) == 0 || !slices.Equal(declared, listed) {
		t.Errorf("Reasons() lists %q; diagnostics.go declares %q", listed, declared)
	}
}
