package migrate

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/nginx"
)

// TestParseArgs reads a command line as pflag does.
func TestParseArgs(t *testing.T) {
	got := parseArgs([]string{"--configmap=ns/cm", "--ingress-class", "internal", "--enable-ssl-passthrough", "-v=2", "stray", "--watch-ingress-without-class=true"})
	want := []arg{{"configmap", "ns/cm"}, {"ingress-class", "internal"}, {"enable-ssl-passthrough", "true"}, {"v", "2"}, {"watch-ingress-without-class", "true"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestContainerArgs finds the controller's container in a pod with a
// sidecar, takes the words after the binary, and expands $(POD_NAMESPACE)
// and literal variables as the kubelet does.
func TestContainerArgs(t *testing.T) {
	w := Workload{Kind: "DaemonSet", Namespace: "edge", Name: "nginx", Pod: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "sidecar", Args: []string{"--configmap=wrong/one"}},
		{
			Name:    "controller",
			Command: []string{"/usr/bin/dumb-init", "--", "/nginx-ingress-controller"},
			Args:    []string{"--configmap=$(POD_NAMESPACE)/$(NAME)", "--publish-service=$(UNSET)/svc"},
			Env: []corev1.EnvVar{
				{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				{Name: "NAME", Value: "nginx-config"},
			},
		},
	}}}
	got := containerArgs(w)
	want := []string{"--configmap=edge/nginx-config", "--publish-service=$(UNSET)/svc"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	var warnings []string
	c := newController([]Workload{w, w}, Options{}, func(f string, _ ...any) { warnings = append(warnings, f) })
	if c.ConfigMap != "edge/nginx-config" || c.Source != "DaemonSet edge/nginx" || len(warnings) != 1 {
		t.Errorf("controller %+v, warnings %v; want the first DaemonSet and a warning about the second", c, warnings)
	}
}

// TestEffectsNameTranslatorReasons keeps the classification of
// diagnostics to reasons the translator has.
func TestEffectsNameTranslatorReasons(t *testing.T) {
	for r := range effects {
		if !slices.Contains(translator.Reasons(), r) {
			t.Errorf("effects names %q, which is not a translator reason", r)
		}
	}
}

// TestSSLPassthroughFollowsTheFlag: the report translates with
// --enable-ssl-passthrough when ingress-nginx has it (rukou serve takes it
// as it is), so an Ingress with ssl-passthrough is not reported as
// ignored for want of the flag; without it, it is.
func TestSSLPassthroughFollowsTheFlag(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "vault", Annotations: map[string]string{nginx.Prefix + "ssl-passthrough": "true"}},
		Spec:       networkingv1.IngressSpec{IngressClassName: new("nginx"), Rules: []networkingv1.IngressRule{{Host: "vault.example.com"}}},
	}
	classes := []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}}
	for _, c := range []struct {
		args        []string
		wantFlagMsg bool
	}{{nil, true}, {[]string{"--enable-ssl-passthrough"}, false}} {
		r, err := Run(Objects{Ingresses: []*networkingv1.Ingress{ing}, IngressClasses: classes}, Options{Args: c.args})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, ri := range r.Ingresses {
			for _, d := range ri.Diagnostics {
				got = got || strings.Contains(d.Message, "without --enable-ssl-passthrough")
			}
		}
		if got != c.wantFlagMsg {
			t.Errorf("args %v: reported for want of the flag %t, want %t", c.args, got, c.wantFlagMsg)
		}
	}
}
