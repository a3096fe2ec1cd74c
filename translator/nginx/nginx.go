// Package nginx reads ingress-nginx's nginx.ingress.kubernetes.io/*
// annotations into checked, typed values, with the defaults and the
// fallbacks that ingress-nginx documents. Registry lists every annotation
// once: its status in rukou, where it is read, and its reader; the reader,
// docs/annotations.md and the migration report all follow that one table.
//
// It reads a map of annotations, not a Kubernetes object, and may import
// only the standard library, package ir (reasons, address ranges) and
// rukou's shared checks (translator/internal/valid).
package nginx

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// Prefix starts every ingress-nginx annotation.
const Prefix = "nginx.ingress.kubernetes.io/"

// Annotations are the nginx.ingress.kubernetes.io annotations of one
// Ingress, read into checked values. Unset annotations leave the defaults
// that ingress-nginx documents.
type Annotations struct {
	SSLRedirect      bool
	ForceSSLRedirect bool
	UseRegex         bool
	// RewriteTarget is the checked rewrite-target, "" when unset.
	RewriteTarget string
	// BadRewrite is set when rewrite-target could not be read: the
	// Ingress's rules are skipped rather than sent to paths their backends
	// do not expect.
	BadRewrite bool
	AppRoot    string
	Redirect   *Redirect
	FromToWWW  bool
	// ServerAliases are more host names served with the routes of the
	// Ingress's hosts (server-alias), lowercased, sorted, without
	// duplicates.
	ServerAliases []string
	Protocol      Protocol
	// Unservable, when set, says why the Ingress's paths answer 503 rather
	// than be served otherwise than its annotations ask: an authentication
	// rukou cannot enforce, or a backend protocol it cannot speak.
	Unservable     *Issue
	ConnectTimeout time.Duration
	// Balance is how the backends pick an endpoint: the ConfigMap's
	// load-balance unless the Ingress sets its own.
	Balance Balance
	// ServiceUpstream sends to the Service's ClusterIP and port, one
	// endpoint, rather than to the EndpointSlices' addresses
	// (service-upstream).
	ServiceUpstream bool
	// ProxySSL, when set, is how the backends are spoken to over TLS
	// (proxy-ssl-*).
	ProxySSL *ProxySSL
	// Policy is nil when the Ingress asks nothing of requests.
	Policy *Policy
	// Canary is set on a canary Ingress (canary: "true").
	Canary *Canary
	// ClientCert, when set, asks the Ingress's hosts for client
	// certificates (auth-tls-secret).
	ClientCert *ClientCert
	// Ciphers, when set, are the TLS settings of the Ingress's hosts.
	Ciphers *HostCiphers
	// SSLPassthrough asks that the TLS connections of the Ingress's hosts
	// reach the backend of their path "/" unopened (ssl-passthrough);
	// the frontend honours it only under --enable-ssl-passthrough.
	SSLPassthrough bool
}

// Issue is one annotation that is not honoured as written.
type Issue struct {
	// Name is the annotation's name without Prefix.
	Name   string
	Reason ir.Reason
	Msg    string
}

// Read reads the nginx.ingress.kubernetes.io annotations among all, the
// annotations of the Ingress named ingress (namespace/name), with
// ingress-nginx's defaults (no ConfigMap).
func Read(all map[string]string, ingress string) (*Annotations, []Issue) {
	d := DefaultSettings()
	return ReadWith(all, ingress, &d)
}

// ReadWith is Read with the ConfigMap's settings, whose defaults apply
// where the Ingress sets no annotation of its own, or one whose value
// cannot be used, as in ingress-nginx. Snippets are refused, and every
// annotation that is not honoured as written is reported, in the order of
// the names.
func ReadWith(all map[string]string, ingress string, d *Settings) (*Annotations, []Issue) {
	r := &reader{values: map[string]string{}, ingress: ingress, defaults: d}
	for key, value := range all {
		if name, ok := strings.CutPrefix(key, Prefix); ok {
			r.values[name] = strings.TrimSpace(value)
		}
	}
	a := &Annotations{SSLRedirect: d.SSLRedirect, Protocol: ProtocolHTTP, Balance: d.Balance}
	if acc := defaultAccess(d); acc != nil {
		a.policy().Access = acc
	}
	if rw := defaultRewrite(d); rw != nil {
		a.policy().ResponseRewrite = rw
	}
	canary := r.boolean("canary", false)
	if canary {
		a.Canary = &Canary{}
	}
	if len(r.values) == 0 {
		return a, nil // the defaults: nothing to read, nothing to report
	}
	for _, e := range readers {
		if e.appliesTo(canary) {
			e.read(r, a)
		}
	}
	// Envoy holds a limited body until it is whole, which would stall a
	// gRPC stream for good: a gRPC backend gets a body size limit only
	// when its Ingress asks for one.
	if (a.Protocol == ProtocolGRPC || a.Protocol == ProtocolGRPCS) && (a.Policy == nil || a.Policy.MaxBodyBytes == nil) {
		a.policy().MaxBodyBytes = new(uint64)
	}
	if a.Policy != nil && a.Policy.ResponseRewrite != nil && *a.Policy.ResponseRewrite == (ir.ResponseRewrite{}) {
		a.Policy.ResponseRewrite = nil // the annotations turned the ConfigMap's rewrites off
	}
	if a.Policy != nil && reflect.ValueOf(*a.Policy).IsZero() {
		a.Policy = nil
	}
	r.reportUnread(canary)
	slices.SortStableFunc(r.issues, func(x, y Issue) int { return strings.Compare(x.Name, y.Name) })
	return a, r.issues
}

// reportUnread reports each set annotation that no reader honours here.
func (r *reader) reportUnread(canary bool) {
	for _, name := range r.names() {
		e, known := Lookup(name)
		switch {
		case !known:
			r.issue(name, ir.ReasonAnnotationIgnored, "not an ingress-nginx annotation rukou knows; ignored (see docs/annotations.md)")
		case e.Status == Refused && strings.HasSuffix(e.Note, "configuration text"):
			r.issue(name, ir.ReasonSnippetRefused, "refused: rukou never adds configuration text; the rest of the Ingress is served")
		case e.Status == Refused:
			r.issue(name, ir.ReasonAnnotationIgnored, "refused: %s; ignored, the rest of the Ingress is served", e.Note)
		case e.read == nil && e.readWith == "" && e.Note != "":
			r.issue(name, ir.ReasonAnnotationIgnored, "not supported yet (%s); ignored (see docs/annotations.md)", e.Note)
		case e.read == nil && e.readWith == "":
			r.issue(name, ir.ReasonAnnotationIgnored, "not supported yet; ignored (see docs/annotations.md)")
		case e.appliesTo(canary):
		case e.On == OnCanary:
			r.issue(name, ir.ReasonAnnotationIgnored, "ignored: the Ingress is not a canary (canary is not \"true\")")
		default:
			r.issue(name, ir.ReasonAnnotationIgnored, "ignored on a canary Ingress: its paths follow the primary Ingress")
		}
	}
}

// policy returns a's Policy, making it when a has none yet.
func (a *Annotations) policy() *Policy {
	if a.Policy == nil {
		a.Policy = &Policy{}
	}
	return a.Policy
}

// Rewrites reports whether the rule path p is rewritten: ingress-nginx
// rewrites only when the target differs from the path.
func (a *Annotations) Rewrites(p string) bool {
	return a.RewriteTarget != "" && a.RewriteTarget != p
}

// Field is the field path of an annotation in diagnostics.
func Field(name string) string {
	return fmt.Sprintf("metadata.annotations[%s%s]", Prefix, name)
}
