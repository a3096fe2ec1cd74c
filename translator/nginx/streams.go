package nginx

import (
	"fmt"
	"strconv"
	"strings"
)

// StreamProtocol is the transport of a stream service: the ConfigMap of
// --tcp-services-configmap or of --udp-services-configmap.
type StreamProtocol string

const (
	TCP StreamProtocol = "TCP"
	UDP StreamProtocol = "UDP"
)

// StreamEntry is one entry of a TCP or UDP services ConfigMap, as
// ingress-nginx reads it: "PORT": "namespace/service:port", followed for
// TCP by ":PROXY" (the client sends a PROXY protocol header, which gives
// the client's address) and ":PROXY" (the backend is sent one).
type StreamEntry struct {
	// Port is the port the proxy listens on: the entry's key.
	Port uint32
	// Namespace and Service name the Service; ServicePort is its port as
	// written, a number or a name.
	Namespace, Service, ServicePort string
	// DecodeProxyProtocol expects a PROXY protocol header from the client
	// (the third field); EncodeProxyProtocol sends one to the backend (the
	// fourth).
	DecodeProxyProtocol, EncodeProxyProtocol bool
}

// UpstreamName is ingress-nginx's name of the entry's upstream, as its
// stream log and metrics show it: tcp-namespace-service-port.
func (e StreamEntry) UpstreamName(proto StreamProtocol) string {
	return strings.ToLower(string(proto)) + "-" + UpstreamName(e.Namespace, e.Service, e.ServicePort)
}

// ParseStreamEntry reads one entry of a TCP or UDP services ConfigMap. An
// entry that cannot be served is an error; warnings are what the entry
// asks that is ignored (a field that is not "PROXY", PROXY fields on UDP,
// fields after the fourth), as ingress-nginx ignores them, while the
// entry is served.
func ParseStreamEntry(proto StreamProtocol, key, value string) (e StreamEntry, warnings []string, err error) {
	port, err := strconv.Atoi(key)
	if err != nil || port < 1 || port > 65535 {
		return e, nil, fmt.Errorf("%q is not a %s port number (1 to 65535)", key, proto)
	}
	e.Port = uint32(port)
	fields := strings.Split(value, ":")
	if len(fields) < 2 {
		return e, nil, fmt.Errorf("%q is not namespace/service:port", value)
	}
	ns, svc, ok := strings.Cut(fields[0], "/")
	if !ok || ns == "" || svc == "" || strings.Contains(svc, "/") {
		return e, nil, fmt.Errorf("%q is not namespace/service", fields[0])
	}
	if fields[1] == "" {
		return e, nil, fmt.Errorf("%q names no Service port", value)
	}
	e.Namespace, e.Service, e.ServicePort = ns, svc, fields[1]
	return e, e.proxyFields(proto, fields[2:]), nil
}

// proxyFields reads the PROXY fields after the Service port, and returns
// what is ignored of them. As in ingress-nginx, the fourth field counts
// only when it is the last.
func (e *StreamEntry) proxyFields(proto StreamProtocol, fields []string) []string {
	if len(fields) == 0 {
		return nil
	}
	if proto != TCP {
		if strings.Join(fields, "") == "" {
			return nil
		}
		return []string{"the PROXY protocol fields apply to TCP services only; ignored, as ingress-nginx ignores them"}
	}
	var warnings []string
	for i, f := range fields {
		isProxy := strings.EqualFold(f, "PROXY")
		switch {
		case i >= 2:
			warnings = append(warnings, fmt.Sprintf("field %d (%q) is ignored: an entry has at most 4 fields", i+3, f))
			continue
		case f != "" && !isProxy:
			warnings = append(warnings, fmt.Sprintf("field %d is %q, neither empty nor PROXY; ignored", i+3, f))
		}
		if i == 0 {
			e.DecodeProxyProtocol = isProxy
		} else {
			e.EncodeProxyProtocol = isProxy && len(fields) == 2
		}
	}
	if len(fields) > 2 && strings.EqualFold(fields[1], "PROXY") {
		warnings = append(warnings, "no PROXY protocol header is sent to the backend: as in ingress-nginx, the fourth field counts only when it is the last")
	}
	return warnings
}

// ServicePortNumber reports whether the entry names its Service port by
// number, and which; a number no port can have is 0.
func (e StreamEntry) ServicePortNumber() (int32, bool) {
	n, err := strconv.Atoi(e.ServicePort)
	if err != nil {
		return 0, false
	}
	if n < 1 || n > 65535 {
		return 0, true
	}
	return int32(n), true
}
