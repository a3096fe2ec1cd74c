package translator_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers keeps each package to what its doc comment says it may import:
// the routing model knows neither Kubernetes nor Envoy, the annotations know
// no Kubernetes object, the Envoy backend knows no frontend, and the
// packages around the translator import only the part they use.
func TestLayers(t *testing.T) {
	const mod = "github.com/rukou/rukou/"
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"translator/ir", []string{"k8s.io/", "github.com/envoyproxy/", "google.golang.org/protobuf", mod}},
		{"translator/nginx", []string{"k8s.io/api/", "github.com/envoyproxy/", "google.golang.org/protobuf", mod + "translator/ingress", mod + "translator/envoy"}},
		{"translator/envoy", []string{"k8s.io/", mod + "translator/ingress", mod + "translator/nginx"}},
		{"translator/ingress", []string{"github.com/envoyproxy/", "google.golang.org/protobuf", mod + "translator/envoy"}},
		{"limiter", []string{mod + "translator"}},
		{"envoy", []string{mod + "translator"}},
		{"watcher", []string{"github.com/envoyproxy/", mod + "translator/envoy"}},
		{"status", []string{"github.com/envoyproxy/", mod + "translator/envoy"}},
		{"xds", []string{"k8s.io/api/", mod + "translator/ingress", mod + "translator/nginx"}},
		{"migrate", []string{mod + "xds", mod + "status", mod + "watcher", mod + "cmd"}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.pkg, "/", "_"), func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+c.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 2 {
				t.Fatalf("go list found no dependencies of %s: %q", c.pkg, out)
			}
			for _, dep := range deps {
				if dep == mod+c.pkg {
					continue
				}
				for _, f := range c.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", c.pkg, dep)
					}
				}
			}
		})
	}
}
