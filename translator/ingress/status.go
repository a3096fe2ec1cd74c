package ingress

import (
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// Status is what rukou made of one Ingress, for /debug/ingresses and
// for the status writer.
type Status struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owned is set when the Ingress's class makes it rukou's.
	Owned bool `json:"owned"`
	// Hosts are the hosts of its rules and TLS entries, sorted.
	Hosts []string `json:"hosts"`
	// Accepted is set when it is owned and every part of it is served as
	// written; otherwise Diagnostics say what is not.
	Accepted    bool            `json:"accepted"`
	Diagnostics []ir.Diagnostic `json:"diagnostics"`
}

// Statuses reports on every Ingress of the input, owned or not.
func Statuses(in Input, opts Options, diags []ir.Diagnostic) []Status {
	classes := newIndex(Input{IngressClasses: in.IngressClasses}).classes
	byIngress := map[string][]ir.Diagnostic{}
	for _, d := range diags {
		if d.Kind == "Ingress" {
			key := d.Namespace + "/" + d.Name
			byIngress[key] = append(byIngress[key], d)
		}
	}
	out := make([]Status, 0, len(in.Ingresses))
	for _, ing := range in.Ingresses {
		st := Status{Namespace: ing.Namespace, Name: ing.Name, Owned: owns(ing, classes, opts), Hosts: []string{}}
		for _, r := range ing.Spec.Rules {
			if h := strings.ToLower(r.Host); h != "" {
				st.Hosts = append(st.Hosts, h)
			}
		}
		for _, t := range ing.Spec.TLS {
			for _, h := range t.Hosts {
				st.Hosts = append(st.Hosts, strings.ToLower(h))
			}
		}
		slices.Sort(st.Hosts)
		st.Hosts = slices.Compact(st.Hosts)
		st.Diagnostics = byIngress[ing.Namespace+"/"+ing.Name]
		if st.Diagnostics == nil {
			st.Diagnostics = []ir.Diagnostic{}
		}
		st.Accepted = st.Owned && len(st.Diagnostics) == 0
		out = append(out, st)
	}
	// Sorted by namespace/name, each key made once rather than on each
	// comparison (a tenth of a translation at 1,000 Ingresses).
	keys := make([]string, len(out))
	order := make([]int, len(out))
	for i, st := range out {
		keys[i], order[i] = st.Namespace+"/"+st.Name, i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sorted := make([]Status, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted
}
