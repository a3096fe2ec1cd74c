package envoy

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestLocalReplyConfig: gRPC requests meet a mapper that changes nothing
// first; then one mapper per status, whose page is a format string in
// which a "%" of the page stays a literal "%"; and Envoy's rules accept it.
func TestLocalReplyConfig(t *testing.T) {
	if localReplyConfig(nil) != nil {
		t.Error("no replies: want no local_reply_config, Envoy's own bodies")
	}
	c := localReplyConfig([]ir.LocalReply{
		{Status: 404, Body: "<h1>404 Not Found</h1>", ContentType: "text/html"},
		{Status: 503, Body: "100% busy", ContentType: "text/plain"},
	})
	if err := c.ValidateAll(); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	m := c.GetMappers()
	if len(m) != 3 {
		t.Fatalf("%d mappers, want 3", len(m))
	}
	if h := m[0].GetFilter().GetHeaderFilter().GetHeader(); h.GetName() != "content-type" || h.GetStringMatch().GetPrefix() != "application/grpc" || m[0].GetBodyFormatOverride() != nil {
		t.Errorf("first mapper %v, want gRPC requests left alone", m[0])
	}
	for i, want := range []struct {
		status      uint32
		format, typ string
	}{{404, "<h1>404 Not Found</h1>", "text/html"}, {503, "100%% busy", "text/plain"}} {
		got := m[i+1]
		if s := got.GetFilter().GetStatusCodeFilter().GetComparison().GetValue().GetDefaultValue(); s != want.status {
			t.Errorf("mapper %d: status %d, want %d", i+1, s, want.status)
		}
		f := got.GetBodyFormatOverride()
		if f.GetTextFormatSource().GetInlineString() != want.format || f.GetContentType() != want.typ {
			t.Errorf("mapper %d: %q as %q, want %q as %q", i+1, f.GetTextFormatSource().GetInlineString(), f.GetContentType(), want.format, want.typ)
		}
	}
}
