package envoy

import (
	"encoding/json"
	"fmt"

	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// Dump is the printable form of a translation: the Envoy resources as Envoy's
// own JSON (field names as in Envoy's docs) and the diagnostics. The translate
// command, the golden files and /debug/config all print it.
type Dump struct {
	Listeners   []json.RawMessage `json:"listeners"`
	Routes      []json.RawMessage `json:"routes"`
	Clusters    []json.RawMessage `json:"clusters"`
	Endpoints   []json.RawMessage `json:"endpoints"`
	Secrets     []json.RawMessage `json:"secrets"`
	Diagnostics []ir.Diagnostic   `json:"diagnostics"`
}

// NewDump renders resources and diagnostics. Secrets are shown by name only:
// private keys never leave rukou through a dump.
func NewDump(res *Resources, diags []ir.Diagnostic) (*Dump, error) {
	d := &Dump{Diagnostics: diags}
	if d.Diagnostics == nil {
		d.Diagnostics = []ir.Diagnostic{}
	}
	var err error
	add := func(dst *[]json.RawMessage, m proto.Message) {
		if err != nil {
			return
		}
		var b []byte
		b, err = protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		*dst = append(*dst, b)
	}
	d.Listeners, d.Routes, d.Clusters, d.Endpoints, d.Secrets =
		[]json.RawMessage{}, []json.RawMessage{}, []json.RawMessage{}, []json.RawMessage{}, []json.RawMessage{}
	for _, m := range res.Listeners {
		add(&d.Listeners, m)
	}
	for _, m := range res.Routes {
		add(&d.Routes, ExpandedRoutes(m))
	}
	for _, m := range res.Clusters {
		add(&d.Clusters, m)
	}
	for _, m := range res.Endpoints {
		add(&d.Endpoints, Expanded(m))
	}
	for _, s := range res.Secrets {
		d.Secrets = append(d.Secrets, json.RawMessage(fmt.Sprintf(`{"name":%q}`, s.Name)))
	}
	if err != nil {
		return nil, fmt.Errorf("rendering Envoy resources: %w", err)
	}
	return d, nil
}

// JSON renders the dump as indented JSON.
func (d *Dump) JSON() ([]byte, error) {
	// A round trip through encoding/json makes the output byte-stable:
	// protojson deliberately varies its whitespace between builds.
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(v, "", "  ")
	return append(out, '\n'), err
}

// YAML renders the dump as YAML.
func (d *Dump) YAML() ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(raw)
}
