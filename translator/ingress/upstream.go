package ingress

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rukou/rukou/translator/nginx"
)

// upstreamKind is what, besides the Service port, makes a backend its own
// Envoy cluster.
type upstreamKind struct {
	protocol       nginx.Protocol
	affinity       bool
	connectTimeout time.Duration
	// hash is set when upstream-hash-by picks the endpoint.
	hash bool
	// balance is load-balance, empty for round robin.
	balance nginx.Balance
	// canary is set for the backends of canary Ingresses.
	canary bool
	// stream is set for the backends of TCP and UDP services, which send
	// a PROXY protocol header with proxyProtocol.
	stream        nginx.StreamProtocol
	proxyProtocol bool
	// serviceUpstream sends to the Service's ClusterIP (service-upstream).
	serviceUpstream bool
	// headerKiB bounds the response headers (proxy-buffer-size); zero
	// keeps the ConfigMap's bound.
	headerKiB uint32
	// proxySSL is how a backend over TLS is spoken to (proxy-ssl-*).
	proxySSL *nginx.ProxySSL
}

// tls returns the proxy-ssl-* settings that apply: those of a backend
// spoken to over TLS, nil otherwise.
func (k upstreamKind) tls() *nginx.ProxySSL {
	if k.protocol != nginx.ProtocolHTTPS && k.protocol != nginx.ProtocolGRPCS {
		return nil
	}
	return k.proxySSL
}

// kindOf returns the upstream settings of an Ingress's backends.
func kindOf(a *nginx.Annotations) upstreamKind {
	k := upstreamKind{protocol: a.Protocol, connectTimeout: a.ConnectTimeout, serviceUpstream: a.ServiceUpstream, proxySSL: a.ProxySSL}
	if k.protocol == "" {
		k.protocol = nginx.ProtocolHTTP
	}
	k.affinity = a.Policy != nil && a.Policy.Affinity != nil
	if a.Policy != nil {
		k.headerKiB = a.Policy.Tuning.ResponseHeaderKiB
	}
	k.hash = !k.affinity && a.Policy != nil && len(a.Policy.HashBy) > 0
	if a.Balance != nginx.BalanceRoundRobin && !k.affinity && !k.hash {
		// The session cookie's hash picks the endpoint, as ingress-nginx's
		// sticky balancers replace load-balance.
		k.balance = a.Balance
	}
	return k
}

// upstreamName is ingress-nginx's name of an Ingress backend's Service
// port, with the port as the Ingress names it; empty when it names no
// Service.
func upstreamName(namespace string, backend networkingv1.IngressBackend) string {
	svc, port := namedServicePort(backend)
	if svc == "" {
		return ""
	}
	return nginx.UpstreamName(namespace, svc, port)
}

// namedServicePort is the Service and port an Ingress backend names, the port
// as written (a number or a name); empty when it names no Service.
func namedServicePort(backend networkingv1.IngressBackend) (service, port string) {
	svc := backend.Service
	if svc == nil {
		return "", ""
	}
	port = svc.Port.Name
	if svc.Port.Number != 0 {
		port = strconv.Itoa(int(svc.Port.Number))
	}
	return svc.Name, port
}

// portKey names a Service port as "namespace/service/port", the name of
// its backend when no upstream setting differs from the defaults.
func portKey(namespace, service string, port int32) string {
	return namespace + "/" + service + "/" + strconv.Itoa(int(port))
}

// backendName names the cluster of a Service port with upstream settings:
// namespace/service/port, and "/" with the settings that differ from plain
// HTTP, joined by "+" (default/grpc/50051/grpc+affinity+connect-10s).
func backendName(namespace, service string, port int32, k upstreamKind) string {
	name := portKey(namespace, service, port)
	var parts []string
	if k.protocol != nginx.ProtocolHTTP && k.protocol != "" {
		parts = append(parts, strings.ToLower(string(k.protocol)))
	}
	if p := k.tls(); p != nil {
		parts = append(parts, proxySSLKey(p))
	}
	if k.affinity {
		parts = append(parts, "affinity")
	}
	if k.hash {
		parts = append(parts, "hash")
	}
	if k.balance != "" {
		parts = append(parts, string(k.balance))
	}
	if k.connectTimeout != 0 {
		parts = append(parts, fmt.Sprintf("connect-%ds", int64(k.connectTimeout/time.Second)))
	}
	if k.canary {
		parts = append(parts, "canary")
	}
	if k.stream != "" {
		parts = append(parts, strings.ToLower(string(k.stream)))
	}
	if k.proxyProtocol {
		parts = append(parts, "proxy-protocol")
	}
	if k.serviceUpstream {
		parts = append(parts, "service-upstream")
	}
	if k.headerKiB != 0 {
		parts = append(parts, fmt.Sprintf("headers-%dk", k.headerKiB))
	}
	if len(parts) > 0 {
		name += "/" + strings.Join(parts, "+")
	}
	return name
}
