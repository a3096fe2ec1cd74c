package envoy

import (
	envoy_config_rbac_v3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_http_rbac_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"

	"github.com/rukou/rukou/translator/ir"
)

// blockFilterName names the RBAC filter of the listener's block lists: a
// filter of its own, because a route's access rules replace the
// configuration of the RBAC filter they configure.
const blockFilterName = "rukou.filters.http.block"

// blockRules deny the requests of blocked clients: by address (the
// client's, as the listener finds it), by User-Agent, by Referer. RBAC
// answers them with 403. They configure the block filter for a whole
// route configuration; no route configures that filter.
func blockRules(b *ir.Block) *envoy_extensions_filters_http_rbac_v3.RBACPerRoute {
	rules := &envoy_config_rbac_v3.RBAC{Action: envoy_config_rbac_v3.RBAC_DENY, Policies: map[string]*envoy_config_rbac_v3.Policy{}}
	anyRequest := []*envoy_config_rbac_v3.Permission{{Rule: &envoy_config_rbac_v3.Permission_Any{Any: true}}}
	anyClient := []*envoy_config_rbac_v3.Principal{{Identifier: &envoy_config_rbac_v3.Principal_Any{Any: true}}}
	if len(b.Addresses) > 0 {
		rules.Policies["block-addresses"] = &envoy_config_rbac_v3.Policy{Permissions: anyRequest, Principals: []*envoy_config_rbac_v3.Principal{anyAddress(b.Addresses)}}
	}
	for name, list := range map[string]struct {
		header  string
		matches []ir.StringMatch
	}{"block-user-agents": {"user-agent", b.UserAgents}, "block-referers": {"referer", b.Referers}} {
		if len(list.matches) == 0 {
			continue
		}
		set := &envoy_config_rbac_v3.Permission_Set{}
		for _, m := range list.matches {
			set.Rules = append(set.Rules, &envoy_config_rbac_v3.Permission{Rule: &envoy_config_rbac_v3.Permission_Header{Header: &envoy_config_route_v3.HeaderMatcher{
				Name:                 list.header,
				HeaderMatchSpecifier: &envoy_config_route_v3.HeaderMatcher_StringMatch{StringMatch: stringMatcher(m)},
			}}})
		}
		rules.Policies[name] = &envoy_config_rbac_v3.Policy{
			Permissions: []*envoy_config_rbac_v3.Permission{{Rule: &envoy_config_rbac_v3.Permission_OrRules{OrRules: set}}},
			Principals:  anyClient,
		}
	}
	return &envoy_extensions_filters_http_rbac_v3.RBACPerRoute{Rbac: &envoy_extensions_filters_http_rbac_v3.RBAC{Rules: rules}}
}
