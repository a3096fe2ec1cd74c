package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/test/harness"
)

// stack is rukou in file mode with an Envoy, for tests that write manifests.
type stack struct {
	dir   string
	rukou *harness.Rukou
	envoy *harness.Envoy
}

func startStack(t *testing.T, mode string) *stack {
	t.Helper()
	return startStackWith(t, harness.EnvoyOptions{Mode: mode})
}

// startStackWith is startStack with Envoy's options (more bootstrap flags).
func startStackWith(t *testing.T, o harness.EnvoyOptions) *stack {
	t.Helper()
	s := &stack{dir: t.TempDir()}
	s.rukou = harness.StartRukou(t, "--watch-dir", s.dir)
	s.envoy = harness.StartEnvoyWith(t, s.rukou.XDSAddress, o)
	return s
}

// apply writes objs as the manifest file name (replacing it).
func (s *stack) apply(t *testing.T, name string, objs ...runtime.Object) {
	t.Helper()
	writeManifest(t, filepath.Join(s.dir, name+".yaml"), toYAML(t, objs...))
}

// remove deletes the manifest file name.
func (s *stack) remove(t *testing.T, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(s.dir, name+".yaml")); err != nil {
		t.Fatal(err)
	}
}

// expect waits until host+path answers status from backend ("" for none).
func (s *stack) expect(t *testing.T, host, path string, status int, backend string) harness.Response {
	t.Helper()
	return harness.ExpectRoute(t, s.rukou.HTTPPort, host, path, status, backend)
}

func toYAML(t *testing.T, objs ...runtime.Object) string {
	t.Helper()
	var docs []string
	for _, obj := range objs {
		gvks, _, err := scheme.Scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return strings.Join(docs, "---\n")
}

const ns = "default"

// ingress is an Ingress of class rukou (by ingressClassName; the stack's
// manifests carry no IngressClass unless a test adds one, so the legacy
// annotation is used by default).
func ingress(name string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{"kubernetes.io/ingress.class": "rukou"}},
		Spec:       networkingv1.IngressSpec{Rules: rules},
	}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths},
	}}
}

func path(typ networkingv1.PathType, p, service string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &typ, Backend: serviceBackend(service)}
}

func serviceBackend(service string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: service, Port: networkingv1.ServiceBackendPort{Number: 80},
	}}
}

const (
	prefix = networkingv1.PathTypePrefix
	exact  = networkingv1.PathTypeExact
	implSp = networkingv1.PathTypeImplementationSpecific
)

// created sets an Ingress's creationTimestamp, which decides conflicts.
func created(ing *networkingv1.Ingress, minutesAgo int) *networkingv1.Ingress {
	ing.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Add(-time.Duration(minutesAgo) * time.Minute))
	return ing
}

// backend starts an echo backend named name and returns its Service (port 80,
// named "http") and an EndpointSlice pointing at it.
func backend(t *testing.T, name string) []runtime.Object {
	t.Helper()
	return serviceWith(name, endpoint(harness.StartBackend(t, name), true, nil))
}

type ep struct {
	port               int
	ready              bool
	serving, terminate *bool
}

func endpoint(port int, ready bool, terminating *bool) ep {
	e := ep{port: port, ready: ready}
	if terminating != nil {
		e.terminate, e.serving = terminating, ptr(true)
	}
	return e
}

// serviceWith is a Service with one EndpointSlice per endpoint (each
// endpoint has its own port on 127.0.0.1, so one slice each).
func serviceWith(name string, eps ...ep) []runtime.Object {
	objs := []runtime.Object{&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}}
	for i, e := range eps {
		objs = append(objs, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(e.port))}},
			Endpoints: []discoveryv1.Endpoint{{
				Addresses:  []string{"127.0.0.1"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(e.ready), Serving: e.serving, Terminating: e.terminate},
			}},
		})
	}
	return objs
}

func join(groups ...[]runtime.Object) []runtime.Object {
	var out []runtime.Object
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func objs(o ...runtime.Object) []runtime.Object { return o }

// harnessBackend starts an echo backend and returns its port.
func harnessBackend(t *testing.T, name string) int { return harness.StartBackend(t, name) }

// getOnce sends one request through the stack's Envoy and returns the name
// of the backend that answered.
func getOnce(s *stack, host, path string) (string, error) {
	r, err := harness.Get(s.rukou.HTTPPort, host, path)
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusOK {
		return "", fmt.Errorf("GET %s%s: status %d", host, path, r.Status)
	}
	return r.Backend, nil
}

// sendEcho sends req once and decodes the echo backend's answer.
func sendEcho(t *testing.T, req *http.Request) harness.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r harness.Response
	r.Status, r.Header = resp.StatusCode, resp.Header
	if err := json.NewDecoder(resp.Body).Decode(&r.Echo); err != nil {
		t.Fatalf("%s %s: status %d, not an echo answer: %v", req.Method, req.URL, resp.StatusCode, err)
	}
	r.Backend = r.Echo.Backend
	return r
}

// waitDiagnostic waits until rukou's /debug/config reports a diagnostic on
// the Ingress (namespace/name) with reason, whose message mentions mention.
func waitDiagnostic(t *testing.T, s *stack, ingress, reason, mention string) {
	t.Helper()
	harness.Eventually(t, 10*time.Second, fmt.Sprintf("diagnostic %s on %s", reason, ingress), func() error {
		body, err := s.rukou.Debug("/debug/config")
		if err != nil {
			return err
		}
		var dump struct {
			Diagnostics []struct {
				Namespace, Name, Reason, Message string
			}
		}
		if err := json.Unmarshal([]byte(body), &dump); err != nil {
			return err
		}
		for _, d := range dump.Diagnostics {
			if d.Namespace+"/"+d.Name == ingress && d.Reason == reason && strings.Contains(d.Message, mention) {
				return nil
			}
		}
		return fmt.Errorf("not among %+v", dump.Diagnostics)
	})
}
