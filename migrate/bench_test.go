package migrate_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rukou/rukou/migrate"
	"github.com/rukou/rukou/watcher"
)

// benchIngresses is the size of the cluster the benchmarks report on.
const benchIngresses = 1000

// benchManifests writes ingress-nginx's testdata and 1,000 more Ingresses
// (50 namespaces, each Ingress with its Service, two paths and a few
// annotations, a tenth with TLS) as one file, as a user's dump of a
// cluster would be.
func benchManifests(b *testing.B) string {
	dir := b.TempDir()
	var m strings.Builder
	annotations := []string{"proxy-body-size: 8m", "proxy-read-timeout: \"120\"", "ssl-redirect: \"false\"", "enable-cors: \"true\"", "limit-rps: \"20\"", "configuration-snippet: 'more_set_headers \"X: y\";'"}
	for i := range benchIngresses {
		ns := fmt.Sprintf("team-%02d", i%50)
		fmt.Fprintf(&m, "---\napiVersion: v1\nkind: Service\nmetadata: {name: app-%d, namespace: %s}\nspec:\n  ports: [{name: http, port: 80}]\n", i, ns)
		fmt.Fprintf(&m, "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app-%d\n  namespace: %s\n  annotations:\n    nginx.ingress.kubernetes.io/%s\n    nginx.ingress.kubernetes.io/%s\n", i, ns, annotations[i%len(annotations)], annotations[(i+1)%len(annotations)])
		fmt.Fprintf(&m, "spec:\n  ingressClassName: nginx\n")
		if i%10 == 0 {
			fmt.Fprintf(&m, "  tls: [{hosts: [app-%d.example.com], secretName: app-%d-tls}]\n", i, i)
		}
		fmt.Fprintf(&m, "  rules:\n  - host: app-%d.example.com\n    http:\n      paths:\n", i)
		for _, p := range []string{"/", "/api"} {
			fmt.Fprintf(&m, "      - {path: %s, pathType: Prefix, backend: {service: {name: app-%d, port: {number: 80}}}}\n", p, i)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte(m.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	controller, err := os.ReadFile(filepath.Join("testdata", "cluster", "controller.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "controller.yaml"), controller, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkMigrate1000 is rukou migrate -f on 1,000 Ingresses: reading
// the manifests, the report (with the translation) and its table.
func BenchmarkMigrate1000(b *testing.B) {
	dir := benchManifests(b)
	for b.Loop() {
		objs, err := watcher.ReadPaths([]string{dir}, workloadKinds...)
		if err != nil {
			b.Fatal(err)
		}
		r, err := migrate.Run(migrate.FromObjects(objs), migrate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Summary.Ingresses != benchIngresses {
			b.Fatalf("%d Ingresses reported, want %d", r.Summary.Ingresses, benchIngresses)
		}
		if err := r.WriteTable(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
