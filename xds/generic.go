package xds

import (
	"context"
	"fmt"

	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

// genericSecrets indexes the generic secrets among secrets by name.
func genericSecrets(secrets []types.Resource) *map[string][]byte {
	out := map[string][]byte{}
	for _, r := range secrets {
		if s, ok := r.(*envoy_extensions_transport_sockets_tls_v3.Secret); ok && s.GetGenericSecret() != nil {
			out[s.Name] = s.GetGenericSecret().GetSecret().GetInlineBytes()
		}
	}
	return &out
}

// Credentials returns the generic secret of that name as served now: the
// in-process limiter reads basic authentication's users here, from the
// same snapshot that Envoys get their routes from.
func (s *Server) Credentials(_ context.Context, name string) ([]byte, error) {
	m := s.cache.generic.Load()
	if m == nil {
		return nil, fmt.Errorf("no configuration served yet")
	}
	b, ok := (*m)[name]
	if !ok {
		return nil, fmt.Errorf("no secret %q served", name)
	}
	return b, nil
}
