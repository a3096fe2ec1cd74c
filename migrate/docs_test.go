package migrate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rukou/rukou/migrate"
)

// TestJSONSchemaDocs keeps docs/migrating.md's example of the JSON report
// to exactly the fields a real report has.
func TestJSONSchemaDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "migrating.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/migrating.md has no ```json block")
	}
	r, err := migrate.Run(readTestdata(t), migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	real, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want, got := fieldsOf(t, real), fieldsOf(t, []byte(example))
	if !slices.Equal(got, want) {
		t.Errorf("docs/migrating.md's example has fields\n%v\na real report has\n%v", got, want)
	}
	if !strings.Contains(example, `"version": "`+migrate.Version+`"`) {
		t.Errorf("the example's version is not %s", migrate.Version)
	}
}

// fieldsOf lists the paths of every field of a JSON document, array
// elements merged (ingresses[].name), sorted.
func fieldsOf(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%v:\n%s", err, doc)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				set[prefix+k] = true
				walk(prefix+k+".", child)
			}
		case []any:
			for _, child := range v {
				walk(strings.TrimSuffix(prefix, ".")+"[].", child)
			}
		}
	}
	walk("", v)
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
