// Package translator turns a consistent set of Kubernetes objects into Envoy
// resources and diagnostics. It is a pure function of its input: no I/O, no
// clocks, no globals, and the same input always gives the same output.
// TranslateAfter gives that output too; given the result before, it only
// shares more of it with that result (the objects of what did not change).
//
// It is the one entry point of translation for cmd, xds and status, and a
// thin one: the Ingress frontend (package ingress, with the annotations of
// package nginx) builds the routing model of package ir, and the Envoy
// backend (package envoy) renders that model. docs/architecture.md shows
// the steps.
//
// It may import its own steps (ingress, ir, envoy); the packages around it import
// this facade, or only the types of the step they use.
package translator

import (
	"fmt"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/rukou/rukou/translator/envoy"
	"github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/ir"
)

// Input is the set of objects one translation reads.
type Input = ingress.Input

// Options are the settings that shape translation, from rukou serve's flags.
type Options = ingress.Options

// KeyPair is a PEM certificate chain and its private key.
type KeyPair = ingress.KeyPair

// Resources are the Envoy resources of one translation.
type Resources = envoy.Resources

// Dump is the printable form of a translation.
type Dump = envoy.Dump

// Diagnostic reports one thing the translator could not honour.
type Diagnostic = ir.Diagnostic

// Reason is a short, stable word for why something was not served as
// written.
type Reason = ir.Reason

// Reasons lists every Reason a translation may report.
func Reasons() []Reason { return ir.Reasons() }

// Reads are the Services and Secrets a translation was built from.
type Reads = ingress.Reads

// IngressStatus is what rukou made of one Ingress.
type IngressStatus = ingress.Status

// IngressStatuses reports on every Ingress of in, owned or not, with the
// diagnostics of a translation: what a Result's Ingresses would be for the
// Ingresses and IngressClasses of in.
func IngressStatuses(in Input, opts Options, diags []Diagnostic) []IngressStatus {
	return ingress.Statuses(in, opts, diags)
}

// DefaultOptions returns the options rukou serve uses when no flag is given.
func DefaultOptions() Options { return ingress.DefaultOptions() }

// NewDump renders resources and diagnostics; private keys never appear.
func NewDump(res *Resources, diags []Diagnostic) (*Dump, error) { return envoy.NewDump(res, diags) }

// Expanded is an endpoint assignment of Resources with its endpoints as
// messages, which Resources hold as their encoding (envoy.Assignment).
func Expanded(cla *envoy_config_endpoint_v3.ClusterLoadAssignment) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	return envoy.Expanded(cla)
}

// Result is the outcome of one translation.
type Result struct {
	// Model is the Ingress frontend's model, which endpoint updates reuse.
	Model *ingress.Model
	// Config is the routing model that Resources render.
	Config      *ir.Config
	Resources   *Resources
	Diagnostics []Diagnostic
	// Ingresses reports on every Ingress of the input, owned or not.
	Ingresses []IngressStatus
	// backends finds Model's backends by Service, for endpoint updates.
	backends backendIndex
}

// Translate builds the routing model for in and the Envoy resources for it.
// Rules that cannot be honoured are reported in the diagnostics. The error is
// non-nil only when the generated Envoy configuration fails Envoy's own
// validation, which is a bug in rukou; callers then keep serving what they had.
func Translate(in Input, opts Options) (*Result, error) { return TranslateAfter(nil, in, opts) }

// TranslateAfter is Translate for the next state of the objects that prev
// (nil for none) was translated from. The result is Translate's; it shares
// with prev the Envoy resources of the virtual hosts and clusters that did
// not change, so that the xDS server versions only the new ones, and it
// reads again only the endpoints of the Services whose EndpointSlices
// changed.
func TranslateAfter(prev *Result, in Input, opts Options) (*Result, error) {
	var prevModel *ingress.Model
	if prev != nil {
		prevModel = prev.Model
	}
	model, diags := ingress.BuildAfter(prevModel, in, opts)
	cfg := ingress.Lower(model, diags, opts)
	var res *Resources
	if prev != nil {
		res = envoy.RenderAfter(prev.Config, prev.Resources, cfg)
	} else {
		res = envoy.Render(cfg)
	}
	if err := res.Validate(); err != nil {
		return nil, fmt.Errorf("generated Envoy configuration is invalid: %w", err)
	}
	return &Result{Model: model, Config: cfg, Resources: res, Diagnostics: diags, Ingresses: ingress.Statuses(in, opts, diags), backends: indexBackends(model, cfg)}, nil
}

// RateLimitServiceConfig is the configuration of envoyproxy/ratelimit for
// the global rate limits of cfg (YAML), nil when rukou serve names no rate
// limit service.
func RateLimitServiceConfig(cfg *ir.Config) []byte { return envoy.RateLimitServiceConfig(cfg) }
