package envoy

import (
	"bytes"
	"strings"
	"testing"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/rukou/rukou/translator/ir"
)

// TestAssignmentIsServedAsItsMessages: an EDS assignment held as its
// encoding encodes to the very bytes of the assignment as messages (what
// Envoy receives, and what its version hashes), and Expanded gives those
// messages back.
func TestAssignmentIsServedAsItsMessages(t *testing.T) {
	det := proto.MarshalOptions{Deterministic: true}
	for _, c := range []*ir.Cluster{
		{Name: "default/web/80", Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 8080}, {Address: "10.0.0.2", Port: 8080}, {Address: "fd00::1", Port: 9000}}},
		{Name: "default/one/443", Endpoints: []ir.Endpoint{{Address: "10.1.2.3", Port: 8443}}},
		{Name: "default/none/80"},
	} {
		full, held := LoadAssignment(c), Assignment(c)
		want, err := det.Marshal(full)
		if err != nil {
			t.Fatal(err)
		}
		got, err := det.Marshal(held)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encodes to\n%x\nwant the assignment's\n%x", c.Name, got, want)
		}
		if len(c.Endpoints) > 0 && len(held.Endpoints) != 0 {
			t.Errorf("%s: %d endpoints held as messages, want them held encoded", c.Name, len(held.Endpoints))
		}
		if out := Expanded(held); !proto.Equal(out, full) {
			t.Errorf("%s: expanded to %v, want %v", c.Name, out, full)
		}
		if err := held.ValidateAll(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}

// TestAssignmentThatFailsValidationIsReported: an endpoint Envoy would
// refuse leaves the assignment as messages, so that Validate names it.
func TestAssignmentThatFailsValidationIsReported(t *testing.T) {
	c := &ir.Cluster{Name: "default/web/80", Discovery: ir.DiscoveryEDS, Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 70000}}}
	res := &Resources{Endpoints: []*envoy_config_endpoint_v3.ClusterLoadAssignment{Assignment(c)}}
	err := res.Validate()
	if err == nil || !strings.Contains(err.Error(), "default/web/80") || !strings.Contains(err.Error(), "PortValue") {
		t.Errorf("Validate: %v, want the assignment's port refused", err)
	}
}

// TestVirtualHostIsServedAsItsMessages: a rendered virtual host is held as
// its encoding, in the canonical order of its messages' encoding, and
// expands to the host the model says.
func TestVirtualHostIsServedAsItsMessages(t *testing.T) {
	det := proto.MarshalOptions{Deterministic: true}
	s := newShared()
	vh := s.virtualHost(&ir.VirtualHost{Name: "app.example", Domains: []string{"app.example", "app.example:*"}, Routes: []*ir.Route{{
		Match:   ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
		Forward: &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: "default/web/80"}}},
	}}})
	if len(vh.Domains) != 0 || len(vh.Routes) != 0 {
		t.Fatalf("virtual host held as messages: %v", vh)
	}
	full := expanded(vh, &envoy_config_route_v3.VirtualHost{})
	if full.Name != "app.example" || len(full.Domains) != 2 || len(full.Routes) != 1 || full.Routes[0].GetRoute().GetCluster() != "default/web/80" {
		t.Fatalf("expanded to %v", full)
	}
	got, err := det.Marshal(vh)
	if err != nil {
		t.Fatal(err)
	}
	want, err := det.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("held host encodes to\n%x\nwant its messages'\n%x", got, want)
	}
	rc := &envoy_config_route_v3.RouteConfiguration{Name: "http", VirtualHosts: []*envoy_config_route_v3.VirtualHost{vh}}
	if out := ExpandedRoutes(rc); !proto.Equal(out.VirtualHosts[0], full) || out.Name != "http" || rc.VirtualHosts[0] != vh {
		t.Errorf("ExpandedRoutes: %v", out)
	}
}

// TestVirtualHostThatFailsValidationIsReported: a virtual host Envoy would
// refuse (no domains) stays as messages, and Validate names it.
func TestVirtualHostThatFailsValidationIsReported(t *testing.T) {
	res := Render(&ir.Config{Listeners: []*ir.Listener{{
		Name: "http", Address: "0.0.0.0", Port: 8080,
		VirtualHosts: []*ir.VirtualHost{{Name: "no-domains"}},
	}}})
	err := res.Validate()
	if err == nil || !strings.Contains(err.Error(), `virtual host "no-domains"`) || !strings.Contains(err.Error(), "Domains") {
		t.Errorf("Validate: %v, want the virtual host without domains refused", err)
	}
}
