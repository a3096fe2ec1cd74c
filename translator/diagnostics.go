package translator

import "fmt"

// Reason is a short, stable word for why an object or rule was not served as
// written. Reasons label metrics and Events, so they never change meaning.
type Reason string

// Reasons reported by the translator.
const (
	ReasonServiceNotFound     Reason = "ServiceNotFound"
	ReasonServicePortNotFound Reason = "ServicePortNotFound"
	ReasonResourceBackend     Reason = "ResourceBackendUnsupported"
	ReasonNoBackend           Reason = "NoBackend"
	ReasonConflict            Reason = "PathConflict"
	ReasonInvalidPath         Reason = "InvalidPath"
	ReasonInvalidHost         Reason = "InvalidHost"
)

// Diagnostic reports one thing the translator could not honour, on the object
// it belongs to.
type Diagnostic struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Reason    Reason `json:"reason"`
	Message   string `json:"message"`
}

// String renders the diagnostic the way logs and the translate command show it:
// "ingress default/web: ServiceNotFound: service "api" not found".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s %s/%s: %s: %s", d.Kind, d.Namespace, d.Name, d.Reason, d.Message)
}
