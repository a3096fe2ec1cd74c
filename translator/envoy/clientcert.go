package envoy

import (
	envoy_config_common_mutation_rules_v3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_common_set_filter_state_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	envoy_extensions_filters_network_set_filter_state_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	envoy_extensions_http_early_header_mutation_header_mutation_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rukou/rukou/translator/ir"
)

// serverNameKey is the connection's filter state that holds the client's
// SNI, which routes of hosts that verify clients match on: the
// certificate was checked by the chain that SNI picked, so a request for
// the host on a connection of another chain must not pass for it. Only
// chains that check clients set it: on the others the match never holds,
// even where a wildcard's pattern would take their SNI.
const serverNameKey = "rukou.sni"

// clientSubjectHeader carries the client certificate's subject from the
// connection manager's early header mutation, which runs before a route
// is picked, to the route matchers that check it; routes never pass it
// on, and a client's own copy is replaced.
const clientSubjectHeader = "x-rukou-client-subject"

// clientValidation is the validation of a chain that verifies clients:
// the CA (and CRLs) come over SDS, so that a new CA changes no listener.
// The handshake completes whatever the client presents
// (ACCEPT_UNTRUSTED, no certificate required) and routes answer, as nginx
// answers 400 over an established connection. Envoy counts the depth
// without the client's own certificate's issuer, one less than OpenSSL's
// verify depth that nginx sets.
func clientValidation(c *ir.ClientValidation) *envoy_extensions_transport_sockets_tls_v3.CommonTlsContext_CombinedValidationContext {
	return &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &envoy_extensions_transport_sockets_tls_v3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext: &envoy_extensions_transport_sockets_tls_v3.CertificateValidationContext{
				TrustChainVerification: envoy_extensions_transport_sockets_tls_v3.CertificateValidationContext_ACCEPT_UNTRUSTED,
				MaxVerifyDepth:         wrapperspb.UInt32(c.Depth + 1),
			},
			ValidationContextSdsSecretConfig: &envoy_extensions_transport_sockets_tls_v3.SdsSecretConfig{Name: c.CA, SdsConfig: adsConfigSource()},
		},
	}
}

// validationSecret renders the CAs (and CRLs) that verify clients. A CRL
// makes Envoy check every certificate of the chain against a CRL of its
// issuer, as nginx's ssl_crl does.
func validationSecret(s *ir.Secret) *envoy_extensions_transport_sockets_tls_v3.Secret {
	v := &envoy_extensions_transport_sockets_tls_v3.CertificateValidationContext{
		TrustedCa: &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineBytes{InlineBytes: s.CA}},
	}
	if len(s.CRL) > 0 {
		v.Crl = &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineBytes{InlineBytes: s.CRL}}
	}
	return &envoy_extensions_transport_sockets_tls_v3.Secret{
		Name: s.Name,
		Type: &envoy_extensions_transport_sockets_tls_v3.Secret_ValidationContext{ValidationContext: v},
	}
}

// serverNameFilter records the client's SNI in the connection's filter
// state, for routes that match on it (ir.Match.ServerName).
func serverNameFilter() *envoy_config_listener_v3.Filter {
	return connectionValue(serverNameKey, "%REQUESTED_SERVER_NAME%")
}

// schemeKey is the filter state of the scheme of the listener a connection
// came to, which the routes of a route table that both listeners read
// match (ir.Match.Scheme) and the headers of the connection's scheme
// copy (ir.Scheme): the request's own :scheme is what an HTTP/2 client
// says, or, over HTTP/1, a trusted load balancer's X-Forwarded-Proto.
const schemeKey = "rukou.scheme"

// connectionValue is a network filter that records format, an Envoy
// format string, as the connection's filter state key, for routes to
// match.
func connectionValue(key, format string) *envoy_config_listener_v3.Filter {
	return &envoy_config_listener_v3.Filter{
		Name: "envoy.filters.network.set_filter_state",
		ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_filters_network_set_filter_state_v3.Config{
			OnNewConnection: []*envoy_extensions_filters_common_set_filter_state_v3.FilterStateValue{{
				Key:        &envoy_extensions_filters_common_set_filter_state_v3.FilterStateValue_ObjectKey{ObjectKey: key},
				FactoryKey: "envoy.string",
				Value: &envoy_extensions_filters_common_set_filter_state_v3.FilterStateValue_FormatString{FormatString: &envoy_config_core_v3.SubstitutionFormatString{
					Format: &envoy_config_core_v3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &envoy_config_core_v3.DataSource{
						Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: format},
					}},
				}},
				ReadOnly: true,
			}},
		})},
	}
}

// clientSubjectMutation copies the client certificate's subject into
// clientSubjectHeader before routing, removing any the client sent; a
// connection without a certificate leaves it absent.
func clientSubjectMutation() *envoy_config_core_v3.TypedExtensionConfig {
	return &envoy_config_core_v3.TypedExtensionConfig{
		Name: "envoy.http.early_header_mutation.header_mutation",
		TypedConfig: mustAny(&envoy_extensions_http_early_header_mutation_header_mutation_v3.HeaderMutation{
			Mutations: []*envoy_config_common_mutation_rules_v3.HeaderMutation{
				{Action: &envoy_config_common_mutation_rules_v3.HeaderMutation_Remove{Remove: clientSubjectHeader}},
				{Action: &envoy_config_common_mutation_rules_v3.HeaderMutation_Append{Append: &envoy_config_core_v3.HeaderValueOption{
					Header:       &envoy_config_core_v3.HeaderValue{Key: clientSubjectHeader, Value: "%DOWNSTREAM_PEER_SUBJECT%"},
					AppendAction: envoy_config_core_v3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
				}}},
			},
		}),
	}
}

// certMatch renders what a route asks of the client's certificate.
func certMatch(out *envoy_config_route_v3.RouteMatch, m *ir.CertMatch) {
	if m.Presented != nil || m.Validated != nil {
		out.TlsContext = &envoy_config_route_v3.RouteMatch_TlsContextMatchOptions{}
		if m.Presented != nil {
			out.TlsContext.Presented = wrapperspb.Bool(*m.Presented)
		}
		if m.Validated != nil {
			out.TlsContext.Validated = wrapperspb.Bool(*m.Validated)
		}
	}
	if m.SubjectLacks != "" {
		// Envoy's regex matches the whole value, nginx's "~" searches it.
		out.Headers = append(out.Headers, &envoy_config_route_v3.HeaderMatcher{
			Name: clientSubjectHeader,
			HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: &envoy_type_matcher_v3.StringMatcher{
				MatchPattern: &envoy_type_matcher_v3.StringMatcher_SafeRegex{SafeRegex: &envoy_type_matcher_v3.RegexMatcher{Regex: ".*(?:" + m.SubjectLacks + ").*"}},
			}},
			InvertMatch:               true,
			TreatMissingHeaderAsEmpty: true,
		})
	}
}

// serverNameMatch renders a match on the client's SNI.
func serverNameMatch(m *ir.StringMatch) *envoy_type_matcher_v3.FilterStateMatcher {
	return &envoy_type_matcher_v3.FilterStateMatcher{
		Key:     serverNameKey,
		Matcher: &envoy_type_matcher_v3.FilterStateMatcher_StringMatch{StringMatch: stringMatcher(*m)},
	}
}

// listenerMatchesSubject says whether any route of a listener matches on
// the client certificate's subject.
func listenerMatchesSubject(l *ir.Listener) bool {
	for _, vh := range l.VirtualHosts {
		for _, r := range vh.Routes {
			if r.Match.ClientCert != nil && r.Match.ClientCert.SubjectLacks != "" {
				return true
			}
		}
	}
	return false
}

// chainFilters are a TLS chain's network filters: a chain that checks
// clients first records the SNI that picked it.
func chainFilters(c *ir.FilterChain, filters []*envoy_config_listener_v3.Filter) []*envoy_config_listener_v3.Filter {
	if c.Clients == nil {
		return filters
	}
	return append([]*envoy_config_listener_v3.Filter{serverNameFilter()}, filters...)
}
