package migrate

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rukou/rukou/translator"
)

// Version is the schema of the JSON report (docs/migrating.md).
const Version = "rukou.io/migrate/v1"

// Report is what moving to rukou changes: per Ingress, per ConfigMap key
// and per flag of ingress-nginx. Its JSON form is documented in
// docs/migrating.md; fields are only ever added to it.
type Report struct {
	Version string `json:"version"`
	// Controller says which ingress-nginx the report follows.
	Controller Source  `json:"controller"`
	Summary    Summary `json:"summary"`
	// Warnings say what the report could not find or had to choose.
	Warnings []string `json:"warnings"`
	// ConfigMap holds a row per key set in ingress-nginx's ConfigMap.
	ConfigMap []Setting `json:"configMap"`
	// Flags holds a row per flag ingress-nginx's controller is given.
	Flags     []Setting `json:"flags"`
	Ingresses []Ingress `json:"ingresses"`
}

// Source describes the ingress-nginx a report follows.
type Source struct {
	// From is where its flags were read: "Deployment NAMESPACE/NAME",
	// "DaemonSet NAMESPACE/NAME", "--nginx-args", or its defaults.
	From string `json:"from"`
	// ControllerClass and IngressClass are its --controller-class and
	// --ingress-class; IngressClasses the IngressClasses it serves.
	ControllerClass          string   `json:"controllerClass"`
	IngressClass             string   `json:"ingressClass"`
	IngressClasses           []string `json:"ingressClasses"`
	WatchIngressWithoutClass bool     `json:"watchIngressWithoutClass"`
	// ConfigMap is NAMESPACE/NAME of its ConfigMap, "" when none.
	ConfigMap string `json:"configMap"`
}

// Summary counts the Ingresses by outcome. Outcome is the report's: the
// worst of every Ingress's, the ConfigMap's and the flags'; ExitCode is
// rukou migrate's exit status for it.
type Summary struct {
	Ingresses  int     `json:"ingresses"`
	Unchanged  int     `json:"unchanged"`
	Differ     int     `json:"differ"`
	CannotMove int     `json:"cannotMove"`
	ConfigMap  Outcome `json:"configMap"`
	Flags      Outcome `json:"flags"`
	Outcome    Outcome `json:"outcome"`
	ExitCode   int     `json:"exitCode"`
}

// Setting is one annotation, ConfigMap key or flag with its verdict.
type Setting struct {
	Name    string  `json:"name"`
	Value   string  `json:"value"`
	Verdict Verdict `json:"verdict"`
	Note    string  `json:"note,omitempty"`
}

// Ingress is what moving does to one Ingress that ingress-nginx serves.
type Ingress struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// SelectedBy says why ingress-nginx serves it: spec.ingressClassName,
	// the legacy annotation, the default IngressClass, or
	// --watch-ingress-without-class.
	SelectedBy  string       `json:"selectedBy"`
	Outcome     Outcome      `json:"outcome"`
	Annotations []Setting    `json:"annotations"`
	Semantics   []Semantic   `json:"semantics"`
	Diagnostics []Diagnostic `json:"diagnostics"`

	source *networkingv1.Ingress
	legacy bool // selected by the legacy class annotation
}

// Semantic is a difference that comes from the Ingress itself, not from
// an annotation.
type Semantic struct {
	Field string `json:"field"`
	Note  string `json:"note"`
}

// Diagnostic is what rukou's translator reports on the Ingress, with what
// it does to the move.
type Diagnostic struct {
	Field   string            `json:"field,omitempty"`
	Reason  translator.Reason `json:"reason"`
	Message string            `json:"message"`
	Effect  Outcome           `json:"effect"`
}

// Run makes the report for objs. It fails only when rukou's translator
// does, which is a bug in rukou.
func Run(objs Objects, opts Options) (*Report, error) {
	r := &Report{Version: Version, Warnings: []string{}, ConfigMap: []Setting{}, Flags: []Setting{}}
	c := newController(objs.Workloads, opts, r.warn)
	sel := newSelector(c, objs.IngressClasses, opts.Admitted)
	r.Controller = Source{From: c.Source, ControllerClass: c.ControllerClass, IngressClass: c.IngressClass,
		IngressClasses: sel.classNames(), WatchIngressWithoutClass: c.WithoutClass, ConfigMap: c.ConfigMap}
	for _, a := range c.Args {
		v, note := flagVerdict(a.Name)
		r.Flags = append(r.Flags, Setting{Name: "--" + a.Name, Value: a.Value, Verdict: v, Note: note})
	}
	r.Ingresses = selectIngresses(objs.Ingresses, sel)
	cm := findConfigMap(objs, c.ConfigMap, r.warn)
	res, err := translate(objs, r.Ingresses, cm, opts, c.SSLPassthrough)
	if err != nil {
		return nil, err
	}
	r.ConfigMap = configMapSettings(cm, res.Diagnostics)
	r.addDiagnostics(res.Diagnostics)
	r.summarize()
	return r, nil
}

// selectIngresses starts the report of each Ingress that ingress-nginx
// serves, sorted by namespace and name.
func selectIngresses(all []*networkingv1.Ingress, sel selector) []Ingress {
	how := map[*networkingv1.Ingress]string{}
	var ings []*networkingv1.Ingress
	for _, ing := range all {
		if by := sel.selects(ing); by != "" {
			how[ing] = by
			ings = append(ings, ing)
		}
	}
	regex := regexHosts(ings)
	out := make([]Ingress, 0, len(ings))
	for _, ing := range ings {
		out = append(out, newIngress(ing, how[ing], regex))
	}
	slices.SortFunc(out, func(a, b Ingress) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// summarize sets every Ingress's outcome and the summary.
func (r *Report) summarize() {
	s := Summary{Ingresses: len(r.Ingresses), ConfigMap: Unchanged, Flags: Unchanged}
	for _, set := range r.ConfigMap {
		s.ConfigMap = worse(s.ConfigMap, outcomeOf(set.Verdict, set.Name))
	}
	for _, f := range r.Flags {
		if f.Verdict != Same {
			s.Flags = Differs
		}
	}
	s.Outcome = worse(s.ConfigMap, s.Flags)
	for i := range r.Ingresses {
		ing := &r.Ingresses[i]
		ing.Outcome = ing.outcome()
		switch ing.Outcome {
		case Unchanged:
			s.Unchanged++
		case Differs:
			s.Differ++
		case CannotMove:
			s.CannotMove++
		}
		s.Outcome = worse(s.Outcome, ing.Outcome)
	}
	s.ExitCode = s.Outcome.ExitCode()
	r.Summary = s
}

// outcome is the worst of what the Ingress's annotations, semantics and
// diagnostics do to it.
func (ing *Ingress) outcome() Outcome {
	o := Unchanged
	for _, a := range ing.Annotations {
		o = worse(o, outcomeOf(a.Verdict, a.Name))
	}
	if len(ing.Semantics) > 0 {
		o = worse(o, Differs)
	}
	for _, d := range ing.Diagnostics {
		o = worse(o, d.Effect)
	}
	return o
}
