package nginx

import (
	"fmt"
	"slices"
	"strings"
)

// Table renders the registry as docs/annotations.md's table of every
// annotation: one row per name, former names included, sorted.
func Table() string {
	type row struct{ name, status string }
	var rows []row
	for _, e := range Registry {
		rows = append(rows, row{e.Name, statusText(e.Status, e.Note)})
		if e.Former != "" {
			rows = append(rows, row{e.Former, fmt.Sprintf("%s (former name of `%s`)", e.Status, e.Name)})
		}
	}
	slices.SortFunc(rows, func(x, y row) int { return strings.Compare(x.name, y.name) })
	var b strings.Builder
	b.WriteString("| annotation | status |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s |\n", r.name, r.status)
	}
	return b.String()
}

// statusText is a status as the docs' tables give it, with its note.
func statusText(s Status, note string) string {
	if note == "" {
		return string(s)
	}
	return string(s) + ": " + note
}
