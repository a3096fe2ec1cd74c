package envoy

import (
	"testing"

	envoy_extensions_http_custom_response_redirect_policy_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/redirect_policy/v3"
	"github.com/rukou/rukou/translator/ir"
)

// TestCustomResponse: one matcher per status, each an internal redirect to
// the internal host that keeps its status and says it in the status
// header, with the token that admits it; and Envoy's rules accept it.
func TestCustomResponse(t *testing.T) {
	cr := customResponse(&ir.ErrorPages{
		Statuses: []uint32{404, 503}, StatusHeader: "X-Code", Token: "s3cret ns/svc/80",
		RequestHeaders: []ir.Header{{Name: "X-Namespace", Value: "ns"}},
	})
	if err := validateAnys(cr); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	matchers := cr.GetCustomResponseMatcher().GetMatcherList().GetMatchers()
	if len(matchers) != 2 {
		t.Fatalf("%d matchers, want 2", len(matchers))
	}
	for i, want := range []uint32{404, 503} {
		var p envoy_extensions_http_custom_response_redirect_policy_v3.RedirectPolicy
		if err := matchers[i].GetOnMatch().GetAction().GetTypedConfig().UnmarshalTo(&p); err != nil {
			t.Fatal(err)
		}
		if p.GetStatusCode().GetValue() != want || p.GetUri() != "http://"+ir.InternalHost+"/" {
			t.Errorf("policy %d: status %d to %q", i, p.GetStatusCode().GetValue(), p.GetUri())
		}
		got := map[string]string{}
		for _, h := range p.GetRequestHeadersToAdd() {
			got[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		if got["X-Code"] != matchers[i].GetPredicate().GetSinglePredicate().GetValueMatch().GetExact() || got["X-Namespace"] != "ns" || got[ir.InternalHeader] != "s3cret ns/svc/80" {
			t.Errorf("policy %d headers %v", i, got)
		}
	}
}
