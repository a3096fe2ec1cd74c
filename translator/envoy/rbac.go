package envoy

import (
	"net/netip"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_rbac_v3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	"github.com/rukou/rukou/translator/ir"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// accessRules admit the requests whose client address is in no denied
// range and, when allowed ranges are given, in one of them. RBAC answers
// the others with 403. The client address is Envoy's: the peer, as
// use_remote_address makes it.
func accessRules(a *ir.Access) *envoy_config_rbac_v3.RBAC {
	rules := &envoy_config_rbac_v3.RBAC{Action: envoy_config_rbac_v3.RBAC_ALLOW, Policies: map[string]*envoy_config_rbac_v3.Policy{}}
	if a.DenyAll {
		return rules // no policy admits anything
	}
	var ids []*envoy_config_rbac_v3.Principal
	if len(a.Allow) > 0 {
		ids = append(ids, anyAddress(a.Allow))
	}
	if len(a.Deny) > 0 {
		ids = append(ids, &envoy_config_rbac_v3.Principal{Identifier: &envoy_config_rbac_v3.Principal_NotId{NotId: anyAddress(a.Deny)}})
	}
	rules.Policies["source-ranges"] = &envoy_config_rbac_v3.Policy{
		Permissions: []*envoy_config_rbac_v3.Permission{{Rule: &envoy_config_rbac_v3.Permission_Any{Any: true}}},
		Principals: []*envoy_config_rbac_v3.Principal{{Identifier: &envoy_config_rbac_v3.Principal_AndIds{
			AndIds: &envoy_config_rbac_v3.Principal_Set{Ids: ids},
		}}},
	}
	return rules
}

// anyAddress matches a client address in any of ranges.
func anyAddress(ranges []netip.Prefix) *envoy_config_rbac_v3.Principal {
	set := &envoy_config_rbac_v3.Principal_Set{}
	for _, c := range cidrs(ranges) {
		set.Ids = append(set.Ids, &envoy_config_rbac_v3.Principal{Identifier: &envoy_config_rbac_v3.Principal_RemoteIp{RemoteIp: c}})
	}
	return &envoy_config_rbac_v3.Principal{Identifier: &envoy_config_rbac_v3.Principal_OrIds{OrIds: set}}
}

func cidrs(ranges []netip.Prefix) []*envoy_config_core_v3.CidrRange {
	out := make([]*envoy_config_core_v3.CidrRange, 0, len(ranges))
	for _, p := range ranges {
		out = append(out, &envoy_config_core_v3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))})
	}
	return out
}
