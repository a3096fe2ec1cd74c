package envoy

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// validateAnys checks, with Envoy's rules, every message packed in an Any
// inside m (filters' typed configs, their libraries and matchers), which
// ValidateAll does not open. Envoy validates them when it loads a
// listener, so a mistake there would be a NACK.
func validateAnys(m proto.Message) error {
	var err error
	walkAnys(m.ProtoReflect(), func(a *anypb.Any) bool {
		inner, uerr := a.UnmarshalNew()
		if uerr != nil {
			err = fmt.Errorf("%s: %w", a.GetTypeUrl(), uerr)
			return false
		}
		if v, ok := inner.(validator); ok {
			if verr := v.ValidateAll(); verr != nil {
				err = fmt.Errorf("%s: %w", a.GetTypeUrl(), verr)
				return false
			}
		}
		if err = validateAnys(inner); err != nil {
			return false
		}
		return true
	})
	return err
}

// walkAnys calls f with each Any directly inside m (not inside another
// Any), until f returns false.
func walkAnys(m protoreflect.Message, f func(*anypb.Any) bool) bool {
	if a, ok := m.Interface().(*anypb.Any); ok {
		return f(a)
	}
	more := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len() && more; i++ {
				more = walkAnys(v.List().Get(i).Message(), f)
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					more = walkAnys(mv.Message(), f)
					return more
				})
			}
		default:
			more = walkAnys(v.Message(), f)
		}
		return more
	})
	return more
}
