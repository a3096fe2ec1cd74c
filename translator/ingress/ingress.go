// Package ingress is the Kubernetes Ingress frontend: it reads Ingresses,
// IngressClasses, Services, EndpointSlices and Secrets, with their
// ingress-nginx annotations (package nginx), and builds the routing model
// of package ir. Build decides the Ingress semantics in a model of its own
// (which Ingress owns which host and path, which backend, what the
// annotations ask); Lower turns that into generic routes, so that the
// Envoy backend never learns what an Ingress is.
//
// It may import the Kubernetes API types, package ir, package nginx and
// rukou's shared checks; never an Envoy proto.
package ingress

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Input is the set of objects one translation reads.
type Input struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	// ConfigMaps may hold the controller's ConfigMap (Options.ConfigMap);
	// the others are not read.
	ConfigMaps []*corev1.ConfigMap
}

// Options are the settings that shape translation, from rukou serve's flags.
type Options struct {
	// IngressClass is the value of the legacy kubernetes.io/ingress.class
	// annotation that marks an Ingress as ours.
	IngressClass string
	// ControllerName is the spec.controller of IngressClasses that are ours.
	ControllerName string
	// WatchIngressWithoutClass makes Ingresses without any class ours.
	WatchIngressWithoutClass bool
	// ListenAddress is the address Envoy's listeners bind to.
	ListenAddress string
	// HTTPPort is the port of Envoy's plain HTTP listener.
	HTTPPort uint32
	// HTTPSPort is the port of Envoy's TLS listener.
	HTTPSPort uint32
	// HTTPSRedirectPort is the port that redirects from plain HTTP to
	// HTTPS name: the port clients reach Envoy's TLS listener on.
	HTTPSRedirectPort uint32
	// ConfigMap names the ConfigMap (namespace/name) whose data holds
	// ingress-nginx's controller settings (--configmap); empty reads none.
	ConfigMap string
	// DisableExternalName refuses every ExternalName Service
	// (--disable-svc-external-name, as ingress-nginx's flag), so that an
	// Ingress cannot send traffic to a name outside the cluster.
	DisableExternalName bool
}

// DefaultOptions returns the options rukou serve uses when no flag is
// given: the one place these defaults are written.
func DefaultOptions() Options {
	return Options{
		IngressClass:      "rukou",
		ControllerName:    "rukou.io/ingress-controller",
		ListenAddress:     "0.0.0.0",
		HTTPPort:          8080,
		HTTPSPort:         8443,
		HTTPSRedirectPort: 443,
	}
}
