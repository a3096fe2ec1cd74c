package ingress

import (
	"fmt"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/nginx"
)

// upstreamKind is what, besides the Service port, makes a backend its own
// Envoy cluster.
type upstreamKind struct {
	protocol       nginx.Protocol
	affinity       bool
	connectTimeout time.Duration
}

// kindOf returns the upstream settings of an Ingress's backends.
func kindOf(a *nginx.Annotations) upstreamKind {
	k := upstreamKind{protocol: a.Protocol, connectTimeout: a.ConnectTimeout}
	if k.protocol == "" {
		k.protocol = nginx.ProtocolHTTP
	}
	k.affinity = a.Policy != nil && a.Policy.Affinity != nil
	return k
}

// backendName names the cluster of a Service port with upstream settings:
// namespace/service/port, and "/" with the settings that differ from plain
// HTTP, joined by "+" (default/grpc/50051/grpc+affinity+connect-10s).
func backendName(namespace, service string, port int32, k upstreamKind) string {
	name := fmt.Sprintf("%s/%s/%d", namespace, service, port)
	var parts []string
	if k.protocol != nginx.ProtocolHTTP && k.protocol != "" {
		parts = append(parts, strings.ToLower(string(k.protocol)))
	}
	if k.affinity {
		parts = append(parts, "affinity")
	}
	if k.connectTimeout != 0 {
		parts = append(parts, fmt.Sprintf("connect-%ds", int64(k.connectTimeout/time.Second)))
	}
	if len(parts) > 0 {
		name += "/" + strings.Join(parts, "+")
	}
	return name
}
