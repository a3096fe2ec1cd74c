package ingress

import (
	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	corev1 "k8s.io/api/core/v1"
)

// customHeaders reads the ConfigMap that an Ingress's custom-headers names
// into the headers of its responses. As ingress-nginx denies the location,
// a ConfigMap that is missing, or that holds a header that is not allowed
// (the controller's global-allowed-response-headers), makes the Ingress's
// paths answer 503.
func customHeaders(ann *nginx.Annotations, cms []*corev1.ConfigMap, allowed []string) {
	if ann.Policy == nil || ann.Policy.CustomHeaders == "" {
		return
	}
	nsName := ann.Policy.CustomHeaders
	deny := denier(ann, "custom-headers", "; the Ingress's paths answer 503, as ingress-nginx denies them")
	cm := findConfigMap(cms, nsName)
	if cm == nil {
		// In a cluster rukou watches the ConfigMaps of the namespaces its
		// flags name (--configmap's) only.
		deny(ir.ReasonInvalidAnnotation, "ConfigMap %s not found among those rukou watches (the namespaces of --configmap's ConfigMap)", nsName)
		return
	}
	headers, err := nginx.CustomHeaders(cm.Data, allowed)
	if err != nil {
		deny(ir.ReasonInvalidAnnotation, "ConfigMap %s: %v", nsName, err)
		return
	}
	// The reader's value is the Ingress's own: a copy, so that a later
	// translation never sees another ConfigMap's headers.
	p := *ann.Policy
	p.ResponseHeaders = headers
	ann.Policy = &p
}
