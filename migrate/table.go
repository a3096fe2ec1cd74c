package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// JSON is the report in the schema of docs/migrating.md.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	return append(b, '\n'), err
}

// WriteTable prints the report for people: the controller, its ConfigMap
// keys and flags, then the Ingresses grouped by namespace, then the
// summary.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	c := r.Controller
	fmt.Fprintf(tw, "ingress-nginx: %s\n", c.From)
	fmt.Fprintf(tw, "  controller class %s, IngressClasses [%s], ingress class annotation %q, without class: %v\n",
		c.ControllerClass, strings.Join(c.IngressClasses, " "), c.IngressClass, c.WatchIngressWithoutClass)
	for _, warning := range r.Warnings {
		fmt.Fprintf(tw, "  warning: %s\n", warning)
	}
	settingsTable(tw, "ConfigMap "+orNone(c.ConfigMap), "KEY", r.ConfigMap)
	settingsTable(tw, "Flags", "FLAG", r.Flags)
	namespace := ""
	for _, ing := range r.Ingresses {
		if ing.Namespace != namespace {
			namespace = ing.Namespace
			fmt.Fprintf(tw, "\nNamespace %s\n", namespace)
		}
		ing.writeRows(tw)
	}
	s := r.Summary
	fmt.Fprintf(tw, "\n%d Ingresses served by ingress-nginx: %d unchanged, %d differ, %d cannot move; ConfigMap: %s; flags: %s.\n",
		s.Ingresses, s.Unchanged, s.Differ, s.CannotMove, s.ConfigMap, s.Flags)
	fmt.Fprintf(tw, "Outcome: %s (exit status %d).\n", s.Outcome, s.ExitCode)
	return tw.Flush()
}

// settingsTable prints the ConfigMap's keys or the flags, one per row.
func settingsTable(w io.Writer, title, column string, rows []Setting) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(rows) == 0 {
		fmt.Fprintf(w, "  (none set)\n")
		return
	}
	fmt.Fprintf(w, "  %s\tVALUE\tVERDICT\tNOTE\n", column)
	for _, s := range rows {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", s.Name, short(s.Value), s.Verdict, s.Note)
	}
}

// writeRows prints one Ingress: its outcome, then a row per annotation,
// difference and diagnostic.
func (ing Ingress) writeRows(w io.Writer) {
	fmt.Fprintf(w, "  Ingress %s\t%s\t(selected by %s)\t\n", ing.Name, strings.ToUpper(string(ing.Outcome)), ing.SelectedBy)
	for _, a := range ing.Annotations {
		fmt.Fprintf(w, "    %s=%s\t%s\t%s\t\n", strings.TrimPrefix(a.Name, "nginx.ingress.kubernetes.io/"), short(a.Value), a.Verdict, a.Note)
	}
	for _, s := range ing.Semantics {
		fmt.Fprintf(w, "    %s\t%s\t%s\t\n", s.Field, Differs, s.Note)
	}
	for _, d := range ing.Diagnostics {
		fmt.Fprintf(w, "    %s\t%s\t%s: %s\t\n", orNone(d.Field), d.Effect, d.Reason, d.Message)
	}
}

// short cuts a value (a snippet, say) to one line of a few words.
func short(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	if r := []rune(v); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return v
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
