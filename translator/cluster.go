package translator

import (
	"strconv"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

const connectTimeout = 5 * time.Second

// clusters returns one EDS cluster per backend; endpoints arrive separately
// so that an endpoint change never rebuilds a cluster.
func clusters(m *Model) []*envoy_config_cluster_v3.Cluster {
	out := make([]*envoy_config_cluster_v3.Cluster, 0, len(m.Backends))
	for _, be := range m.Backends {
		out = append(out, &envoy_config_cluster_v3.Cluster{
			Name:                 be.Name,
			AltStatName:          statName(be),
			ClusterDiscoveryType: &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_EDS},
			EdsClusterConfig: &envoy_config_cluster_v3.Cluster_EdsClusterConfig{
				EdsConfig:   adsConfigSource(),
				ServiceName: be.Name,
			},
			ConnectTimeout: durationpb.New(connectTimeout),
			LbPolicy:       envoy_config_cluster_v3.Cluster_ROUND_ROBIN,
		})
	}
	return out
}

// statName keeps "/" out of Envoy's stat names, where it reads as a path.
func statName(be *Backend) string {
	return be.Namespace + "_" + be.Service + "_" + strconv.Itoa(int(be.Port))
}

func endpoints(m *Model) []*envoy_config_endpoint_v3.ClusterLoadAssignment {
	out := make([]*envoy_config_endpoint_v3.ClusterLoadAssignment, 0, len(m.Backends))
	for _, be := range m.Backends {
		out = append(out, loadAssignment(be))
	}
	return out
}

// loadAssignment is the ClusterLoadAssignment of one backend.
func loadAssignment(be *Backend) *envoy_config_endpoint_v3.ClusterLoadAssignment {
	cla := &envoy_config_endpoint_v3.ClusterLoadAssignment{ClusterName: be.Name}
	if len(be.Endpoints) > 0 {
		lb := &envoy_config_endpoint_v3.LocalityLbEndpoints{}
		for _, ep := range be.Endpoints {
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
