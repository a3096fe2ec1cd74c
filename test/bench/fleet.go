// Package bench measures rukou at scale: translation plus snapshot, the
// memory of a `rukou serve`, how fast an endpoint change reaches a real
// Envoy, and how many bytes it costs. `make bench` runs it; the results and
// the commands are in docs/benchmarks.md.
//
// It may import any package of rukou and the test harness.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// Fleet sizes a generated set of objects: Services spread over Namespaces,
// each with one EndpointSlice of EndpointsPerService ready endpoints, and
// Ingresses, the i-th sending host app-i.bench.example to Service i.
type Fleet struct {
	Ingresses, Services, EndpointsPerService, Namespaces int
}

// Standard is the fleet of the goals: 10,000 Services and 50,000
// endpoints, with the given number of Ingresses.
func Standard(ingresses int) Fleet {
	return Fleet{Ingresses: ingresses, Services: 10000, EndpointsPerService: 5, Namespaces: 100}
}

// WriteManifests writes the fleet into dir, one file per namespace.
// Endpoint addresses are in 10.0.0.0/8 and are never contacted: Envoy opens
// connections only for requests, and benchmarks send requests only to the
// probe (see ProbeManifest), whose endpoints are on 127.0.0.1.
func (f Fleet) WriteManifests(dir string) error {
	files := make([]strings.Builder, f.Namespaces)
	for i := range f.Services {
		w := &files[i%f.Namespaces]
		ns := f.namespace(i)
		fmt.Fprintf(w, "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%05d\n  namespace: %s\nspec:\n  ports:\n  - name: http\n    port: 80\n---\n", i, ns)
		fmt.Fprintf(w, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-%05d-a\n  namespace: %s\n  labels:\n    kubernetes.io/service-name: svc-%05d\naddressType: IPv4\nports:\n- name: http\n  port: 8080\nendpoints:\n", i, ns, i)
		for j := range f.EndpointsPerService {
			n := i*f.EndpointsPerService + j
			fmt.Fprintf(w, "- addresses: [\"10.%d.%d.%d\"]\n", 1+n>>16&0xff, n>>8&0xff, n&0xff)
		}
		w.WriteString("---\n")
		if i < f.Ingresses {
			fmt.Fprintf(w, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app-%05d\n  namespace: %s\nspec:\n  ingressClassName: rukou\n  rules:\n  - host: app-%05d.bench.example\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: svc-%05d\n            port:\n              number: 80\n---\n", i, ns, i, i)
		}
	}
	class := "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: rukou\nspec:\n  controller: rukou.io/ingress-controller\n"
	if err := os.WriteFile(filepath.Join(dir, "class.yaml"), []byte(class), 0o644); err != nil {
		return err
	}
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, f.namespace(i)+".yaml"), []byte(files[i].String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (f Fleet) namespace(i int) string { return fmt.Sprintf("ns-%03d", i%f.Namespaces) }

// Input returns the fleet as a translation input, read from the same
// manifests a `rukou serve --watch-dir` would read.
func (f Fleet) Input(dir string) (translator.Input, error) {
	store, err := f.Store(dir)
	if err != nil {
		return translator.Input{}, err
	}
	return store.Input(), nil
}

// Store returns a store holding the fleet, read from the manifests it
// writes into dir, as the directory source of `rukou serve` holds it.
func (f Fleet) Store(dir string) (*watcher.Store, error) {
	if err := f.WriteManifests(dir); err != nil {
		return nil, err
	}
	objs, err := watcher.ReadPaths([]string{dir})
	if err != nil {
		return nil, err
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	store.TakeChanges()
	return store, nil
}

// ProbeManifest is the Ingress, Service and EndpointSlice of the probe:
// host probe.bench.example, served by the backends on 127.0.0.1 at ports.
// A benchmark rewrites it to change the probe's endpoints.
func ProbeManifest(ports ...int) string {
	var b strings.Builder
	b.WriteString("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: probe\n  namespace: bench-probe\nspec:\n  ingressClassName: rukou\n  rules:\n  - host: probe.bench.example\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: probe\n            port:\n              number: 80\n---\n")
	b.WriteString("apiVersion: v1\nkind: Service\nmetadata:\n  name: probe\n  namespace: bench-probe\nspec:\n  ports:\n  - name: http\n    port: 80\n")
	for i, port := range ports {
		fmt.Fprintf(&b, "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: probe-%d\n  namespace: bench-probe\n  labels:\n    kubernetes.io/service-name: probe\naddressType: IPv4\nports:\n- name: http\n  port: %d\nendpoints:\n- addresses: [\"127.0.0.1\"]\n", i, port)
	}
	return b.String()
}
