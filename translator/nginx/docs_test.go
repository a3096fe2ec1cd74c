package nginx

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated tables in docs/annotations.md and docs/configmap.md")

// The generated table sits between these lines of docs/annotations.md.
const (
	tableStart = "<!-- The table below is generated from translator/nginx's Registry: go test ./translator/nginx -update -->\n"
	tableEnd   = "<!-- end of the generated table -->\n"
)

// TestDocsTableFollowsTheRegistry keeps docs/annotations.md's table of
// every annotation equal to the registry that the reader follows.
func TestDocsTableFollowsTheRegistry(t *testing.T) {
	checkGeneratedTable(t, "annotations.md", tableStart, Table())
}

// checkGeneratedTable compares the table of docs/doc between the line
// start and tableEnd with want, or rewrites it with -update.
func checkGeneratedTable(t *testing.T, doc, start, want string) {
	t.Helper()
	file := filepath.Join("..", "..", "docs", doc)
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(text), start)
	if !ok {
		t.Fatalf("%s has no line %q", file, start)
	}
	table, after, ok := strings.Cut(rest, tableEnd)
	if !ok {
		t.Fatalf("%s has no line %q", file, tableEnd)
	}
	if *update {
		if err := os.WriteFile(file, []byte(before+start+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if table != want {
		t.Errorf("%s's table differs from the registry; run go test ./translator/nginx -update and review the diff.\nwant:\n%s", file, want)
	}
}

// TestRegistryIsConsistent checks what the reader relies on: names sorted
// and unique, every honoured annotation read by some reader, and nothing
// refused or left for later read as if it were honoured.
func TestRegistryIsConsistent(t *testing.T) {
	names := map[string]bool{}
	for i, e := range Registry {
		if i > 0 && Registry[i-1].Name >= e.Name {
			t.Errorf("%q comes after %q: the registry is sorted by name", e.Name, Registry[i-1].Name)
		}
		for _, n := range []string{e.Name, e.Former} {
			if n != "" && names[n] {
				t.Errorf("%q appears twice", n)
			}
			names[n] = true
		}
		if e.read != nil && e.readWith != "" {
			t.Errorf("%s: both a reader and readWith", e.Name)
		}
		if e.readWith != "" {
			lead, ok := Lookup(e.readWith)
			if !ok || lead.read == nil {
				t.Errorf("%s: readWith %q names no entry with a reader", e.Name, e.readWith)
			}
		}
		honoured := e.Status == Supported || e.Status == Differs
		read := e.read != nil || e.readWith != ""
		switch {
		case honoured && !read:
			t.Errorf("%s is %s but no reader reads it", e.Name, e.Status)
		case e.Status == Refused && read:
			t.Errorf("%s is refused but a reader reads it", e.Name)
		}
	}
}

// TestEveryNotYetAnnotationIsReported sets each annotation the registry
// calls "not yet" or "refused" and expects exactly one diagnostic for it
// (or the one that makes the paths answer 503), so that users learn what
// to review.
func TestEveryNotYetAnnotationIsReported(t *testing.T) {
	for _, e := range Registry {
		if e.Status == Supported || e.Status == Differs {
			continue
		}
		a, issues := Read(map[string]string{Prefix + e.Name: "x"}, "default/x")
		if a.Unservable != nil {
			// The one diagnostic of an Ingress whose paths answer 503.
			issues = append(issues, *a.Unservable)
		}
		if len(issues) != 1 || issues[0].Name != e.Name {
			t.Errorf("%s (%s): issues %+v, want one for it", e.Name, e.Status, issues)
		}
	}
}
