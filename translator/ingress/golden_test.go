package ingress_test

import (
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/internal/golden"
	"github.com/rukou/rukou/watcher"
)

// TestGolden is the frontend's step: each Kubernetes manifest in
// translator/testdata/in gives the routing model in testdata/ir, printed
// as YAML, with --configmap default/rukou, --tcp-services-configmap
// default/tcp-services and --udp-services-configmap default/udp-services.
// `go test ./translator/ingress -update` rewrites the models; review the
// diff as code. The Envoy backend's golden test reads them.
func TestGolden(t *testing.T) {
	golden.Run(t, filepath.Join("..", "testdata"), "in", "ir", func(t *testing.T, file string) []byte {
		objs, err := watcher.ReadPaths([]string{file})
		if err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
		store := watcher.NewStore()
		store.Replace(watcher.DirSource, objs)
		opts := translator.DefaultOptions()
		// The controller's ConfigMap, in the cases that have one.
		opts.ConfigMap = "default/rukou"
		opts.TCPServices, opts.UDPServices = "default/tcp-services", "default/udp-services"
		res, err := translator.Translate(store.Input(), opts)
		if err != nil {
			t.Fatalf("Translate: %v", err)
		}
		out, err := yaml.Marshal(res.Config)
		if err != nil {
			t.Fatalf("printing the model: %v", err)
		}
		return out
	})
}
