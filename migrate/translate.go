package migrate

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/selfsigned"
	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/nginx"
)

// effects says what each reason of rukou's diagnostics does to a move.
// Reasons not named here make an Ingress differ.
var effects = map[translator.Reason]Outcome{
	// Part of the Ingress would not be served as ingress-nginx serves
	// it: its paths answer 503, or a path or host is dropped.
	"AuthenticationUnsupported":  CannotMove,
	"BackendProtocolUnsupported": CannotMove,
	"InvalidPath":                CannotMove,
	"InvalidHost":                CannotMove,
	"SnippetRefused":             CannotMove,
	// ingress-nginx does the same: a missing Service or port answers
	// 503, the older of two Ingresses keeps a path, a canary without a
	// primary and the default backend of a hostless Ingress serve
	// nothing.
	// A TLS host whose Secret is missing, invalid or for other hosts is
	// served with the default certificate and the redirect, as
	// ingress-nginx serves it.
	"SecretNotFound":       Unchanged,
	"InvalidSecret":        Unchanged,
	"CertificateMismatch":  Unchanged,
	"ServiceNotFound":      Unchanged,
	"ServicePortNotFound":  Unchanged,
	"PathConflict":         Unchanged,
	"CanaryUnused":         Unchanged,
	"DefaultBackendUnused": Unchanged,
}

// effectOf is what a diagnostic's reason does to a move.
func effectOf(r translator.Reason) Outcome {
	if o, ok := effects[r]; ok {
		return o
	}
	return Differs
}

// findConfigMap returns ingress-nginx's ConfigMap (NAMESPACE/NAME), nil
// when none is named or it is missing.
func findConfigMap(objs Objects, name string, warn func(string, ...any)) *corev1.ConfigMap {
	if name == "" {
		return nil
	}
	for _, cm := range objs.ConfigMaps {
		if cm.Namespace+"/"+cm.Name == name {
			return cm
		}
	}
	warn("ConfigMap %s not found: every key has its default (give --nginx-configmap, or add it to the manifests)", name)
	return nil
}

// translate runs rukou's translator on objs with ingress-nginx's Ingresses
// re-classed to rukou and its ConfigMap as rukou's --configmap, and with
// --enable-ssl-passthrough when ingress-nginx has it (passthrough). Ingresses
// already rukou's are translated too, so that a namespace moved earlier
// shows up in conflicts.
func translate(objs Objects, ings []Ingress, cm *corev1.ConfigMap, opts Options, passthrough bool) (*translator.Result, error) {
	topts := translator.DefaultOptions()
	topts.EnableSSLPassthrough = passthrough
	// rukou serve makes a default certificate at start, which TLS hosts
	// without a usable Secret get; so does the report, so that it
	// translates as rukou serve would.
	chain, key, err := selfsigned.Fake(time.Now())
	if err != nil {
		return nil, err
	}
	topts.GeneratedCertificate = &translator.KeyPair{Chain: chain, Key: key}
	if opts.IngressClass != "" {
		topts.IngressClass = opts.IngressClass
	}
	if opts.ControllerName != "" {
		topts.ControllerName = opts.ControllerName
	}
	in := translator.Input{Services: objs.Services, Secrets: objs.Secrets}
	if cm != nil {
		topts.ConfigMap = cm.Namespace + "/" + cm.Name
		in.ConfigMaps = []*corev1.ConfigMap{cm}
	}
	moved := map[*networkingv1.Ingress]bool{}
	for _, ing := range ings {
		moved[ing.source] = true
		in.Ingresses = append(in.Ingresses, reclass(ing, topts.IngressClass))
	}
	for _, ing := range objs.Ingresses {
		if !moved[ing] {
			in.Ingresses = append(in.Ingresses, ing)
		}
	}
	in.IngressClasses = withClass(objs.IngressClasses, RukouClass(topts.IngressClass, topts.ControllerName))
	return translator.Translate(in, topts)
}

// reclass returns the Ingress as it would be for rukou: only its class
// changes. The legacy annotation goes when it is what selected
// ingress-nginx, since the API server refuses an Ingress that has both.
func reclass(ing Ingress, class string) *networkingv1.Ingress {
	out := ing.source.DeepCopy()
	out.Spec.IngressClassName = &class
	if ing.legacy {
		delete(out.Annotations, legacyClassKey)
	}
	return out
}

// RukouClass is rukou's IngressClass.
func RukouClass(name, controller string) *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
}

// withClass adds ic to classes unless one of its name is there.
func withClass(classes []*networkingv1.IngressClass, ic *networkingv1.IngressClass) []*networkingv1.IngressClass {
	if slices.ContainsFunc(classes, func(c *networkingv1.IngressClass) bool { return c.Name == ic.Name }) {
		return classes
	}
	return append(slices.Clone(classes), ic)
}

// addDiagnostics files the translator's diagnostics on the Ingresses of
// the report. One on an annotation whose row already says it is refused or
// not supported adds nothing and is left out.
func (r *Report) addDiagnostics(diags []translator.Diagnostic) {
	index := map[string]*Ingress{}
	for i := range r.Ingresses {
		index[r.Ingresses[i].Namespace+"/"+r.Ingresses[i].Name] = &r.Ingresses[i]
	}
	for _, d := range diags {
		ing := index[d.Namespace+"/"+d.Name]
		if d.Kind != "Ingress" || ing == nil || ing.saysAlready(d) {
			continue
		}
		ing.Diagnostics = append(ing.Diagnostics, Diagnostic{Field: d.Field, Reason: d.Reason, Message: d.Message, Effect: effectOf(d.Reason)})
	}
}

// saysAlready reports whether d only says that an annotation is ignored,
// which its row already says.
func (ing *Ingress) saysAlready(d translator.Diagnostic) bool {
	if d.Reason != "AnnotationIgnored" && d.Reason != "SnippetRefused" {
		return false
	}
	key, ok := strings.CutPrefix(d.Field, "metadata.annotations[")
	if !ok {
		return false
	}
	key = strings.TrimSuffix(key, "]")
	i := slices.IndexFunc(ing.Annotations, func(s Setting) bool { return s.Name == key })
	return i >= 0 && (ing.Annotations[i].Verdict == Refused || ing.Annotations[i].Verdict == NotSupported)
}

// configMapSettings judges each key of the ConfigMap. A key the translator
// could not use as written (a bad value) differs, with its message.
func configMapSettings(cm *corev1.ConfigMap, diags []translator.Diagnostic) []Setting {
	out := []Setting{}
	if cm == nil {
		return out
	}
	invalid := map[string]string{}
	for _, d := range diags {
		if d.Kind == "ConfigMap" && d.Reason == "InvalidConfigValue" {
			invalid[d.Field] = d.Message
		}
	}
	for key, value := range cm.Data {
		v, note := keyVerdict(key)
		if msg, bad := invalid[nginx.KeyField(key)]; bad && (v == Same || v == Different) {
			v, note = Different, msg
		}
		out = append(out, Setting{Name: key, Value: value, Verdict: v, Note: note})
	}
	slices.SortFunc(out, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
	return out
}
