package envoy

import (
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/rukou/rukou/translator/ir"
)

// LoadAssignment is the ClusterLoadAssignment of one cluster, with its
// endpoints as messages: the load assignment a STATIC or STRICT_DNS
// cluster carries inline.
func LoadAssignment(c *ir.Cluster) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	cla := &envoy_config_endpoint_v3.ClusterLoadAssignment{ClusterName: c.Name}
	if len(c.Endpoints) > 0 {
		lb := &envoy_config_endpoint_v3.LocalityLbEndpoints{}
		for _, ep := range c.Endpoints {
			lb.LbEndpoints = append(lb.LbEndpoints, &envoy_config_endpoint_v3.LbEndpoint{
				HostIdentifier: &envoy_config_endpoint_v3.LbEndpoint_Endpoint{Endpoint: &envoy_config_endpoint_v3.Endpoint{
					Address: socketAddress(ep.Address, uint32(ep.Port)),
				}},
			})
		}
		cla.Endpoints = []*envoy_config_endpoint_v3.LocalityLbEndpoints{lb}
	}
	return cla
}

// Assignment is the ClusterLoadAssignment of an EDS cluster as it is
// served: its endpoints, once checked with Envoy's validation rules, are
// held as their encoding (holdEncoded) rather than as messages. An
// endpoint as messages takes about 450 bytes, its encoding about 25: at
// 10,000 Services of 5 endpoints, 23.5 MB of the live heap against 3. An
// assignment that fails validation is returned as messages, for Validate
// to report.
func Assignment(c *ir.Cluster) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	full := LoadAssignment(c)
	if len(full.Endpoints) == 0 || full.ValidateAll() != nil {
		return full
	}
	out, ok := holdEncoded(full, &envoy_config_endpoint_v3.ClusterLoadAssignment{ClusterName: full.ClusterName},
		func(name string) { full.ClusterName = name })
	if !ok {
		return full
	}
	return out
}
