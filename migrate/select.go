package migrate

import (
	"slices"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// How an Ingress came to be ingress-nginx's, as Ingress.SelectedBy says.
const (
	byClassName    = "spec.ingressClassName"
	byAnnotation   = "annotation " + legacyClassKey
	byDefaultClass = "default IngressClass"
	byWithoutClass = "--watch-ingress-without-class"
)

// selector decides which Ingresses ingress-nginx serves, as its store does
// (internal/ingress/controller/store, GetIngressClass): the IngressClass an
// Ingress names, else the legacy annotation, else nothing unless
// --watch-ingress-without-class.
type selector struct {
	c       controller
	classes map[string]*networkingv1.IngressClass // ingress-nginx's, by name
	// defaulted: class-less manifests will get ingress-nginx's default
	// IngressClass from the API server's admission when applied.
	defaulted bool
}

func newSelector(c controller, classes []*networkingv1.IngressClass, admitted bool) selector {
	s := selector{c: c, classes: map[string]*networkingv1.IngressClass{}}
	for _, ic := range classes {
		if ic.Spec.Controller == c.ControllerClass || (c.ClassByName && ic.Name == c.IngressClass) {
			s.classes[ic.Name] = ic
			// In a cluster, admission has already set the class of every
			// Ingress created since the default existed; the class-less
			// ones left are not ingress-nginx's.
			s.defaulted = s.defaulted || (!admitted && ic.Annotations[defaultClassKey] == "true")
		}
	}
	return s
}

// selects says why ingress-nginx serves ing, "" when it does not.
func (s selector) selects(ing *networkingv1.Ingress) string {
	if s.c.Namespace != "" && ing.Namespace != s.c.Namespace {
		return ""
	}
	if name := ing.Spec.IngressClassName; name != nil {
		if _, ok := s.classes[*name]; ok {
			return byClassName
		}
		return ""
	}
	if v, ok := ing.Annotations[legacyClassKey]; ok {
		if v == s.c.IngressClass {
			return byAnnotation
		}
		return ""
	}
	switch {
	case s.c.WithoutClass:
		return byWithoutClass
	case s.defaulted:
		return byDefaultClass
	}
	return ""
}

// classNames are the names of ingress-nginx's IngressClasses, sorted.
func (s selector) classNames() []string {
	out := make([]string, 0, len(s.classes))
	for name := range s.classes {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// newIngress starts the report of one Ingress: its annotations' verdicts
// and the differences its spec makes.
func newIngress(ing *networkingv1.Ingress, how string, regex map[string]bool) Ingress {
	out := Ingress{Namespace: ing.Namespace, Name: ing.Name, SelectedBy: how, Annotations: []Setting{},
		Diagnostics: []Diagnostic{}, source: ing, legacy: how == byAnnotation}
	for key, value := range ing.Annotations {
		if name, ok := annotationName(key); ok {
			v, note := annotationVerdict(name)
			out.Annotations = append(out.Annotations, Setting{Name: key, Value: value, Verdict: v, Note: note})
		}
	}
	slices.SortFunc(out.Annotations, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
	out.Semantics = semantics(ing, regex)
	return out
}
