package envoy_test

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/translator/envoy"
	"github.com/rukou/rukou/translator/internal/golden"
	"github.com/rukou/rukou/translator/ir"
)

// TestGolden is the backend's step: each routing model in
// translator/testdata/ir (the frontend's golden output) gives the Envoy
// resources and diagnostics in testdata/out, as `rukou translate -o yaml`
// prints them. `go test ./translator/envoy -update` rewrites them.
func TestGolden(t *testing.T) {
	golden.Run(t, filepath.Join("..", "testdata"), "ir", "out", func(t *testing.T, file string) []byte {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cfg ir.Config
		if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
		res := envoy.Render(&cfg)
		if err := res.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		dump, err := envoy.NewDump(res, cfg.Diagnostics)
		if err != nil {
			t.Fatalf("NewDump: %v", err)
		}
		out, err := dump.YAML()
		if err != nil {
			t.Fatalf("Dump.YAML: %v", err)
		}
		return out
	})
}
