package migrate

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// manifest is an object as a user applies it: no status, and none of the
// metadata the API server sets (uid, resourceVersion, creationTimestamp,
// managedFields, generation).
type manifest struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   metadata `json:"metadata"`
	Spec       any      `json:"spec"`
}

type metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Write writes, for each namespace, DIR/NAMESPACE.yaml: rukou's
// IngressClass and the namespace's Ingresses as they would be for rukou,
// so that `kubectl apply -f DIR/NAMESPACE.yaml` moves one namespace. Only
// spec.ingressClassName changes (and the legacy class annotation goes when
// it is what selected ingress-nginx). It returns the files written.
func (r *Report) Write(dir, class, controller string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ic := RukouClass(class, controller)
	head, err := yaml.Marshal(manifest{APIVersion: ic.APIVersion, Kind: ic.Kind, Metadata: metadata{Name: ic.Name}, Spec: ic.Spec})
	if err != nil {
		return nil, err
	}
	byNamespace := map[string]*bytes.Buffer{}
	var order []string
	for _, ing := range r.Ingresses {
		b := byNamespace[ing.Namespace]
		if b == nil {
			b = bytes.NewBuffer(bytes.Clone(head))
			byNamespace[ing.Namespace] = b
			order = append(order, ing.Namespace)
		}
		doc, err := ingressManifest(reclass(ing, class))
		if err != nil {
			return nil, fmt.Errorf("ingress %s/%s: %w", ing.Namespace, ing.Name, err)
		}
		b.WriteString("---\n")
		b.Write(doc)
	}
	var files []string
	for _, ns := range order {
		f := filepath.Join(dir, ns+".yaml")
		if err := os.WriteFile(f, byNamespace[ns].Bytes(), 0o644); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

// lastApplied is the annotation kubectl apply keeps its last input in; it
// would hold the old class, and kubectl writes it anew on the next apply.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// ingressManifest is ing as YAML, as a user would apply it.
func ingressManifest(ing *networkingv1.Ingress) ([]byte, error) {
	annotations := maps.Clone(ing.Annotations)
	delete(annotations, lastApplied)
	return yaml.Marshal(manifest{
		APIVersion: "networking.k8s.io/v1",
		Kind:       "Ingress",
		Metadata:   metadata{Name: ing.Name, Namespace: ing.Namespace, Labels: ing.Labels, Annotations: annotations},
		Spec:       ing.Spec,
	})
}
