package ingress

import (
	"slices"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	corev1 "k8s.io/api/core/v1"
)

// authHeaders reads the ConfigMap that an Ingress's auth-proxy-set-headers
// names into the extra headers of its auth requests. A ConfigMap that is
// missing or holds what cannot be a header makes the Ingress's paths answer
// 503, as ingress-nginx denies the location, rather than serve them with an
// authentication other than the one asked for.
func authHeaders(ann *nginx.Annotations, cms []*corev1.ConfigMap) {
	if ann.Policy == nil || ann.Policy.ExternalAuth == nil || ann.Policy.ExternalAuth.ProxySetHeaders == "" {
		return
	}
	ext := ann.Policy.ExternalAuth
	deny := denier(ann, "auth-proxy-set-headers", "; the Ingress's paths answer 503 rather than serve without authentication")
	i := slices.IndexFunc(cms, func(cm *corev1.ConfigMap) bool { return cm.Namespace+"/"+cm.Name == ext.ProxySetHeaders })
	if i < 0 {
		// In a cluster rukou watches the ConfigMaps of the namespaces its
		// flags name (--configmap's) only.
		deny(ir.ReasonInvalidAnnotation, "ConfigMap %s not found among those rukou watches (the namespaces of --configmap's ConfigMap)", ext.ProxySetHeaders)
		return
	}
	headers, err := nginx.AuthRequestHeaders(cms[i].Data)
	if err != nil {
		deny(ir.ReasonInvalidAnnotation, "ConfigMap %s: %v", ext.ProxySetHeaders, err)
		return
	}
	// The reader's value is the Ingress's own: a copy, so that a canary or
	// a later translation never sees another ConfigMap's headers.
	copied := *ext
	copied.RequestHeaders = headers
	p := *ann.Policy
	p.ExternalAuth = &copied
	ann.Policy = &p
}
