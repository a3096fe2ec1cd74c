package ingress_test

// Constructors for the objects the semantic tests feed to Build, and a
// compact text form of the routing model that tables can compare.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/ingress"
)

const (
	ourController   = "rukou.io/ingress-controller"
	otherController = "k8s.io/ingress-nginx"
)

// epoch is the creation time of ingresses made without createdAt.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ingressOpt changes an Ingress made by ing.
type ingressOpt func(*networkingv1.Ingress)

// ing makes an Ingress in namespace "default" whose ingressClassName is
// "rukou", the class the runner adds when a case brings none of its own.
func ing(name string, opts ...ingressOpt) *networkingv1.Ingress {
	class := "rukou"
	o := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(epoch)},
		Spec:       networkingv1.IngressSpec{IngressClassName: &class},
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// namespace puts the Ingress in ns.
func namespace(ns string) ingressOpt {
	return func(o *networkingv1.Ingress) { o.Namespace = ns }
}

// createdAt sets the creation time to minutes after epoch: smaller is older.
func createdAt(minutes int) ingressOpt {
	return func(o *networkingv1.Ingress) {
		o.CreationTimestamp = metav1.NewTime(epoch.Add(time.Duration(minutes) * time.Minute))
	}
}

// className sets spec.ingressClassName; "" removes it.
func className(name string) ingressOpt {
	return func(o *networkingv1.Ingress) {
		o.Spec.IngressClassName = nil
		if name != "" {
			o.Spec.IngressClassName = &name
		}
	}
}

// annotate sets one annotation.
func annotate(key, value string) ingressOpt {
	return func(o *networkingv1.Ingress) { metav1.SetMetaDataAnnotation(&o.ObjectMeta, key, value) }
}

// rule adds a rule for host ("" for a hostless rule) with paths; with no
// paths the rule has no http section at all.
func rule(host string, paths ...networkingv1.HTTPIngressPath) ingressOpt {
	return func(o *networkingv1.Ingress) {
		r := networkingv1.IngressRule{Host: host}
		if len(paths) > 0 {
			r.HTTP = &networkingv1.HTTPIngressRuleValue{Paths: paths}
		}
		o.Spec.Rules = append(o.Spec.Rules, r)
	}
}

// defaultBackend sets spec.defaultBackend.
func defaultBackend(b networkingv1.IngressBackend) ingressOpt {
	return func(o *networkingv1.Ingress) { o.Spec.DefaultBackend = &b }
}

// Path types as the tables write them; noType leaves pathType unset.
const (
	exact    = networkingv1.PathTypeExact
	prefix   = networkingv1.PathTypePrefix
	implSpec = networkingv1.PathTypeImplementationSpecific
	noType   = networkingv1.PathType("")
)

// path makes one HTTP path rule.
func path(typ networkingv1.PathType, p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	out := networkingv1.HTTPIngressPath{Path: p, Backend: b}
	if typ != noType {
		out.PathType = &typ
	}
	return out
}

// svc is a backend that names a Service port by number (an int) or by name
// (a string).
func svc(name string, port any) networkingv1.IngressBackend {
	ref := &networkingv1.IngressServiceBackend{Name: name}
	switch p := port.(type) {
	case int:
		ref.Port.Number = int32(p)
	case string:
		ref.Port.Name = p
	default:
		panic(fmt.Sprintf("svc %q: port must be an int or a string, not %T", name, port))
	}
	return networkingv1.IngressBackend{Service: ref}
}

// resource is a backend that names an object instead of a Service.
func resource(kind, name string) networkingv1.IngressBackend {
	group := "example.com"
	return networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: kind, Name: name}}
}

// ingressClass makes an IngressClass for controller, marked as the default
// class when isDefault.
func ingressClass(name, controller string, isDefault bool) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	if isDefault {
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, "ingressclass.kubernetes.io/is-default-class", "true")
	}
	return c
}

// service makes a Service in namespace "default" with ports.
func service(name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{Ports: ports},
	}
}

// servicePort is one Service port; name may be "" for a single-port Service.
func servicePort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port}
}

// endpointSlice makes an IPv4 EndpointSlice of service in namespace
// "default" with one port (name, target port) and endpoints.
func endpointSlice(name, service, portName string, target int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &target}},
		Endpoints:   eps,
	}
}

// Endpoint states, as the endpoint helper takes them.
const (
	ready       = "ready"       // ready (and serving)
	terminating = "terminating" // serving while terminating, not ready
	gone        = "gone"        // terminating and no longer serving
	notReady    = "notReady"    // neither ready nor serving, not terminating
	unknown     = "unknown"     // no conditions at all
)

// endpoint makes one endpoint in state with addrs.
func endpoint(state string, addrs ...string) discoveryv1.Endpoint {
	t, f := true, false
	var c discoveryv1.EndpointConditions
	switch state {
	case ready:
		c = discoveryv1.EndpointConditions{Ready: &t, Serving: &t, Terminating: &f}
	case terminating:
		c = discoveryv1.EndpointConditions{Ready: &f, Serving: &t, Terminating: &t}
	case gone:
		c = discoveryv1.EndpointConditions{Ready: &f, Serving: &f, Terminating: &t}
	case notReady:
		c = discoveryv1.EndpointConditions{Ready: &f, Serving: &f, Terminating: &f}
	case unknown:
	default:
		panic("unknown endpoint state " + state)
	}
	return discoveryv1.Endpoint{Addresses: addrs, Conditions: c}
}

// services makes a Service with one port ("http", 80) for each name.
func services(names ...string) []runtime.Object {
	out := make([]runtime.Object, 0, len(names))
	for _, name := range names {
		out = append(out, service(name, servicePort("http", 80)))
	}
	return out
}

// objects flattens runtime.Objects and lists of them into one list.
func objects(items ...any) []runtime.Object {
	var out []runtime.Object
	for _, item := range items {
		switch o := item.(type) {
		case runtime.Object:
			out = append(out, o)
		case []runtime.Object:
			out = append(out, o...)
		default:
			panic(fmt.Sprintf("objects: unexpected %T", item))
		}
	}
	return out
}

// modified returns obj after change, for the odd field no constructor sets.
func modified[T any](obj T, change func(T)) T {
	change(obj)
	return obj
}

// input sorts objs into a translator.Input by kind, keeping their order
// within a kind. (watcher.Store.Input would also sort them by name, which
// would hide from TestTranslateIsDeterministic the orders it shuffles.)
func input(objs ...runtime.Object) translator.Input {
	var in translator.Input
	for _, obj := range objs {
		if !in.Add(obj) {
			panic(fmt.Sprintf("input: unexpected %T", obj))
		}
	}
	return in
}

// modelLines renders the virtual hosts of m, one line per host and one
// indented line per route, in order:
//
//	example.com
//	  Prefix /api -> default/api/80 (default/web)
//	  Prefix / -> 503 (default/web) hostless
//	  Prefix / -> default/fallback/80 (default/catch-all) default
func modelLines(m *ingress.Model) []string {
	var out []string
	for _, vh := range m.VirtualHosts {
		switch {
		case vh.RedirectTo != "":
			out = append(out, fmt.Sprintf("%s -> 308 %s (%s)", vh.Host, vh.RedirectTo, vh.Source))
		case vh.AppRoot != "":
			out = append(out, fmt.Sprintf("%s app-root %s (%s)", vh.Host, vh.AppRoot, vh.Source))
		default:
			out = append(out, vh.Host)
		}
		for _, r := range vh.Routes {
			target := r.Backend
			if r.DirectStatus != 0 {
				target = fmt.Sprint(r.DirectStatus)
			}
			line := fmt.Sprintf("  %s %s -> %s (%s)", r.Match, r.Path, target, r.Source)
			if r.FromHostless {
				line += " hostless"
			}
			if r.Default {
				line += " default"
			}
			out = append(out, line+annotationNotes(r))
		}
	}
	return out
}

// annotationNotes renders what annotations add to a route, in a fixed
// order: " rewrite /$2", " redirect 301 https://example.org/",
// " canary default/b/80 header=x cookie=c weight=20/100", " force-https",
// " no-https-redirect", " policy".
func annotationNotes(r *ingress.Route) string {
	var b strings.Builder
	if rw := r.Rewrite; rw != nil {
		fmt.Fprintf(&b, " rewrite %s", rw.Target)
	}
	if rd := r.Redirect; rd != nil {
		fmt.Fprintf(&b, " redirect %d %s", rd.Code, rd.Location())
	}
	if c := r.Canary; c != nil {
		fmt.Fprintf(&b, " canary %s", c.Backend)
		for _, kv := range [][2]string{{"header", c.Header}, {"value", c.HeaderValue}, {"pattern", c.HeaderPattern}, {"cookie", c.Cookie}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
			}
		}
		fmt.Fprintf(&b, " weight=%d/%d (%s)", c.Weight, c.WeightTotal, c.Source)
	}
	if r.ForceSSLRedirect {
		b.WriteString(" force-https")
	}
	if r.NoSSLRedirect {
		b.WriteString(" no-https-redirect")
	}
	if r.Policy != nil {
		b.WriteString(" policy")
	}
	return b.String()
}

// backendLines renders each backend as "name -> address:port ...", with
// "-> none" for a backend without endpoints.
func backendLines(m *ingress.Model) []string {
	var out []string
	for _, be := range m.Backends {
		eps := []string{}
		for _, ep := range be.Endpoints {
			eps = append(eps, fmt.Sprintf("%s:%d", ep.Address, ep.Port))
		}
		if len(eps) == 0 {
			eps = append(eps, "none")
		}
		out = append(out, be.Name+" -> "+strings.Join(eps, " "))
	}
	return out
}

// diagLines renders diagnostics as "Reason namespace/name", in order.
func diagLines(diags []translator.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		out = append(out, fmt.Sprintf("%s %s/%s", d.Reason, d.Namespace, d.Name))
	}
	return out
}

// translateDump translates in with the default options, checks the
// resources with Validate, and returns their printable dump.
func translateDump(t *testing.T, in translator.Input) *translator.Dump {
	t.Helper()
	res, err := translator.Translate(in, translator.DefaultOptions())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if err := res.Resources.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	dump, err := translator.NewDump(res.Resources, res.Diagnostics)
	if err != nil {
		t.Fatalf("NewDump: %v", err)
	}
	return dump
}

// buildCase is one semantic test of Build.
type buildCase struct {
	name string
	objs []runtime.Object
	opts func(*translator.Options)
	// model is what modelLines renders; nil means no virtual host.
	model []string
	// backends, when not nil, is what backendLines renders.
	backends []string
	// diags is what diagLines renders; nil means no diagnostic.
	diags []string
	// messages must each appear in some diagnostic's message.
	messages []string
}

// runBuildCases runs Build for each case with DefaultOptions changed by the
// case's opts. A case without an IngressClass of its own gets the class
// "rukou" of our controller, which ing's Ingresses name.
func runBuildCases(t *testing.T, cases []buildCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := c.objs
			if !slices.ContainsFunc(objs, func(o runtime.Object) bool { _, ok := o.(*networkingv1.IngressClass); return ok }) {
				objs = append([]runtime.Object{ingressClass("rukou", ourController, false)}, objs...)
			}
			opts := translator.DefaultOptions()
			if c.opts != nil {
				c.opts(&opts)
			}
			m, diags := ingress.Build(input(objs...), opts)
			checkModel(t, m)
			// Whatever the input, the Envoy resources must pass Envoy's own
			// validation: one bad rule must never fail the whole translation.
			if _, err := translator.Translate(input(objs...), opts); err != nil {
				t.Errorf("Translate: %v", err)
			}
			if got := modelLines(m); !slices.Equal(got, c.model) {
				t.Errorf("model:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.model, "\n"))
			}
			if got := backendLines(m); c.backends != nil && !slices.Equal(got, c.backends) {
				t.Errorf("backends:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.backends, "\n"))
			}
			if got := diagLines(diags); !slices.Equal(got, c.diags) {
				t.Errorf("diagnostics: %q, want %q\n%v", got, c.diags, diags)
			}
			for _, msg := range c.messages {
				if !slices.ContainsFunc(diags, func(d translator.Diagnostic) bool { return strings.Contains(d.Message, msg) }) {
					t.Errorf("no diagnostic message contains %q: %v", msg, diags)
				}
			}
		})
	}
}

// checkModel checks what holds for every model: routes point at a backend
// of the model or answer directly, every backend is used by some route (a
// cluster nobody routes to is clutter Envoy still connects to), backends
// are sorted by name and hosts are sorted with WildcardHost last.
func checkModel(t *testing.T, m *ingress.Model) {
	t.Helper()
	backends := map[string]bool{}
	for i, be := range m.Backends {
		backends[be.Name] = false
		if want := fmt.Sprintf("%s/%s/%d", be.Namespace, be.Service, be.Port); be.Name != want && !strings.HasPrefix(be.Name, want+"/") {
			t.Errorf("backend %q is named for %q", be.Name, want)
		}
		if i > 0 && m.Backends[i-1].Name >= be.Name {
			t.Errorf("backends not sorted by name: %q before %q", m.Backends[i-1].Name, be.Name)
		}
	}
	for i, vh := range m.VirtualHosts {
		if vh.Host == ingress.WildcardHost && i != len(m.VirtualHosts)-1 {
			t.Errorf("virtual host %q is not last", vh.Host)
		}
		if i > 0 && vh.Host != ingress.WildcardHost && m.VirtualHosts[i-1].Host >= vh.Host {
			t.Errorf("virtual hosts not sorted: %q before %q", m.VirtualHosts[i-1].Host, vh.Host)
		}
		for _, r := range vh.Routes {
			switch {
			case r.DirectStatus != 0 && r.Backend != "":
				t.Errorf("host %q route %s %s has both a backend and a direct status", vh.Host, r.Match, r.Path)
			case r.DirectStatus == 0 && r.Redirect == nil:
				if _, ok := backends[r.Backend]; !ok {
					t.Errorf("host %q route %s %s points at %q, which is not a backend of the model", vh.Host, r.Match, r.Path, r.Backend)
				}
				backends[r.Backend] = true
			}
			if c := r.Canary; c != nil {
				if _, ok := backends[c.Backend]; !ok {
					t.Errorf("host %q route %s %s has canary %q, which is not a backend of the model", vh.Host, r.Match, r.Path, c.Backend)
				}
				backends[c.Backend] = true
			}
			if tls := r.BackendOverTLS; tls != "" {
				if _, ok := backends[tls]; !ok {
					t.Errorf("host %q route %s %s has backend over TLS %q, which is not a backend of the model", vh.Host, r.Match, r.Path, tls)
				}
				backends[tls] = true
			}
		}
	}
	for name, used := range backends {
		if !used {
			t.Errorf("backend %q is not used by any route", name)
		}
	}
}
