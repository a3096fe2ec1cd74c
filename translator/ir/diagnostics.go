package ir

import "fmt"

// Reason is a short, stable word for why an object or rule was not served as
// written. Reasons label metrics and Events, so they never change meaning.
type Reason string

// Reasons reported by the frontends.
const (
	ReasonServiceNotFound     Reason = "ServiceNotFound"
	ReasonServicePortNotFound Reason = "ServicePortNotFound"
	ReasonResourceBackend     Reason = "ResourceBackendUnsupported"
	ReasonNoBackend           Reason = "NoBackend"
	ReasonConflict            Reason = "PathConflict"
	ReasonInvalidPath         Reason = "InvalidPath"
	ReasonInvalidHost         Reason = "InvalidHost"
	ReasonSecretNotFound      Reason = "SecretNotFound"
	ReasonInvalidSecret       Reason = "InvalidSecret"
	ReasonInvalidAnnotation   Reason = "InvalidAnnotation"
	// ReasonSnippetRefused: a snippet annotation, which carries nginx
	// configuration text, is never honoured.
	ReasonSnippetRefused Reason = "SnippetRefused"
	// ReasonAnnotationIgnored: an annotation rukou does not support (yet),
	// or one that does not apply where it is set.
	ReasonAnnotationIgnored Reason = "AnnotationIgnored"
	// ReasonBackendProtocol: a backend-protocol rukou cannot speak (FCGI,
	// AJP); the Ingress's paths answer 503.
	ReasonBackendProtocol Reason = "BackendProtocolUnsupported"
	// ReasonAuthUnsupported: an authentication annotation rukou does not
	// enforce yet; the Ingress's paths answer 503 rather than serve
	// without it.
	ReasonAuthUnsupported Reason = "AuthenticationUnsupported"
	// ReasonCanaryUnused: a canary rule has no primary route to join.
	ReasonCanaryUnused Reason = "CanaryUnused"
	// ReasonDefaultBackendUnused: the defaultBackend of an Ingress whose
	// rules all lack a host serves nothing, as in ingress-nginx.
	ReasonDefaultBackendUnused Reason = "DefaultBackendUnused"
	// ReasonInvalidConfigValue: a key of the controller's ConfigMap whose
	// value cannot be used; its default applies.
	ReasonInvalidConfigValue Reason = "InvalidConfigValue"
	// ReasonConfigKeyIgnored: a key of the controller's ConfigMap that
	// rukou does not know, does not support (yet) or refuses.
	ReasonConfigKeyIgnored Reason = "ConfigKeyIgnored"
	// ReasonPortConflict: a TCP or UDP service on a port that rukou
	// reserves or that another entry already serves.
	ReasonPortConflict Reason = "PortConflict"
	// ReasonCertificateMismatch: a TLS host whose certificate is not
	// valid for it; it is served with the default certificate.
	ReasonCertificateMismatch Reason = "CertificateMismatch"
	// ReasonExternalNameRefused: an ExternalName Service whose name is not
	// a DNS name or an IP address, or is one that would reach the proxy
	// itself (localhost, a loopback or unspecified address).
	ReasonExternalNameRefused Reason = "ExternalNameRefused"
	// ReasonGlobalRateLimitUnavailable: an Ingress asks for a global rate
	// limit and rukou serve has no rate limit service to count it in; the
	// Ingress is served without it.
	ReasonGlobalRateLimitUnavailable Reason = "GlobalRateLimitUnavailable"
)

// Reasons lists every Reason above, so that metrics show each at 0 before
// it first occurs. A test checks it against the constants.
func Reasons() []Reason {
	return []Reason{
		ReasonServiceNotFound, ReasonServicePortNotFound, ReasonResourceBackend, ReasonNoBackend,
		ReasonConflict, ReasonInvalidPath, ReasonInvalidHost, ReasonSecretNotFound, ReasonInvalidSecret,
		ReasonInvalidAnnotation, ReasonSnippetRefused, ReasonAnnotationIgnored, ReasonBackendProtocol,
		ReasonAuthUnsupported, ReasonCanaryUnused, ReasonDefaultBackendUnused, ReasonInvalidConfigValue,
		ReasonConfigKeyIgnored, ReasonPortConflict, ReasonCertificateMismatch, ReasonExternalNameRefused,
		ReasonGlobalRateLimitUnavailable,
	}
}

// Diagnostic reports one thing a frontend could not honour, on the object
// it belongs to.
type Diagnostic struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Field is the path of the field at fault, as kubectl explain spells
	// it: spec.rules[0].http.paths[1].backend.service.
	Field   string `json:"field,omitempty"`
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
}

// String renders the diagnostic the way logs and the translate command show it:
// "ingress default/web: ServiceNotFound: service "api" not found".
func (d Diagnostic) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s %s/%s: %s: %s", d.Kind, d.Namespace, d.Name, d.Reason, d.Message)
	}
	return fmt.Sprintf("%s %s/%s: %s: %s: %s", d.Kind, d.Namespace, d.Name, d.Field, d.Reason, d.Message)
}
