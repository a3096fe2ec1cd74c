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
	// ConfigMaps may hold those the options name (the controller's, the
	// TCP and UDP services) and, in their namespaces, those that the
	// controller's proxy-set-headers and add-headers name; the others are
	// not read.
	ConfigMaps []*corev1.ConfigMap
}

// Add appends obj to the list of its kind, and reports false for a kind
// an Input does not hold.
func (in *Input) Add(obj any) bool {
	switch o := obj.(type) {
	case *networkingv1.Ingress:
		in.Ingresses = append(in.Ingresses, o)
	case *networkingv1.IngressClass:
		in.IngressClasses = append(in.IngressClasses, o)
	case *corev1.Service:
		in.Services = append(in.Services, o)
	case *discoveryv1.EndpointSlice:
		in.EndpointSlices = append(in.EndpointSlices, o)
	case *corev1.Secret:
		in.Secrets = append(in.Secrets, o)
	case *corev1.ConfigMap:
		in.ConfigMaps = append(in.ConfigMaps, o)
	default:
		return false
	}
	return true
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
	// TCPServices and UDPServices name the ConfigMaps (namespace/name)
	// whose entries expose Service ports on ports of their own
	// (--tcp-services-configmap, --udp-services-configmap); empty reads
	// none.
	TCPServices, UDPServices string
	// ReservedPorts are the ports of Envoy's pod besides its listeners
	// (admin, readiness, the limiter), which no TCP or UDP service may
	// take.
	ReservedPorts []uint32
	// DefaultSSLCertificate names the kubernetes.io/tls Secret
	// (namespace/name, --default-ssl-certificate) that HTTPS clients
	// whose SNI names no host with a certificate of its own get, and TLS
	// hosts whose own Secret cannot be used. Empty, or a Secret that
	// cannot be used, serves GeneratedCertificate instead.
	DefaultSSLCertificate string
	// GeneratedCertificate is the self-signed certificate rukou serve (or
	// translate) made at start, an input like any object: translation
	// never makes one. Nil serves no default certificate: hosts without a
	// usable Secret then go without TLS.
	GeneratedCertificate *KeyPair
	// DefaultBackendService names the Service (namespace/name,
	// --default-backend-service) whose first port serves the requests that
	// no rule and no Ingress defaultBackend serve; empty answers them 404.
	DefaultBackendService string
	// DisableExternalName refuses every ExternalName Service
	// (--disable-svc-external-name, as ingress-nginx's flag), so that an
	// Ingress cannot send traffic to a name outside the cluster.
	DisableExternalName bool
	// EnableSSLPassthrough honours ssl-passthrough
	// (--enable-ssl-passthrough, as ingress-nginx's flag); without it the
	// annotation is reported and ignored.
	EnableSSLPassthrough bool
	// InternalSecret admits Envoy's internal requests (custom-http-errors)
	// to the routes of ir.InternalHost: rukou serve makes a random one at
	// start; empty uses a fixed one, which only offline translations should.
	InternalSecret string
	// GlobalRateLimitService is the HOST:PORT of the rate limit service
	// (gRPC, envoyproxy/ratelimit's protocol) that counts global-rate-limit
	// for every proxy (--global-rate-limit-service); empty serves Ingresses
	// that ask for one without it, reported.
	GlobalRateLimitService string
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
		// deploy/rukou.yaml's Envoy pod: admin, readiness, the limiter's
		// ext_proc and its ops port.
		ReservedPorts: []uint32{9901, 9902, 9903, 9904},
	}
}
