package envoy

import (
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/rukou/rukou/translator/ir"
)

// LoadAssignment is the ClusterLoadAssignment of one cluster: its
// endpoints, served over EDS.
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
