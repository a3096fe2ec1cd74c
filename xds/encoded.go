package xds

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
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
