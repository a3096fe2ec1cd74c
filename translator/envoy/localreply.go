package envoy

import (
	"slices"

	envoy_config_accesslog_v3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// localReplyConfig gives Envoy's own answers of the listed statuses their
// bodies: Envoy tries the mappers in order and applies the first whose
// filter matches. Envoy's own answers are router and filter replies (no
// route, no healthy endpoint, 413 of the buffer filter, limits) and direct
// responses, which Envoy sends as local replies too. A gRPC request meets
// a mapper that changes nothing first: Envoy answers it with status 200
// and a grpc-status, and would put a body in its grpc-message header. nil
// leaves Envoy's bodies (mostly none).
func localReplyConfig(replies []ir.LocalReply) *envoy_extensions_filters_network_http_connection_manager_v3.LocalReplyConfig {
	if len(replies) == 0 {
		return nil
	}
	out := &envoy_extensions_filters_network_http_connection_manager_v3.LocalReplyConfig{
		Mappers: []*envoy_extensions_filters_network_http_connection_manager_v3.ResponseMapper{{Filter: grpcRequest}},
	}
	for _, r := range replies {
		out.Mappers = append(out.Mappers, &envoy_extensions_filters_network_http_connection_manager_v3.ResponseMapper{
			Filter:             statusIs(r.Status),
			BodyFormatOverride: bodyFormat(r),
		})
	}
	return out
}

// bodyFormat is a reply's body as Envoy's format string.
func bodyFormat(r ir.LocalReply) *envoy_config_core_v3.SubstitutionFormatString {
	return &envoy_config_core_v3.SubstitutionFormatString{
		Format: &envoy_config_core_v3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &envoy_config_core_v3.DataSource{
			// The body is a format string.
			Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: formatLiteral(r.Body)},
		}},
		ContentType: r.ContentType,
	}
}

// statusIs holds for replies of the status.
func statusIs(status uint32) *envoy_config_accesslog_v3.AccessLogFilter {
	return statusOp(envoy_config_accesslog_v3.ComparisonFilter_EQ, status)
}

// statusOp holds for replies whose status compares so with status.
func statusOp(op envoy_config_accesslog_v3.ComparisonFilter_Op, status uint32) *envoy_config_accesslog_v3.AccessLogFilter {
	return &envoy_config_accesslog_v3.AccessLogFilter{FilterSpecifier: &envoy_config_accesslog_v3.AccessLogFilter_StatusCodeFilter{
		StatusCodeFilter: &envoy_config_accesslog_v3.StatusCodeFilter{Comparison: &envoy_config_accesslog_v3.ComparisonFilter{
			Op:    op,
			Value: &envoy_config_core_v3.RuntimeUInt32{DefaultValue: status},
		}},
	}}
}

// statusBetween holds for replies whose status is from lo to hi.
func statusBetween(lo, hi uint32) *envoy_config_accesslog_v3.AccessLogFilter {
	return allOf(statusOp(envoy_config_accesslog_v3.ComparisonFilter_GE, lo), statusOp(envoy_config_accesslog_v3.ComparisonFilter_LE, hi))
}

// allOf holds when every one of fs does, anyOf when one does; Envoy
// stops at the first that decides.
func allOf(fs ...*envoy_config_accesslog_v3.AccessLogFilter) *envoy_config_accesslog_v3.AccessLogFilter {
	return &envoy_config_accesslog_v3.AccessLogFilter{FilterSpecifier: &envoy_config_accesslog_v3.AccessLogFilter_AndFilter{AndFilter: &envoy_config_accesslog_v3.AndFilter{Filters: fs}}}
}

func anyOf(fs ...*envoy_config_accesslog_v3.AccessLogFilter) *envoy_config_accesslog_v3.AccessLogFilter {
	return &envoy_config_accesslog_v3.AccessLogFilter{FilterSpecifier: &envoy_config_accesslog_v3.AccessLogFilter_OrFilter{OrFilter: &envoy_config_accesslog_v3.OrFilter{Filters: fs}}}
}

// grpcRequest holds for gRPC requests, notGRPCRequest for the others.
var grpcRequest, notGRPCRequest = grpcContentType(false), grpcContentType(true)

func grpcContentType(invert bool) *envoy_config_accesslog_v3.AccessLogFilter {
	return &envoy_config_accesslog_v3.AccessLogFilter{FilterSpecifier: &envoy_config_accesslog_v3.AccessLogFilter_HeaderFilter{
		HeaderFilter: &envoy_config_accesslog_v3.HeaderFilter{Header: &envoy_config_route_v3.HeaderMatcher{
			Name: "content-type",
			HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: &envoy_type_matcher_v3.StringMatcher{
				MatchPattern: &envoy_type_matcher_v3.StringMatcher_Prefix{Prefix: "application/grpc"},
			}},
			InvertMatch: invert,
			// Without it, a request without the header would match
			// neither way.
			TreatMissingHeaderAsEmpty: invert,
		}},
	}}
}

// tlsFailed holds when Envoy answers because the connection to the
// endpoint failed in its TLS handshake (a certificate not trusted, no
// version or suite in common): Envoy names the failure "TLS_error:..." in
// the upstream's transport failure reason, where a refused connection
// has a reason of its own. Envoy answers both with 503.
var tlsFailed = allOf(statusIs(503), celFilter(`upstream.transport_failure_reason.startsWith('TLS_error')`))

// withTLSFailure makes Envoy's answer to a failed TLS handshake with an
// endpoint carry status (nginx's 502) with that status's body, after the
// mapper that leaves gRPC requests alone: Envoy applies only the first
// mapper that matches. Zero status leaves c as it is.
func withTLSFailure(c *envoy_extensions_filters_network_http_connection_manager_v3.LocalReplyConfig, replies []ir.LocalReply, status uint32) *envoy_extensions_filters_network_http_connection_manager_v3.LocalReplyConfig {
	if status == 0 {
		return c
	}
	m := &envoy_extensions_filters_network_http_connection_manager_v3.ResponseMapper{Filter: tlsFailed, StatusCode: wrapperspb.UInt32(status)}
	if c == nil {
		return &envoy_extensions_filters_network_http_connection_manager_v3.LocalReplyConfig{Mappers: []*envoy_extensions_filters_network_http_connection_manager_v3.ResponseMapper{m}}
	}
	for _, r := range replies {
		if r.Status == status {
			m.BodyFormatOverride = bodyFormat(r)
		}
	}
	c.Mappers = slices.Insert(c.Mappers, 1, m)
	return c
}
