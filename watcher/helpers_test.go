package watcher_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/watcher"
)

// keyString renders an object's store key as "Kind namespace/name", or
// "Kind name" for a cluster-scoped object.
func keyString(obj runtime.Object) string {
	key, ok := watcher.KeyOf(obj)
	if !ok {
		return fmt.Sprintf("unwatched %T", obj)
	}
	if key.Namespace == "" {
		return key.Kind + " " + key.Name
	}
	return key.Kind + " " + key.Namespace + "/" + key.Name
}

// keyStrings renders each object with keyString, in order.
func keyStrings[T runtime.Object](objs []T) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, keyString(o))
	}
	return out
}

// inputKeys lists what a translation of in would read, kind by kind.
func inputKeys(in ingress.Input) []string {
	return slices.Concat(
		keyStrings(in.Ingresses),
		keyStrings(in.IngressClasses),
		keyStrings(in.Services),
		keyStrings(in.EndpointSlices),
		keyStrings(in.Secrets),
		keyStrings(in.ConfigMaps),
	)
}

// equalKeys reports a difference between got and want as a test error.
func equalKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n  got  %q\n  want %q", what, got, want)
	}
}

// serviceDoc is the YAML of a Service with one port.
func serviceDoc(name string, port int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n  ports:\n  - port: %d\n", name, port)
}

// svcObject is a Service object for the store.
func svcObject(namespace, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
}

// writeFile writes content to dir/name with the modification time mtime,
// so that a rewrite is always seen as a change, however coarse the file
// system's clock.
func writeFile(t *testing.T, dir, name, content string, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

// joinDocs joins YAML documents with "---" lines.
func joinDocs(docs ...string) string {
	return strings.Join(docs, "---\n")
}
