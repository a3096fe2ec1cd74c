// Package translator turns a consistent set of Kubernetes objects into Envoy
// resources and diagnostics. It is a pure function of its input: no I/O, no
// clocks, no globals, and the same input always gives the same output.
//
// Translation runs in two stages: Build makes the routing model (model.go)
// that holds the Ingress semantics, and Envoy turns that model into protos.
package translator

import (
	"fmt"

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
}

// DefaultOptions returns the options rukou serve uses when no flag is given.
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

// Result is the outcome of one translation.
type Result struct {
	Model       *Model
	Resources   *Resources
	Diagnostics []Diagnostic
	// Ingresses reports on every Ingress of the input, owned or not.
	Ingresses []IngressStatus
}

// Translate builds the routing model for in and the Envoy resources for it.
// Rules that cannot be honoured are reported in the diagnostics. The error is
// non-nil only when the generated Envoy configuration fails Envoy's own
// validation, which is a bug in rukou; callers then keep serving what they had.
func Translate(in Input, opts Options) (*Result, error) {
	model, diags := Build(in, opts)
	res := Envoy(model, opts)
	if err := res.Validate(); err != nil {
		return nil, fmt.Errorf("generated Envoy configuration is invalid: %w", err)
	}
	return &Result{Model: model, Resources: res, Diagnostics: diags, Ingresses: ingressStatuses(in, opts, diags)}, nil
}
