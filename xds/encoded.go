package xds

import (
	"fmt"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoiface"
)

// encoded is a resource served with the encoding that versioning it made.
// go-control-plane encodes a resource for every response on every stream
// (cachev3.MarshalResource), so a route table of every host was encoded
// once more for each Envoy on each change, after versioning had encoded
// it already. The protobuf methods of an encoded resource hand out those
// bytes; everything else (descriptor, reflection, name) is the resource's.
// Only route configurations are served so: one large resource, sent to
// every Envoy on nearly every configuration change.
// The bytes stand for the resource as it was versioned: like every
// resource handed to go-control-plane, it is never modified afterwards.
type encoded struct {
	types.Resource
	methods protoiface.Methods
}

// encodedAs is r served as b, its deterministic encoding.
func encodedAs(r types.Resource, b []byte) *encoded {
	return &encoded{Resource: r, methods: protoiface.Methods{
		Flags: protoiface.SupportMarshalDeterministic,
		Size: func(protoiface.SizeInput) protoiface.SizeOutput {
			return protoiface.SizeOutput{Size: len(b)}
		},
		Marshal: func(in protoiface.MarshalInput) (protoiface.MarshalOutput, error) {
			return protoiface.MarshalOutput{Buf: append(in.Buf, b...)}, nil
		},
		// Envoy's resources are proto3: nothing is required, and
		// checking would walk the whole table by reflection.
		CheckInitialized: func(protoiface.CheckInitializedInput) (protoiface.CheckInitializedOutput, error) {
			return protoiface.CheckInitializedOutput{}, nil
		},
	}}
}

// GetName names the resource for go-control-plane (types.ResourceWithName).
func (e *encoded) GetName() string { return cachev3.GetResourceName(e.Resource) }

// ProtoReflect is the resource's reflection with the encoded methods.
func (e *encoded) ProtoReflect() protoreflect.Message {
	return encodedMessage{Message: e.Resource.ProtoReflect(), e: e}
}

type encodedMessage struct {
	protoreflect.Message
	e *encoded
}

func (m encodedMessage) Interface() protoreflect.ProtoMessage { return m.e }

func (m encodedMessage) ProtoMethods() *protoiface.Methods { return &m.e.methods }

// hostEncodings are the encodings of virtual hosts, each a piece of the
// encoding of the route configuration that holds it. A translation reuses
// the virtual hosts that did not change (envoy.RenderAfter), so a new route
// configuration is encoded from the pieces of the one before, and only its
// new virtual hosts are encoded: at 10,000 hosts, a change of one is one
// host encoded and 7 MB copied instead of 7 MB encoded.
type hostEncodings map[*envoy_config_route_v3.VirtualHost][]byte

// hostsOf puts into into the encodings of the virtual hosts of r, a route
// configuration versioned into ks.
func (ks *kindSnapshot) hostsOf(r types.Resource, into hostEncodings) {
	rc, ok := r.(*envoy_config_route_v3.RouteConfiguration)
	if !ok {
		return
	}
	for _, vh := range rc.VirtualHosts {
		if b, ok := ks.hosts[vh]; ok {
			into[vh] = b
		}
	}
}

// encodeRoutes is rc's deterministic encoding, made with the encodings of
// its virtual hosts in known where there are some; into gets the encodings
// of all its virtual hosts, which are pieces of what it returns. rc is
// not modified: other goroutines may read it.
func encodeRoutes(rc *envoy_config_route_v3.RouteConfiguration, known, into hostEncodings) ([]byte, error) {
	deterministic := proto.MarshalOptions{Deterministic: true}
	// The configuration without its virtual hosts: a shallow copy of
	// every other field.
	var rest []byte
	{
		bare := &envoy_config_route_v3.RouteConfiguration{}
		m := bare.ProtoReflect()
		rc.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Number() != virtualHostsField {
				m.Set(fd, v)
			}
			return true
		})
		var err error
		if rest, err = deterministic.Marshal(bare); err != nil {
			return nil, err
		}
	}
	// The size first, so that the encoding is one allocation: a host's
	// known piece, or the size of a new one, which its encoding then
	// takes from the message (UseCachedSize) instead of computing again.
	sizes := make([]int, len(rc.VirtualHosts))
	size := len(rest)
	for i, vh := range rc.VirtualHosts {
		if b, ok := known[vh]; ok {
			sizes[i] = len(b)
		} else {
			sizes[i] = proto.Size(vh)
		}
		size += protowire.SizeTag(virtualHostsField) + protowire.SizeBytes(sizes[i])
	}
	// A deterministic encoding orders the fields by number: the name
	// (1), the virtual hosts (2), then the others.
	head := 0
	if num, typ, n := protowire.ConsumeTag(rest); n > 0 && num == 1 && typ == protowire.BytesType {
		if m := protowire.ConsumeFieldValue(num, typ, rest[n:]); m >= 0 {
			head = n + m
		}
	}
	out := make([]byte, 0, size)
	out = append(out, rest[:head]...)
	cached := proto.MarshalOptions{Deterministic: true, UseCachedSize: true}
	for i, vh := range rc.VirtualHosts {
		out = protowire.AppendTag(out, virtualHostsField, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(sizes[i]))
		start := len(out)
		if b, ok := known[vh]; ok {
			out = append(out, b...)
		} else {
			var err error
			if out, err = cached.MarshalAppend(out, vh); err != nil {
				return nil, fmt.Errorf("virtual host %s: %w", vh.Name, err)
			}
		}
		if len(out)-start != sizes[i] {
			return nil, fmt.Errorf("virtual host %s: encoded in %d bytes, sized %d", vh.Name, len(out)-start, sizes[i])
		}
		into[vh] = out[start:len(out):len(out)]
	}
	return append(out, rest[head:]...), nil
}

// virtualHostsField is the number of RouteConfiguration.virtual_hosts.
const virtualHostsField = 2
