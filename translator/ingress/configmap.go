package ingress

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	corev1 "k8s.io/api/core/v1"
)

// ConfigMapNamespaces are the namespaces of the ConfigMaps the options
// name, each once: rukou watches every ConfigMap there, so that the
// ConfigMaps the controller's settings name in turn (proxy-set-headers,
// add-headers) are read, and reread when they change, without a restart.
// The TCP and UDP services ConfigMaps' namespaces are watched too.
func (o Options) ConfigMapNamespaces() []string {
	var out []string
	for _, nsName := range []string{o.ConfigMap, o.TCPServices, o.UDPServices} {
		if ns, _, ok := strings.Cut(nsName, "/"); ok && !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}

// readConfigMap reads the controller's ConfigMap (Options.ConfigMap), when
// it is among cms, and reports each key it cannot honour on it.
func (b *builder) readConfigMap(cms []*corev1.ConfigMap) {
	b.settings = nginx.DefaultSettings()
	cm := findConfigMap(cms, b.opts.ConfigMap)
	if cm == nil {
		return
	}
	settings, issues := nginx.ReadConfigMap(cm.Data)
	b.settings = settings
	for _, is := range issues {
		b.diags = append(b.diags, ir.Diagnostic{
			Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name,
			Field: nginx.KeyField(is.Name), Reason: is.Reason, Message: is.Msg,
		})
	}
}

// reportConfigMap reports a diagnostic on the ConfigMap namespace/name.
func (b *builder) reportConfigMap(nsName, field string, reason ir.Reason, format string, args ...any) {
	ns, name, _ := strings.Cut(nsName, "/")
	b.diags = append(b.diags, ir.Diagnostic{
		Kind: "ConfigMap", Namespace: ns, Name: name, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...),
	})
}

// headerConfigMap reads the ConfigMap that the controller's key names
// (nsName, proxy-set-headers or add-headers) into headers, as
// ingress-nginx finds it: by namespace/name. rukou watches the ConfigMaps
// of the namespaces its flags name only (and file mode reads the same), so
// one elsewhere is reported with the way out; a missing one sets no
// header.
func (b *builder) headerConfigMap(cms []*corev1.ConfigMap, key, nsName string) []ir.Header {
	if nsName == "" {
		return nil
	}
	ns, _, _ := strings.Cut(nsName, "/")
	if !slices.Contains(b.opts.ConfigMapNamespaces(), ns) {
		b.reportConfigMap(b.opts.ConfigMap, nginx.KeyField(key), ir.ReasonInvalidConfigValue,
			"ConfigMap %s is outside the namespaces whose ConfigMaps rukou reads (%s: those of --configmap, --tcp-services-configmap and --udp-services-configmap): move it to one of them and name it in %s; no header is set",
			nsName, strings.Join(b.opts.ConfigMapNamespaces(), ", "), key)
		return nil
	}
	cm := findConfigMap(cms, nsName)
	if cm == nil {
		b.reportConfigMap(b.opts.ConfigMap, nginx.KeyField(key), ir.ReasonInvalidConfigValue, "ConfigMap %s not found; no header is set until it exists", nsName)
		return nil
	}
	headers, issues := nginx.ReadHeaders(cm.Data)
	for _, is := range issues {
		b.reportConfigMap(nsName, nginx.KeyField(is.Name), is.Reason, "%s (named by %s)", is.Msg, key)
	}
	return headers
}
