package envoy

import (
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Resources held as their encoding. The EDS assignments (Assignment) and
// the virtual hosts (shared.held) are kept, once
// validated, as a bare message whose unknown fields are the encoding of
// the rest: served byte for byte as the messages would be, in a tenth of
// the heap. What reads them field by field expands them first.

// holdEncoded puts into bare, which holds m's name (its field 1) alone,
// the encoding of every other field of m as unknown fields, and reports
// whether it could. A message encodes its known fields in the order of
// their numbers, then its unknown fields as they are, so every encoding
// of bare (go-control-plane's, the version hash) is byte for byte the
// deterministic encoding of m: Envoy receives the same bytes. setName
// sets m's name, which is cleared while m is encoded; m must be new,
// seen by no other goroutine. Expanded gives the messages back to what
// reads them (the dumps, tests).
func holdEncoded[M proto.Message](m, bare M, setName func(string)) (M, bool) {
	name := m.ProtoReflect().Get(m.ProtoReflect().Descriptor().Fields().ByNumber(1)).String()
	setName("")
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	setName(name)
	if err != nil {
		return m, false
	}
	bare.ProtoReflect().SetUnknown(b)
	return bare, true
}

// Expanded is cla with the endpoints that Assignment encoded as messages
// again; cla itself when it holds none so.
func Expanded(cla *envoy_config_endpoint_v3.ClusterLoadAssignment) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	return expanded(cla, &envoy_config_endpoint_v3.ClusterLoadAssignment{})
}

// ExpandedRoutes is rc with its virtual hosts as messages again (the
// shared virtual host rendering holds each as its encoding); rc itself
// when none is held so. rc is not modified: other goroutines may read it.
func ExpandedRoutes(rc *envoy_config_route_v3.RouteConfiguration) *envoy_config_route_v3.RouteConfiguration {
	hosts := make([]*envoy_config_route_v3.VirtualHost, len(rc.VirtualHosts))
	changed := false
	for i, vh := range rc.VirtualHosts {
		hosts[i] = expanded(vh, &envoy_config_route_v3.VirtualHost{})
		changed = changed || hosts[i] != vh
	}
	if !changed {
		return rc
	}
	// A shallow copy of every other field.
	out := &envoy_config_route_v3.RouteConfiguration{}
	m := out.ProtoReflect()
	rc.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != "virtual_hosts" {
			m.Set(fd, v)
		}
		return true
	})
	out.VirtualHosts = hosts
	return out
}

// expanded is m with the fields it holds encoded (holdEncoded) decoded
// into empty, a new message of its type; m itself when it holds none so
// (or, which bytes made from messages never do, when they do not decode).
func expanded[M proto.Message](m, empty M) M {
	if len(m.ProtoReflect().GetUnknown()) == 0 {
		return m
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil || proto.Unmarshal(b, empty) != nil {
		return m
	}
	return empty
}
