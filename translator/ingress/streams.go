package ingress

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// TCP and UDP services: the ConfigMaps of --tcp-services-configmap and
// --udp-services-configmap, whose entries ("PORT": "namespace/service:port")
// make Envoy listen on PORT and pass what arrives, unread, to the Service
// port's endpoints, as ingress-nginx's stream servers do.

// streamConnectTimeout is nginx's stream proxy_connect_timeout, which
// ingress-nginx leaves at its default (the ConfigMap's
// proxy-connect-timeout is for HTTP only).
const streamConnectTimeout = 60 * time.Second

// addStreams reads the TCP and UDP services ConfigMaps, when they are
// among cms, and reports each entry it cannot serve on its ConfigMap.
func (b *builder) addStreams(cms []*corev1.ConfigMap) {
	for _, src := range []struct {
		proto nginx.StreamProtocol
		name  string
	}{{nginx.TCP, b.opts.TCPServices}, {nginx.UDP, b.opts.UDPServices}} {
		if cm := findConfigMap(cms, src.name); cm != nil {
			b.addStreamMap(cm, src.proto)
		}
	}
	slices.SortFunc(b.streams, func(x, y *Stream) int {
		return cmp.Or(cmp.Compare(x.Protocol, y.Protocol), cmp.Compare(x.Port, y.Port))
	})
}

// findConfigMap returns the ConfigMap named nsName (namespace/name) among
// cms, or nil.
func findConfigMap(cms []*corev1.ConfigMap, nsName string) *corev1.ConfigMap {
	if nsName == "" {
		return nil
	}
	i := slices.IndexFunc(cms, func(cm *corev1.ConfigMap) bool { return cm.Namespace+"/"+cm.Name == nsName })
	if i < 0 {
		return nil
	}
	return cms[i]
}

// addStreamMap serves the entries of one ConfigMap in a stable order, so
// that of two keys for one port ("53" and "053") the same one always wins:
// the one written as a plain number, else the first.
func (b *builder) addStreamMap(cm *corev1.ConfigMap, proto nginx.StreamProtocol) {
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	plain := func(k string) bool {
		n, err := strconv.Atoi(k)
		return err == nil && strconv.Itoa(n) == k
	}
	slices.SortFunc(keys, func(x, y string) int {
		if px, py := plain(x), plain(y); px != py {
			if px {
				return -1
			}
			return 1
		}
		return cmp.Compare(x, y)
	})
	taken := map[uint32]string{}
	for _, key := range keys {
		b.addStream(cm, proto, key, taken)
	}
}

// addStream serves one entry, or reports why it cannot; taken holds the
// ports that earlier entries of the ConfigMap serve, by key.
func (b *builder) addStream(cm *corev1.ConfigMap, proto nginx.StreamProtocol, key string, taken map[uint32]string) {
	report := func(reason ir.Reason, format string, args ...any) {
		b.diags = append(b.diags, ir.Diagnostic{
			Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name,
			Field: nginx.KeyField(key), Reason: reason, Message: fmt.Sprintf(format, args...),
		})
	}
	e, warnings, err := nginx.ParseStreamEntry(proto, key, cm.Data[key])
	if err != nil {
		report(ir.ReasonInvalidConfigValue, "%s service not served: %v", proto, err)
		return
	}
	for _, w := range warnings {
		report(ir.ReasonInvalidConfigValue, "%s", w)
	}
	if why := b.reservedPort(e.Port); why != "" {
		report(ir.ReasonPortConflict, "%s service not served: port %d is reserved for %s", proto, e.Port, why)
		return
	}
	if other, ok := taken[e.Port]; ok {
		report(ir.ReasonPortConflict, "%s service not served: port %d is already served by %s", proto, e.Port, nginx.KeyField(other))
		return
	}
	be, berr := b.index.streamBackend(e, proto)
	if berr != nil {
		report(berr.reason, "%s service not served: %s", proto, berr.msg)
		return
	}
	taken[e.Port] = key
	be.Stream, be.SendProxyProtocol = proto, e.EncodeProxyProtocol
	be.Name = backendName(be.Namespace, be.Service, be.Port, upstreamKind{stream: proto, proxyProtocol: e.EncodeProxyProtocol})
	if _, ok := b.backends[be.Name]; !ok {
		b.backends[be.Name] = be
	}
	b.streams = append(b.streams, &Stream{
		Protocol: proto, Port: e.Port, Backend: be.Name,
		AcceptProxyProtocol: e.DecodeProxyProtocol,
		UpstreamName:        e.UpstreamName(proto),
		Source:              cm.Namespace + "/" + cm.Name + " " + nginx.KeyField(key),
	})
}

// reservedPort says what a port is reserved for, or "" when a TCP or UDP
// service may take it. As in ingress-nginx, the HTTP ports are reserved
// for both protocols, and so are 80 and 443, the ports of the rukou-envoy
// Service that clients reach the HTTP listeners on.
func (b *builder) reservedPort(port uint32) string {
	switch port {
	case b.opts.HTTPPort:
		return "Envoy's HTTP listener"
	case b.opts.HTTPSPort:
		return "Envoy's HTTPS listener"
	case 80, 443, b.opts.HTTPSRedirectPort:
		return "HTTP and HTTPS, as in ingress-nginx"
	}
	if slices.Contains(b.opts.ReservedPorts, port) {
		return "Envoy's pod (admin, readiness, limiter)"
	}
	return ""
}

// streamBackend resolves an entry's Service port of the entry's protocol,
// by number or by name, to a Backend with its endpoints.
func (ix *index) streamBackend(e nginx.StreamEntry, proto nginx.StreamProtocol) (*Backend, *backendError) {
	svc, ok := ix.service(e.Namespace, e.Service)
	if !ok {
		return nil, &backendError{ir.ReasonServiceNotFound, fmt.Sprintf("service %s/%s not found", e.Namespace, e.Service)}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, &backendError{ir.ReasonInvalidConfigValue, fmt.Sprintf("service %s/%s is of type ExternalName, which TCP and UDP services do not support yet", e.Namespace, e.Service)}
	}
	number, byNumber := e.ServicePortNumber()
	for _, p := range svc.Spec.Ports {
		if portProtocol(p) != string(proto) {
			continue
		}
		if (byNumber && p.Port == number) || (!byNumber && p.Name == e.ServicePort) {
			return ix.portBackend(e.Namespace, svc.Name, p), nil
		}
	}
	return nil, &backendError{ir.ReasonServicePortNotFound, fmt.Sprintf("service %s/%s has no %s port %q", e.Namespace, e.Service, proto, e.ServicePort)}
}

// portProtocol is a Service port's protocol; the API server defaults it to
// TCP, and manifests read from files may leave it out.
func portProtocol(p corev1.ServicePort) string {
	if p.Protocol == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(p.Protocol)
}

// lowerStreams gives each stream its listener, on the address of the HTTP
// listeners, with ingress-nginx's stream log and the ConfigMap's
// proxy-stream-* settings.
func lowerStreams(m *Model, opts Options) []*ir.StreamListener {
	out := make([]*ir.StreamListener, 0, len(m.Streams))
	for _, s := range m.Streams {
		l := &ir.StreamListener{
			Name:     strings.ToLower(string(s.Protocol)) + "-" + fmt.Sprint(s.Port),
			Protocol: ir.TCP, Address: opts.ListenAddress, Port: s.Port, Cluster: s.Backend,
			AcceptProxyProtocol: s.AcceptProxyProtocol,
			IdleTimeout:         ir.Duration(m.Settings.StreamTimeout),
			ConnectAttempts:     m.Settings.StreamConnectAttempts,
			AccessLog:           streamAccessLog(s.Protocol),
			Source:              s.Source,
		}
		if m.Settings.AccessLog.Off {
			// disable-access-log turns nginx's stream log off too.
			l.AccessLog = nil
		}
		if s.Protocol == nginx.UDP {
			// nginx ends a UDP session at the first answer
			// (proxy-stream-responses: 1), long before its
			// proxy-stream-timeout; Envoy's sessions last until idle, so
			// they keep Envoy's default idle timeout of a minute.
			l.Protocol, l.ConnectAttempts, l.IdleTimeout = ir.UDP, 0, 0
		}
		out = append(out, l)
	}
	return out
}

// streamAccessLog is ingress-nginx's default stream log line
// (log-format-stream), written when a connection or session ends.
func streamAccessLog(proto nginx.StreamProtocol) *ir.AccessLog {
	fields, err := nginx.ParseStreamLogFormat(nginx.DefaultStreamLogFormat, proto)
	if err != nil {
		// The default is a constant that translator/nginx's tests parse.
		panic(err)
	}
	return &ir.AccessLog{Fields: fields}
}

// lowerStreamBackend is the cluster of a TCP or UDP service's Service
// port, with nginx's stream connect timeout.
func lowerStreamBackend(be *Backend) *ir.Cluster {
	c := &ir.Cluster{
		Name: be.Name, Protocol: ir.TCP, ConnectTimeout: ir.Duration(streamConnectTimeout),
		LoadBalancer: ir.RoundRobin, Endpoints: be.Endpoints, SendProxyProtocol: be.SendProxyProtocol,
	}
	if be.Stream == nginx.UDP {
		c.Protocol = ir.UDP
	}
	return c
}
