package envoy

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestCompressorsValidate: the compressors reach Envoy packed in Anys,
// which the resources' own validation does not open; each is checked
// here with Envoy's rules, in every shape it takes.
func TestCompressorsValidate(t *testing.T) {
	methods := []*ir.Compression{
		{Method: ir.Brotli, Level: 11, MinLength: 0},
		{Method: ir.Gzip, Level: 9, MinLength: 256, MediaTypes: []string{"text/html", "text/css"}, SkipUserAgent: `(?i)MSIE [4-6]\.`},
	}
	filters := compressors(methods)
	if len(filters) != 2 {
		t.Fatalf("%d filters for 2 methods", len(filters))
	}
	for i, c := range methods {
		config := compressor(c, i == 0)
		if err := config.(interface{ ValidateAll() error }).ValidateAll(); err != nil {
			t.Errorf("%s: %v", c.Method, err)
		}
		if c.SkipUserAgent != "" {
			wrapped := skippedForUserAgents(config, compressorFilter(c.Method), c.SkipUserAgent)
			if err := wrapped.(interface{ ValidateAll() error }).ValidateAll(); err != nil {
				t.Errorf("%s skipped for user agents: %v", c.Method, err)
			}
		}
		if err := compressionLibrary(c).(interface{ ValidateAll() error }).ValidateAll(); err != nil {
			t.Errorf("%s library: %v", c.Method, err)
		}
	}
	if n := len(compressors(nil)); n != 0 {
		t.Errorf("%d compressors for a listener that compresses nothing", n)
	}
}
