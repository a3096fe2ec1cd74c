package migrate_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rukou/rukou/migrate"
	"github.com/rukou/rukou/translator/nginx"
	"github.com/rukou/rukou/watcher"
)

// workloadKinds are the kinds rukou migrate reads beside the watched ones.
var workloadKinds = []schema.GroupKind{{Group: "apps", Kind: "Deployment"}, {Group: "apps", Kind: "DaemonSet"}}

// readTestdata reads the manifests of testdata/cluster: ingress-nginx as
// its chart installs it, and applications served by it.
func readTestdata(t testing.TB) migrate.Objects {
	t.Helper()
	objs, err := watcher.ReadPaths([]string{filepath.Join("testdata", "cluster")}, workloadKinds...)
	if err != nil {
		t.Fatal(err)
	}
	return migrate.FromObjects(objs)
}

// want is the verdict the registries promise for a status: the mapping
// the report must follow, written once here for the tests.
func want(s nginx.Status) migrate.Verdict {
	return map[nginx.Status]migrate.Verdict{
		nginx.Supported: migrate.Same, nginx.Differs: migrate.Different,
		nginx.Refused: migrate.Refused, nginx.NotYet: migrate.NotSupported,
	}[s]
}

// outcomeOfAnnotations is the outcome the registry promises for an
// Ingress whose only findings are these annotations.
func outcomeOfAnnotations(t *testing.T, names ...string) migrate.Outcome {
	o := migrate.Unchanged
	for _, n := range names {
		e, ok := nginx.Lookup(n)
		if !ok {
			t.Fatalf("%s is not in the registry", n)
		}
		switch {
		case e.Status == nginx.Refused && strings.HasSuffix(n, "-snippet"):
			return migrate.CannotMove
		case e.Status != nginx.Supported:
			o = migrate.Differs
		}
	}
	return o
}

func find(t *testing.T, r *migrate.Report, nsName string) migrate.Ingress {
	t.Helper()
	for _, ing := range r.Ingresses {
		if ing.Namespace+"/"+ing.Name == nsName {
			return ing
		}
	}
	t.Fatalf("Ingress %s is not in the report", nsName)
	return migrate.Ingress{}
}

// TestTestdataOutcomes runs the report on ingress-nginx as its chart
// installs it and checks each Ingress's outcome, the controller found and
// the exit status.
func TestTestdataOutcomes(t *testing.T) {
	r, err := migrate.Run(readTestdata(t), migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "rukou.io/migrate/v1" {
		t.Errorf("version %q", r.Version)
	}
	c := r.Controller
	if c.From != "Deployment ingress-nginx/ingress-nginx-controller" || c.ConfigMap != "ingress-nginx/ingress-nginx-controller" || !slices.Equal(c.IngressClasses, []string{"nginx"}) {
		t.Errorf("controller %+v: want the Deployment, its ConfigMap with $(POD_NAMESPACE) expanded, class nginx", c)
	}
	cases := []struct {
		name, selectedBy string
		outcome          migrate.Outcome
		field, reason    string // a diagnostic or a semantic difference expected
	}{
		{"shop/web", "spec.ingressClassName", migrate.Unchanged, "", ""},
		{"shop/api", "spec.ingressClassName", outcomeOfAnnotations(t, "use-regex", "rewrite-target", "proxy-read-timeout"), "", ""},
		{"blog/blog", "annotation kubernetes.io/ingress.class", migrate.Differs, "spec.rules[0].http.paths[0].path", ""},
		{"blog/static", "default IngressClass", migrate.Unchanged, "", ""},
		{"legacy/admin", "spec.ingressClassName", migrate.CannotMove, "", ""},
		{"legacy/store", "spec.ingressClassName", migrate.Unchanged, "spec.tls[0].secretName", "SecretNotFound"},
	}
	for _, c := range cases {
		ing := find(t, r, c.name)
		if ing.Outcome != c.outcome || ing.SelectedBy != c.selectedBy {
			t.Errorf("%s: %s, selected by %s; want %s, by %s", c.name, ing.Outcome, ing.SelectedBy, c.outcome, c.selectedBy)
		}
		if c.field != "" && !hasFinding(ing, c.field, c.reason) {
			t.Errorf("%s: no finding on %s %s: %+v %+v", c.name, c.field, c.reason, ing.Semantics, ing.Diagnostics)
		}
	}
	if len(r.Ingresses) != len(cases) {
		t.Errorf("%d Ingresses reported, want %d (other/whoami is traefik's)", len(r.Ingresses), len(cases))
	}
	s := r.Summary
	if s.Ingresses != 6 || s.Unchanged+s.Differ+s.CannotMove != 6 || s.CannotMove != 1 || s.ExitCode != 2 || s.Outcome != migrate.CannotMove {
		t.Errorf("summary %+v", s)
	}
}

func hasFinding(ing migrate.Ingress, field, reason string) bool {
	for _, d := range ing.Diagnostics {
		if d.Field == field && string(d.Reason) == reason {
			return true
		}
	}
	return reason == "" && slices.ContainsFunc(ing.Semantics, func(s migrate.Semantic) bool { return s.Field == field })
}

// TestVerdictsFollowTheRegistries sets every annotation, ConfigMap key and
// flag the registries hold, and unknown ones, and expects each row's
// verdict and note to be the registry's: the report cannot promise what
// the translator does not do. New entries are covered as they are added.
func TestVerdictsFollowTheRegistries(t *testing.T) {
	objs := everyEntry()
	r, err := migrate.Run(objs, migrate.Options{Args: everyFlag()})
	if err != nil {
		t.Fatal(err)
	}
	ing := find(t, r, "every/annotation")
	if len(ing.Annotations) != len(objs.Ingresses[0].Annotations) {
		t.Errorf("%d annotation rows, want %d", len(ing.Annotations), len(objs.Ingresses[0].Annotations))
	}
	for _, a := range ing.Annotations {
		name := strings.TrimPrefix(a.Name, nginx.Prefix)
		e, known := nginx.Lookup(name)
		checkRow(t, "annotation "+name, a, known, e.Status, e.Note)
	}
	if len(r.ConfigMap) != len(nginx.Keys)+1 {
		t.Errorf("%d ConfigMap rows, want %d", len(r.ConfigMap), len(nginx.Keys)+1)
	}
	for _, row := range r.ConfigMap {
		k, known := nginx.LookupKey(row.Name)
		honoured := k.Status == nginx.Supported || k.Status == nginx.Differs
		if honoured && row.Verdict == migrate.Different && row.Note != k.Note {
			continue // the value "x" cannot be used: the translator's message
		}
		checkRow(t, "key "+row.Name, row, known, k.Status, k.Note)
	}
	if len(r.Flags) != len(nginx.Flags)+1 {
		t.Errorf("%d flag rows, want %d", len(r.Flags), len(nginx.Flags)+1)
	}
	for _, row := range r.Flags {
		f, known := nginx.LookupFlag(strings.TrimPrefix(row.Name, "--"))
		checkRow(t, "flag "+row.Name, row, known, f.Status, f.Note)
	}
	checkPrinted(t, r)
}

// checkPrinted: the JSON form holds the same rows, and the table a line
// per row with its name and verdict.
func checkPrinted(t *testing.T, r *migrate.Report) {
	t.Helper()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back migrate.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.ConfigMap, r.ConfigMap) || !slices.Equal(back.Flags, r.Flags) || !slices.Equal(back.Ingresses[0].Annotations, r.Ingresses[0].Annotations) {
		t.Error("the JSON report's rows differ from the report's")
	}
	var table strings.Builder
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	rows := slices.Concat(r.ConfigMap, r.Flags, r.Ingresses[0].Annotations)
	for _, row := range rows {
		name := strings.TrimPrefix(row.Name, nginx.Prefix)
		if !slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(strings.TrimSpace(l), name) && strings.Contains(l, "  "+string(row.Verdict)+"  ")
		}) {
			t.Errorf("the table has no line for %s, %s", name, row.Verdict)
		}
	}
}

func checkRow(t *testing.T, what string, row migrate.Setting, known bool, status nginx.Status, note string) {
	t.Helper()
	switch {
	case !known && (row.Verdict != migrate.NotSupported || !strings.HasPrefix(row.Note, "unknown")):
		t.Errorf("%s is unknown: %s (%s), want not supported, unknown", what, row.Verdict, row.Note)
	case known && (row.Verdict != want(status) || row.Note != note):
		t.Errorf("%s: %s (%q), want %s (%q) as the registry says %s", what, row.Verdict, row.Note, want(status), note, status)
	}
}

// everyEntry is an Ingress with every annotation of the registry (former
// names too) and an unknown one, and a ConfigMap with every key and an
// unknown one.
func everyEntry() migrate.Objects {
	annotations := map[string]string{nginx.Prefix + "no-such-annotation": "x"}
	for _, e := range nginx.Registry {
		annotations[nginx.Prefix+e.Name] = "x"
		if e.Former != "" {
			annotations[nginx.Prefix+e.Former] = "x"
		}
	}
	data := map[string]string{"no-such-key": "x"}
	for _, k := range nginx.Keys {
		data[k.Name] = "x"
	}
	ing := ingress("every", "annotation", "nginx", annotations)
	return migrate.Objects{
		Ingresses:      []*networkingv1.Ingress{ing},
		IngressClasses: []*networkingv1.IngressClass{class("nginx", "k8s.io/ingress-nginx", false)},
		ConfigMaps:     []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "every"}, Data: data}},
	}
}

// everyFlag sets every flag of the registry and an unknown one, naming the
// ConfigMap of everyEntry.
func everyFlag() []string {
	args := []string{"--no-such-flag=x"}
	for _, f := range nginx.Flags {
		v := "x"
		switch f.Name {
		case "configmap":
			v = "ingress-nginx/every"
		case "controller-class":
			v = "k8s.io/ingress-nginx"
		case "watch-namespace":
			v = ""
		}
		args = append(args, "--"+f.Name+"="+v)
	}
	return args
}

func ingress(ns, name, class string, annotations map[string]string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: name + ".example.com"}}},
	}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	return ing
}

func class(name, controller string, isDefault bool) *networkingv1.IngressClass {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	if isDefault {
		ic.Annotations = map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}
	}
	return ic
}

// TestSelection: which Ingresses the report takes as ingress-nginx's, as
// ingress-nginx's store decides.
func TestSelection(t *testing.T) {
	legacy := func(v string) map[string]string { return map[string]string{"kubernetes.io/ingress.class": v} }
	cases := []struct {
		name     string
		ing      *networkingv1.Ingress
		classes  []*networkingv1.IngressClass
		args     []string
		admitted bool
		want     string
	}{
		{"class_of_ingress_nginx", ingress("a", "x", "nginx", nil), nil, nil, false, "spec.ingressClassName"},
		{"class_of_another_controller", ingress("a", "x", "traefik", nil), nil, nil, false, ""},
		{"unknown_class", ingress("a", "x", "gone", nil), nil, nil, false, ""},
		{"class_name_wins_over_annotation", ingress("a", "x", "traefik", legacy("nginx")), nil, nil, false, ""},
		{"legacy_annotation", ingress("a", "x", "", legacy("nginx")), nil, nil, false, "annotation kubernetes.io/ingress.class"},
		{"legacy_annotation_of_another_class", ingress("a", "x", "", legacy("internal")), nil, nil, false, ""},
		{"legacy_annotation_with_ingress_class_flag", ingress("a", "x", "", legacy("internal")), nil, []string{"--ingress-class", "internal"}, false, "annotation kubernetes.io/ingress.class"},
		{"classless_without_flag", ingress("a", "x", "", nil), nil, nil, false, ""},
		{"classless_with_flag", ingress("a", "x", "", nil), nil, []string{"--watch-ingress-without-class=true"}, true, "--watch-ingress-without-class"},
		{"classless_manifest_default_class", ingress("a", "x", "", nil), []*networkingv1.IngressClass{class("nginx", "k8s.io/ingress-nginx", true)}, nil, false, "default IngressClass"},
		{"classless_in_cluster_default_class", ingress("a", "x", "", nil), []*networkingv1.IngressClass{class("nginx", "k8s.io/ingress-nginx", true)}, nil, true, ""},
		{"other_namespace_than_watched", ingress("a", "x", "nginx", nil), nil, []string{"--watch-namespace=b"}, false, ""},
		{"custom_controller_class", ingress("a", "x", "internal", nil), []*networkingv1.IngressClass{class("internal", "example.com/internal", false)}, []string{"--controller-class=example.com/internal"}, false, "spec.ingressClassName"},
		{"class_by_name", ingress("a", "x", "internal", nil), []*networkingv1.IngressClass{class("internal", "example.com/other", false)}, []string{"--ingress-class=internal", "--ingress-class-by-name"}, false, "spec.ingressClassName"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			classes := append(c.classes, class("nginx", "k8s.io/ingress-nginx", false), class("traefik", "traefik.io/ingress-controller", false))
			classes = slices.CompactFunc(classes, func(a, b *networkingv1.IngressClass) bool { return a.Name == b.Name })
			r, err := migrate.Run(migrate.Objects{Ingresses: []*networkingv1.Ingress{c.ing}, IngressClasses: classes}, migrate.Options{Args: c.args, Admitted: c.admitted})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(r.Ingresses) == 1 {
				got = r.Ingresses[0].SelectedBy
			}
			if got != c.want {
				t.Errorf("selected by %q, want %q", got, c.want)
			}
		})
	}
}

// TestExitCodes: 0 when everything moves unchanged, 1 when something
// differs (an Ingress, a ConfigMap key, a flag), 2 when an Ingress cannot
// move.
func TestExitCodes(t *testing.T) {
	all := readTestdata(t)
	only := func(names ...string) migrate.Objects {
		o := all
		o.Workloads, o.ConfigMaps = nil, nil
		o.Ingresses = slices.DeleteFunc(slices.Clone(all.Ingresses), func(i *networkingv1.Ingress) bool {
			return !slices.Contains(names, i.Namespace+"/"+i.Name)
		})
		return o
	}
	differentFlag := ""
	for _, f := range nginx.Flags {
		if f.Status != nginx.Supported {
			differentFlag = "--" + f.Name + "=x"
			break
		}
	}
	cases := []struct {
		name string
		objs migrate.Objects
		args []string
		want int
	}{
		{"unchanged", only("shop/web", "blog/static"), nil, 0},
		{"an_ingress_differs", only("shop/web", "blog/blog"), nil, 1},
		{"a_flag_differs", only("shop/web"), []string{differentFlag}, 1},
		{"an_ingress_cannot_move", only("shop/web", "blog/blog", "legacy/admin"), nil, 2},
		{"everything", all, nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := migrate.Run(c.objs, migrate.Options{Args: c.args})
			if err != nil {
				t.Fatal(err)
			}
			if r.Summary.ExitCode != c.want {
				t.Errorf("exit status %d, want %d: %+v", r.Summary.ExitCode, c.want, r.Summary)
			}
		})
	}
}

// TestWrite writes the Ingresses for rukou: one file per namespace with
// rukou's IngressClass, only the class changed, the legacy annotation gone
// where it selected ingress-nginx, nothing the API server sets.
func TestWrite(t *testing.T) {
	objs := readTestdata(t)
	objs.Ingresses[0].ResourceVersion = "42"
	objs.Ingresses[0].Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	r, err := migrate.Run(objs, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := r.Write(dir, "rukou", "rukou.io/ingress-controller")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"blog.yaml", "legacy.yaml", "shop.yaml"}; !slices.Equal(baseNames(files), want) {
		t.Fatalf("wrote %v, want %v", baseNames(files), want)
	}
	originals := map[string]*networkingv1.Ingress{}
	for _, ing := range objs.Ingresses {
		originals[ing.Namespace+"/"+ing.Name] = ing
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, server := range []string{"status", "resourceVersion", "creationTimestamp", "192.0.2.1"} {
			if strings.Contains(string(data), server) {
				t.Errorf("%s holds %q", f, server)
			}
		}
		written, err := watcher.Decode(f, data)
		if err != nil {
			t.Fatal(err)
		}
		if ic, ok := written[0].(*networkingv1.IngressClass); !ok || ic.Name != "rukou" || ic.Spec.Controller != "rukou.io/ingress-controller" {
			t.Errorf("%s starts with %#v, want rukou's IngressClass", f, written[0])
		}
		for _, obj := range written[1:] {
			checkWritten(t, obj.(*networkingv1.Ingress), originals)
		}
	}
}

func checkWritten(t *testing.T, got *networkingv1.Ingress, originals map[string]*networkingv1.Ingress) {
	t.Helper()
	orig := originals[got.Namespace+"/"+got.Name].DeepCopy()
	if got.Spec.IngressClassName == nil || *got.Spec.IngressClassName != "rukou" {
		t.Errorf("%s/%s: class %v, want rukou", got.Namespace, got.Name, got.Spec.IngressClassName)
	}
	wantAnnotations := maps.Clone(orig.Annotations)
	delete(wantAnnotations, "kubernetes.io/ingress.class")
	if len(wantAnnotations) == 0 {
		wantAnnotations = nil
	}
	if !maps.Equal(got.Annotations, wantAnnotations) {
		t.Errorf("%s/%s: annotations %v, want %v", got.Namespace, got.Name, got.Annotations, wantAnnotations)
	}
	got.Spec.IngressClassName, orig.Spec.IngressClassName = nil, nil
	if !equality.Semantic.DeepEqual(got.Spec, orig.Spec) {
		t.Errorf("%s/%s: spec changed beyond the class:\n%v\n%v", got.Namespace, got.Name, got.Spec, orig.Spec)
	}
}

func baseNames(files []string) []string {
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(f))
	}
	return out
}

// TestSemantics: the differences an Ingress's spec makes, whatever its
// annotations, each on its field.
func TestSemantics(t *testing.T) {
	implementation, prefix := networkingv1.PathTypeImplementationSpecific, networkingv1.PathTypePrefix
	withPath := func(ing *networkingv1.Ingress, path string, pt *networkingv1.PathType) *networkingv1.Ingress {
		ing.Spec.Rules[0].HTTP = &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: pt}}}
		return ing
	}
	withHost := func(ing *networkingv1.Ingress, host string) *networkingv1.Ingress {
		ing.Spec.Rules[0].Host = host
		return ing
	}
	withTLS := func(ing *networkingv1.Ingress, hosts ...string) *networkingv1.Ingress {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "tls"}}
		return ing
	}
	regex := map[string]string{nginx.Prefix + "use-regex": "true"}
	cases := []struct {
		name  string
		ings  []*networkingv1.Ingress
		field string // "" when no difference
	}{
		{"implementation_specific_is_a_string_prefix_in_nginx", []*networkingv1.Ingress{withPath(ingress("a", "x", "nginx", nil), "/api", &implementation)}, "spec.rules[0].http.paths[0].path"},
		{"implementation_specific_ending_in_slash", []*networkingv1.Ingress{withPath(ingress("a", "x", "nginx", nil), "/api/", &implementation)}, ""},
		{"prefix_is_the_same", []*networkingv1.Ingress{withPath(ingress("a", "x", "nginx", nil), "/api", &prefix)}, ""},
		{"regex_mode_of_its_own", []*networkingv1.Ingress{withPath(ingress("a", "x", "nginx", regex), "/api", &implementation)}, ""},
		{"regex_mode_from_another_ingress_of_the_host", []*networkingv1.Ingress{
			withPath(ingress("a", "x", "nginx", nil), "/api", &implementation),
			withHost(ingress("b", "y", "nginx", regex), "x.example.com"),
		}, ""},
		{"wildcard_host", []*networkingv1.Ingress{withHost(ingress("a", "x", "nginx", nil), "*.example.com")}, "spec.rules[0].host"},
		{"host_without_tls_entry", []*networkingv1.Ingress{withTLS(ingress("a", "x", "nginx", nil), "other.example.com")}, "spec.rules[0].host"},
		{"host_named_by_tls_wildcard", []*networkingv1.Ingress{withTLS(ingress("a", "x", "nginx", nil), "*.example.com")}, ""},
		{"host_named_by_tls", []*networkingv1.Ingress{withTLS(ingress("a", "x", "nginx", nil), "x.example.com")}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := migrate.Objects{Ingresses: c.ings, IngressClasses: []*networkingv1.IngressClass{class("nginx", "k8s.io/ingress-nginx", false)}}
			r, err := migrate.Run(objs, migrate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := find(t, r, "a/x").Semantics
			switch {
			case c.field == "" && len(got) > 0:
				t.Errorf("differences %+v, want none", got)
			case c.field != "" && (len(got) != 1 || got[0].Field != c.field):
				t.Errorf("differences %+v, want one on %s", got, c.field)
			}
		})
	}
}
