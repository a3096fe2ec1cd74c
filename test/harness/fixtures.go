package harness

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ServiceYAML is a Service with port 80 (named http) and, for each of
// ports, an EndpointSlice whose only endpoint is 127.0.0.1 on that port
// (a slice has one port per name, so endpoints on different ports of one
// address need a slice each).
func ServiceYAML(name string, ports ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata:
  name: %s
spec:
  ports:
  - name: http
    port: 80
`, name)
	for i, port := range ports {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-x%[2]d
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
ports:
- name: http
  port: %[3]d
endpoints:
- addresses: ["127.0.0.1"]
`, name, i+1, port)
	}
	return b.String()
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
