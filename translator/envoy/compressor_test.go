package envoy

import (
	"strings"
	"testing"

	envoy_extensions_filters_http_compressor_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/rukou/rukou/translator/ir"
)

// TestCompressorsValidate: the compressors, with every option rukou sets
// (several methods, media types or every type, a User-Agent matcher), pass
// Envoy's rules once their Anys are opened; a listener that compresses
// nothing has no compressor.
func TestCompressorsValidate(t *testing.T) {
	filters := compressors([]*ir.Compression{
		{Method: ir.Brotli, Level: 11, MinLength: 0},
		{Method: ir.Gzip, Level: 9, MinLength: 256, MediaTypes: []string{"text/html", "text/css"}, SkipUserAgent: `(?i)MSIE [4-6]\.`},
	})
	if len(filters) != 2 {
		t.Fatalf("%d filters for 2 methods", len(filters))
	}
	for _, f := range filters {
		if err := validateAnys(f); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	if n := len(compressors(nil)); n != 0 {
		t.Errorf("%d compressors for a listener that compresses nothing", n)
	}
}

// TestValidateAnysOpensFilterConfigs: a filter configuration that breaks
// Envoy's rules (a compressor without its library) passes ValidateAll of
// the filter that packs it, and not validateAnys.
func TestValidateAnysOpensFilterConfigs(t *testing.T) {
	f := &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{
		Name: "broken",
		ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{
			TypedConfig: mustAny(&envoy_extensions_filters_http_compressor_v3.Compressor{}),
		},
	}
	if err := f.ValidateAll(); err != nil {
		t.Fatalf("ValidateAll opened the Any: %v", err)
	}
	if err := validateAnys(f); err == nil || !strings.Contains(err.Error(), "CompressorLibrary") {
		t.Errorf("validateAnys: %v, want the missing compressor library", err)
	}
}
