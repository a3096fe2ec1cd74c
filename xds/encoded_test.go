package xds

import (
	"bytes"
	"testing"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestEncodedRoutesAreSentAsVersioned: go-control-plane sends a route
// configuration as the bytes that versioning it made, under its name and
// type, and decoding them gives the configuration back; a configuration
// versioned before keeps its bytes, so it is encoded once in all.
func TestEncodedRoutesAreSentAsVersioned(t *testing.T) {
	rc := &envoy_config_route_v3.RouteConfiguration{Name: "http", VirtualHosts: []*envoy_config_route_v3.VirtualHost{
		{Name: "a", Domains: []string{"a.test"}}, {Name: "b", Domains: []string{"b.test", "*.b.test"}},
	}}
	ks, err := version([]types.Resource{rc}, &kindSnapshot{}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := ks.served()[0]
	if name := cachev3.GetResourceName(served); name != "http" {
		t.Errorf("served as %q, want http", name)
	}
	got, err := cachev3.MarshalResource(served)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(rc)
	if !bytes.Equal(got, want) {
		t.Fatalf("sent %d bytes, want the %d of the configuration's encoding", len(got), len(want))
	}
	back := &envoy_config_route_v3.RouteConfiguration{}
	if err := proto.Unmarshal(got, back); err != nil || !proto.Equal(back, rc) {
		t.Errorf("decoded %v (%v), want %v", back, err, rc)
	}
	if a, err := anypb.New(served); err != nil || a.TypeUrl != "type.googleapis.com/envoy.config.route.v3.RouteConfiguration" {
		t.Errorf("as Any: %v, %v", a, err)
	}
	again, err := version([]types.Resource{rc}, &ks, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &again.encodings[rc][0] != &ks.encodings[rc][0] {
		t.Error("a configuration versioned before was encoded again")
	}
	if others, _ := version([]types.Resource{rc}, &kindSnapshot{}, false, nil); others.encodings != nil || others.served()[0] != types.Resource(rc) {
		t.Error("a kind that keeps no encodings is served as it is")
	}
}

// TestRouteEncodingFromHostPieces: a route configuration that shares
// virtual hosts with one versioned before is encoded from their pieces
// and its new hosts, and the bytes are its deterministic encoding, with
// the fields before and after the virtual hosts in their places.
func TestRouteEncodingFromHostPieces(t *testing.T) {
	a := &envoy_config_route_v3.VirtualHost{Name: "a", Domains: []string{"a.test"}}
	b := &envoy_config_route_v3.VirtualHost{Name: "b", Domains: []string{"b.test"}}
	c := &envoy_config_route_v3.VirtualHost{Name: "c", Domains: []string{"c.test", "*.c.test"}}
	first := &envoy_config_route_v3.RouteConfiguration{Name: "http", VirtualHosts: []*envoy_config_route_v3.VirtualHost{a, b}, IgnorePortInHostMatching: true}
	ks, err := version([]types.Resource{first}, &kindSnapshot{}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, next := range []*envoy_config_route_v3.RouteConfiguration{
		{Name: "http", VirtualHosts: []*envoy_config_route_v3.VirtualHost{c, a}, IgnorePortInHostMatching: true, ResponseHeadersToRemove: []string{"server"}},
		{VirtualHosts: []*envoy_config_route_v3.VirtualHost{b, c}},
		{Name: "empty"},
	} {
		again, err := version([]types.Resource{next}, &ks, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(next)
		if got := again.encodings[next]; !bytes.Equal(got, want) {
			t.Errorf("%q: encoded as %x, want %x", next.Name, got, want)
		}
		if again.perName[next.Name] != hashOf(want) {
			t.Errorf("%q: version %s, want the hash of its encoding", next.Name, again.perName[next.Name])
		}
		for _, vh := range next.VirtualHosts {
			piece, _ := proto.MarshalOptions{Deterministic: true}.Marshal(vh)
			if !bytes.Equal(again.hosts[vh], piece) {
				t.Errorf("%q: the piece of host %s is %x, want %x", next.Name, vh.Name, again.hosts[vh], piece)
			}
		}
	}
	if len(first.VirtualHosts) != 2 || first.VirtualHosts[0] != a {
		t.Error("versioning changed the configuration")
	}
}
