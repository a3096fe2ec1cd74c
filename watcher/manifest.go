package watcher

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// ManifestError says where a manifest file is malformed.
type ManifestError struct {
	File string
	Line int
	Err  error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

// watchedKinds are the kinds rukou reads; documents of other kinds (a
// Deployment next to its Service, say) are skipped without complaint.
var watchedKinds = map[schema.GroupKind]bool{
	{Group: "networking.k8s.io", Kind: "Ingress"}:      true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}: true,
	{Group: "", Kind: "Service"}:                       true,
	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}: true,
	{Group: "", Kind: "Secret"}:                        true,
	// The ConfigMaps rukou's flags name (--configmap and the TCP and UDP
	// services) and those the controller's keys name (proxy-set-headers,
	// add-headers); the others are held but never read.
	{Group: "", Kind: "ConfigMap"}: true,
}

// yamlLine finds the line number in the YAML parser's messages.
var yamlLine = regexp.MustCompile(`line (\d+)`)

// Decode reads the objects of the watched kinds, and of the extra kinds
// a command asks for (rukou migrate reads Deployments), from one file of
// YAML documents (separated by "---") or JSON. A List's items are read too.
// Namespaced objects without a namespace get "default", as kubectl does.
// The error, if any, is a *ManifestError naming the file and the line.
func Decode(file string, data []byte, extra ...schema.GroupKind) ([]runtime.Object, error) {
	docs, err := decodeDocuments(file, data, nil, extra)
	return flatten(docs), err
}

// decodedDocument is one document of a file, known by its text's hash,
// and the objects read from it.
type decodedDocument struct {
	sum  [sha256.Size]byte
	objs []runtime.Object
}

// decodeDocuments reads a file's documents as Decode does, taking the
// objects of a document whose text prev holds already from prev: a file
// of thousands of objects read again after one of them changed decodes
// that one, and the others stay the very objects the store holds, which
// it compares by pointer before anything else.
func decodeDocuments(file string, data []byte, prev []decodedDocument, extra []schema.GroupKind) ([]decodedDocument, error) {
	known := make(map[[sha256.Size]byte][]runtime.Object, len(prev))
	for _, d := range prev {
		known[d.sum] = d.objs
	}
	texts := splitDocuments(data)
	out := make([]decodedDocument, 0, len(texts))
	for _, doc := range texts {
		sum := sha256.Sum256(doc.text)
		objs, ok := known[sum]
		if !ok {
			var err error
			if objs, err = decodeDocument(doc.text, extra); err != nil {
				line := doc.line
				if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
					n, _ := strconv.Atoi(m[1])
					line += n - 1
				}
				return nil, &ManifestError{File: file, Line: line, Err: err}
			}
		}
		out = append(out, decodedDocument{sum: sum, objs: objs})
	}
	return out, nil
}

// flatten lists the objects of docs in their order.
func flatten(docs []decodedDocument) []runtime.Object {
	var out []runtime.Object
	for _, d := range docs {
		out = append(out, d.objs...)
	}
	return out
}

type document struct {
	text []byte
	line int // the first line of the document in its file, from 1
}

func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, n := 1, 0
	flush := func(next int) {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, document{text: bytes.Clone(cur.Bytes()), line: start})
		}
		cur.Reset()
		start = next
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "---" || strings.HasPrefix(line, "--- ") {
			flush(n + 1)
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush(n + 1)
	return docs
}

func decodeDocument(text []byte, extra []schema.GroupKind) ([]runtime.Object, error) {
	raw, err := yaml.YAMLToJSON(text)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil // a document of only comments
	}
	var meta metav1.TypeMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if meta.Kind == "" || meta.APIVersion == "" {
		return nil, fmt.Errorf("object has no apiVersion or kind")
	}
	gvk := meta.GroupVersionKind()
	if gvk.Kind == "List" {
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		var out []runtime.Object
		for i, item := range list.Items {
			objs, err := decodeDocument(item, extra)
			if err != nil {
				return nil, fmt.Errorf("list item %d: %w", i, err)
			}
			out = append(out, objs...)
		}
		return out, nil
	}
	watched := watchedKinds[gvk.GroupKind()]
	if !watched && !slices.Contains(extra, gvk.GroupKind()) {
		return nil, nil
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk.Kind, err)
	}
	// An older version of a watched kind (networking.k8s.io/v1beta1
	// Ingress, say) decodes to a type the store does not hold: refuse it
	// rather than let it vanish without a word.
	if _, ok := KeyOf(obj); watched && !ok {
		return nil, fmt.Errorf("%s %s is not supported; use its v1 API", gvk.GroupVersion(), gvk.Kind)
	}
	if secret, ok := obj.(*corev1.Secret); ok && len(secret.StringData) > 0 {
		// The API server folds stringData into data; files get the same.
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		for k, v := range secret.StringData {
			secret.Data[k] = []byte(v)
		}
		secret.StringData = nil
	}
	if mo, ok := obj.(metav1.Object); ok {
		if mo.GetName() == "" {
			return nil, fmt.Errorf("%s has no metadata.name", gvk.Kind)
		}
		if mo.GetNamespace() == "" && gvk.Kind != "IngressClass" {
			mo.SetNamespace(corev1.NamespaceDefault)
		}
	}
	return []runtime.Object{obj}, nil
}
