package ingress

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/translator/ir"
)

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

// TestHeaderConfigMaps: proxy-set-headers and add-headers are read from
// the ConfigMap they name in --configmap's namespace, the one rukou
// watches; one elsewhere, or missing, is reported on the controller's
// ConfigMap with what to do, and sets no header.
func TestHeaderConfigMaps(t *testing.T) {
	headers := configMap("rukou-system", "custom", map[string]string{"X-Team": "blue"})
	tests := []struct {
		name     string
		named    string
		cms      []*corev1.ConfigMap
		want     []ir.Header
		wantDiag string
	}{
		{name: "beside_the_controllers_configmap", named: "rukou-system/custom", cms: []*corev1.ConfigMap{headers}, want: []ir.Header{{Name: "X-Team", Value: "blue"}}},
		{name: "another_namespace_is_reported_with_the_way_out", named: "shop/custom", cms: []*corev1.ConfigMap{configMap("shop", "custom", map[string]string{"X-Team": "red"})}, wantDiag: `outside the namespaces whose ConfigMaps rukou reads (rukou-system:`},
		{name: "missing_is_reported", named: "rukou-system/absent", cms: []*corev1.ConfigMap{headers}, wantDiag: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cms := append(slices.Clone(tt.cms), configMap("rukou-system", "rukou", map[string]string{"proxy-set-headers": tt.named, "add-headers": tt.named}))
			opts := DefaultOptions()
			opts.ConfigMap = "rukou-system/rukou"
			m, diags := Build(Input{ConfigMaps: cms}, opts)
			for _, got := range [][]ir.Header{m.SetHeaders, m.AddHeaders} {
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("headers %+v, want %+v", got, tt.want)
				}
			}
			if tt.wantDiag == "" {
				if len(diags) != 0 {
					t.Errorf("diagnostics %v, want none", diags)
				}
				return
			}
			if len(diags) != 2 {
				t.Fatalf("diagnostics %v, want one for each key", diags)
			}
			for _, d := range diags {
				if d.Kind != "ConfigMap" || d.Namespace+"/"+d.Name != opts.ConfigMap || !strings.Contains(d.Message, tt.wantDiag) {
					t.Errorf("diagnostic %v, want one on %s saying %q", d, opts.ConfigMap, tt.wantDiag)
				}
			}
		})
	}
}

func TestConfigMapNamespaces(t *testing.T) {
	if got := (Options{}).ConfigMapNamespaces(); got != nil {
		t.Errorf("without --configmap: %q, want none", got)
	}
	if got := (Options{ConfigMap: "rukou-system/rukou", TCPServices: "rukou-system/tcp", UDPServices: "dns/udp"}).ConfigMapNamespaces(); !slices.Equal(got, []string{"rukou-system", "dns"}) {
		t.Errorf("%q, want rukou-system and dns", got)
	}
}
