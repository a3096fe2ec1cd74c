package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// Manifest is deploy/rukou.yaml decoded into typed objects, in file order.
type Manifest struct {
	Path    string
	Objects []runtime.Object
}

// LoadManifest decodes deploy/rukou.yaml, failing the test on any object
// that client-go does not know.
func LoadManifest(t testing.TB) *Manifest {
	t.Helper()
	return LoadManifestFile(t, "rukou.yaml")
}

// LoadManifestFile decodes the file name of deploy/ as LoadManifest does.
func LoadManifestFile(t testing.TB, name string) *Manifest {
	t.Helper()
	path := filepath.Join(Root(t), "deploy", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Path: path}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", path, err, doc)
		}
		m.Objects = append(m.Objects, obj)
	}
	return m
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}

// Find returns the object of the manifest with that kind (as in the YAML)
// and name, or fails the test.
func Find[T runtime.Object](t testing.TB, m *Manifest, name string) T {
	t.Helper()
	for _, o := range m.Objects {
		if typed, ok := o.(T); ok {
			if acc, ok := o.(metav1.Object); ok && acc.GetName() == name {
				return typed
			}
		}
	}
	var zero T
	t.Fatalf("%s has no %T named %q", m.Path, zero, name)
	return zero
}

// Deployment finds a Deployment by name.
func (m *Manifest) Deployment(t testing.TB, name string) *appsv1.Deployment {
	return Find[*appsv1.Deployment](t, m, name)
}

// DaemonSet finds a DaemonSet by name.
func (m *Manifest) DaemonSet(t testing.TB, name string) *appsv1.DaemonSet {
	return Find[*appsv1.DaemonSet](t, m, name)
}

// Job finds a Job by name.
func (m *Manifest) Job(t testing.TB, name string) *batchv1.Job { return Find[*batchv1.Job](t, m, name) }

// Service finds a Service by name.
func (m *Manifest) Service(t testing.TB, name string) *corev1.Service {
	return Find[*corev1.Service](t, m, name)
}

// Container returns the container (or init container) of spec with that
// name, or fails the test.
func Container(t testing.TB, spec *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
	}
	t.Fatalf("pod spec has no container %q", name)
	return nil
}

// Flag returns the value of --name in args, as --name=value or --name value.
func Flag(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := cutFlag(a, name); ok {
			return v, true
		}
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func cutFlag(arg, name string) (string, bool) {
	if len(arg) > len(name) && arg[:len(name)] == name && arg[len(name)] == '=' {
		return arg[len(name)+1:], true
	}
	return "", false
}

// HasFlag reports whether args hold --name, with or without a value.
func HasFlag(args []string, name string) bool {
	_, ok := Flag(args, name)
	for _, a := range args {
		ok = ok || a == name
	}
	return ok
}

// CommandLine describes a container's command line, for failure messages.
func CommandLine(c *corev1.Container) string {
	return fmt.Sprintf("%s %q %q", c.Name, c.Command, c.Args)
}

// ConfigMap returns the manifest's ConfigMap name.
func (m *Manifest) ConfigMap(t testing.TB, name string) *corev1.ConfigMap {
	return Find[*corev1.ConfigMap](t, m, name)
}
