package harness

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ServiceYAML is a Service with port 80 (named http) and an EndpointSlice
// whose only endpoint is 127.0.0.1:port.
func ServiceYAML(name string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-x1
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
ports:
- name: http
  port: %[2]d
endpoints:
- addresses: ["127.0.0.1"]
`, name, port)
}

// IngressYAML is an Ingress "name" of the class rukou (by the legacy
// annotation) that sends host to port 80 of Service service, with the
// given annotations besides.
func IngressYAML(name, host, service string, annotations map[string]string) string {
	var extra strings.Builder
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		fmt.Fprintf(&extra, "    %s: %q\n", k, annotations[k])
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
  annotations:
    kubernetes.io/ingress.class: rukou
%sspec:
  rules:
  - host: %s
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: %s
            port:
              number: 80
`, name, extra.String(), host, service)
}
