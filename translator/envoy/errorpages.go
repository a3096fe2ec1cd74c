package envoy

import (
	"strconv"

	xds_core_v3 "github.com/cncf/xds/go/xds/core/v3"
	xds_matcher_v3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_filters_http_custom_response_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/custom_response/v3"
	envoy_extensions_http_custom_response_redirect_policy_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/redirect_policy/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// customResponseFilter replaces a backend's responses of some statuses;
// without a route's configuration it replaces none.
const customResponseFilter = "envoy.filters.http.custom_response"

// internalHostFilters enables the custom response filter on the virtual
// host ir.InternalHost, where the error pages' requests are redirected:
// with no matcher of its own, it gives their answers the status that the
// redirect's policy keeps.
func internalHostFilters() map[string]*anypb.Any {
	return map[string]*anypb.Any{customResponseFilter: mustAny(&envoy_extensions_filters_http_custom_response_v3.CustomResponse{})}
}

// customResponse is a route's error pages: for each status, an internal
// redirect to ir.InternalHost with the status in a
// header, whose answer the client gets with that status (status_code, one
// policy per status). An error answer of the internal request itself is
// passed on as it is.
func customResponse(e *ir.ErrorPages) *envoy_extensions_filters_http_custom_response_v3.CustomResponse {
	list := &xds_matcher_v3.Matcher_MatcherList{}
	for _, status := range e.Statuses {
		code := strconv.FormatUint(uint64(status), 10)
		headers := []*envoy_config_core_v3.HeaderValueOption{header(ir.Header{Name: e.StatusHeader, Value: code})}
		for _, h := range e.RequestHeaders {
			headers = append(headers, header(h))
		}
		headers = append(headers, header(ir.Header{Name: ir.InternalHeader, Value: e.Token}))
		policy := &envoy_extensions_http_custom_response_redirect_policy_v3.RedirectPolicy{
			RedirectActionSpecifier: &envoy_extensions_http_custom_response_redirect_policy_v3.RedirectPolicy_Uri{Uri: "http://" + ir.InternalHost + "/"},
			StatusCode:              wrapperspb.UInt32(status),
			RequestHeadersToAdd:     headers,
		}
		list.Matchers = append(list.Matchers, &xds_matcher_v3.Matcher_MatcherList_FieldMatcher{
			Predicate: &xds_matcher_v3.Matcher_MatcherList_Predicate{
				MatchType: &xds_matcher_v3.Matcher_MatcherList_Predicate_SinglePredicate_{SinglePredicate: &xds_matcher_v3.Matcher_MatcherList_Predicate_SinglePredicate{
					Input: &xds_core_v3.TypedExtensionConfig{Name: "status", TypedConfig: mustAny(&envoy_type_matcher_v3.HttpResponseStatusCodeMatchInput{})},
					Matcher: &xds_matcher_v3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xds_matcher_v3.StringMatcher{
						MatchPattern: &xds_matcher_v3.StringMatcher_Exact{Exact: code},
					}},
				}},
			},
			OnMatch: &xds_matcher_v3.Matcher_OnMatch{OnMatch: &xds_matcher_v3.Matcher_OnMatch_Action{
				Action: &xds_core_v3.TypedExtensionConfig{Name: "redirect", TypedConfig: mustAny(policy)},
			}},
		})
	}
	return &envoy_extensions_filters_http_custom_response_v3.CustomResponse{
		CustomResponseMatcher: &xds_matcher_v3.Matcher{MatcherType: &xds_matcher_v3.Matcher_MatcherList_{MatcherList: list}},
	}
}
