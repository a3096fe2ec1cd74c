package xds

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// kind is one of the resource types rukou serves. Its name labels metrics,
// logs and /debug/xds.
type kind int

const (
	listeners kind = iota
	routes
	clusters
	endpoints
	secrets
	numKinds
)

func (k kind) String() string {
	return [numKinds]string{"listeners", "routes", "clusters", "endpoints", "secrets"}[k]
}

// url is the kind's xDS type URL.
func (k kind) url() string {
	return [numKinds]string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType, resource.SecretType}[k]
}

// responseType is the kind's slot in a go-control-plane snapshot.
func (k kind) responseType() types.ResponseType {
	return [numKinds]types.ResponseType{types.Listener, types.Route, types.Cluster, types.Endpoint, types.Secret}[k]
}

// kindOf maps an xDS type URL to its kind; ok is false for types rukou does
// not serve.
func kindOf(url string) (k kind, ok bool) {
	for k := range numKinds {
		if k.url() == url {
			return k, true
		}
	}
	return 0, false
}
