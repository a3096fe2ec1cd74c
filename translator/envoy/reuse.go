package envoy

import (
	"reflect"
	"slices"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/rukou/rukou/translator/ir"
)

// RenderAfter is Render of cfg reusing what prev, the rendering of
// prevCfg, made of the virtual hosts and clusters that are the same in
// both models: the very objects, already validated. The resources are
// equal to Render's; they only share more. A change of one Ingress among
// 10,000 then renders, validates and encodes one virtual host and one
// cluster instead of all of them (the xDS server versions a resource it
// has seen by its pointer, and encodes a route configuration from its
// virtual hosts' encodings). prev and prevCfg may be nil.
func RenderAfter(prevCfg *ir.Config, prev *Resources, cfg *ir.Config) *Resources {
	sh := newShared()
	if prevCfg != nil && prev != nil {
		sh.before = rendered(prevCfg, prev)
		// Nearly everything is reused after a small change: size the set
		// once instead of growing it through every doubling.
		sh.reused = make(map[any]bool, len(sh.before.hosts)+len(prev.Clusters)+len(prev.Endpoints))
	}
	return render(cfg, sh)
}

// earlier is what a rendering made of each virtual host and cluster.
type earlier struct {
	hosts    map[hostKey]keptHost
	clusters map[string]keptCluster
}

// hostKey names a virtual host of a route configuration: when the plain
// and the TLS listener have tables of their own, a host of both may
// differ between them.
type hostKey struct{ table, host string }

type keptHost struct {
	model *ir.VirtualHost
	out   *envoy_config_route_v3.VirtualHost
}

type keptCluster struct {
	model   *ir.Cluster
	cluster *envoy_config_cluster_v3.Cluster
	// cla is the cluster's endpoint assignment; nil unless it is an EDS
	// cluster.
	cla *envoy_config_endpoint_v3.ClusterLoadAssignment
}

// rendered pairs the model's virtual hosts and clusters with what res,
// its rendering, made of them. Render makes one route configuration
// for each listener that reads no other's, in the listeners' order, and
// an endpoint assignment for each EDS cluster, in the clusters' order;
// a pair whose names differ is left out.
func rendered(cfg *ir.Config, res *Resources) *earlier {
	hosts := 0
	for _, rc := range res.Routes {
		hosts += len(rc.VirtualHosts)
	}
	e := &earlier{hosts: make(map[hostKey]keptHost, hosts), clusters: make(map[string]keptCluster, len(cfg.Clusters))}
	next := 0
	for _, l := range cfg.Listeners {
		if l.Routes != "" {
			continue
		}
		if next >= len(res.Routes) || res.Routes[next].Name != l.Name || len(res.Routes[next].VirtualHosts) != len(l.VirtualHosts) {
			break
		}
		for i, vh := range res.Routes[next].VirtualHosts {
			k := hostKey{l.Name, vh.Name}
			if _, ok := e.hosts[k]; !ok && vh.Name == l.VirtualHosts[i].Name {
				e.hosts[k] = keptHost{model: l.VirtualHosts[i], out: vh}
			}
		}
		next++
	}
	if len(res.Clusters) != len(cfg.Clusters) {
		return e
	}
	at := 0
	for i, c := range cfg.Clusters {
		k := keptCluster{model: c, cluster: res.Clusters[i]}
		if c.Discovery == ir.DiscoveryEDS {
			if at >= len(res.Endpoints) || res.Endpoints[at].ClusterName != c.Name {
				return e
			}
			k.cla = res.Endpoints[at]
			at++
		}
		if k.cluster.Name == c.Name {
			e.clusters[c.Name] = k
		}
	}
	return e
}

// keptHost is the virtual host rendered before for vh, when vh is the
// same as the model it was rendered from.
func (s *shared) keptHost(vh *ir.VirtualHost) (*envoy_config_route_v3.VirtualHost, bool) {
	if s.before == nil {
		return nil, false
	}
	k, ok := s.before.hosts[hostKey{s.table, vh.Name}]
	if !ok || !reflect.DeepEqual(k.model, vh) {
		return nil, false
	}
	s.reused[k.out] = true
	return k.out, true
}

// clusterOf renders c and its endpoint assignment (nil unless c is an EDS
// cluster), or reuses those rendered before: the cluster when only its
// endpoints changed, both when nothing did.
func (s *shared) clusterOf(c *ir.Cluster) (*envoy_config_cluster_v3.Cluster, *envoy_config_endpoint_v3.ClusterLoadAssignment) {
	var k keptCluster
	if s.before != nil {
		k = s.before.clusters[c.Name]
	}
	eds := c.Discovery == ir.DiscoveryEDS
	out, cla := k.cluster, k.cla
	if k.model == nil || !sameCluster(k.model, c) {
		out, cla = s.cluster(c), nil
	} else {
		s.reused[out] = true
	}
	if !eds {
		return out, nil
	}
	if cla == nil || !slices.Equal(k.model.Endpoints, c.Endpoints) {
		return out, Assignment(c)
	}
	s.reused[cla] = true
	return out, cla
}

// sameCluster says a and b render the same cluster: they are equal, apart
// from the endpoints of an EDS cluster, which its assignment carries.
func sameCluster(a, b *ir.Cluster) bool {
	x, y := *a, *b
	if x.Discovery == ir.DiscoveryEDS && y.Discovery == ir.DiscoveryEDS {
		x.Endpoints, y.Endpoints = nil, nil
	}
	return reflect.DeepEqual(x, y)
}
