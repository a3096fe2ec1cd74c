package envoy

import (
	"cmp"
	"fmt"
	"slices"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/rukou/rukou/translator/ir"
)

// Resources are the Envoy resources of one translation, each list sorted by
// name, apart from the listeners: the HTTP ones, then the TCP and UDP ones
// by port. Every route configuration is referenced by a listener, every cluster
// by a route and every endpoint assignment belongs to an EDS cluster (the
// other clusters carry their endpoints), so a
// snapshot of them is consistent for state-of-the-world ADS.
type Resources struct {
	Listeners []*envoy_config_listener_v3.Listener
	Routes    []*envoy_config_route_v3.RouteConfiguration
	Clusters  []*envoy_config_cluster_v3.Cluster
	Endpoints []*envoy_config_endpoint_v3.ClusterLoadAssignment
	Secrets   []*envoy_extensions_transport_sockets_tls_v3.Secret

	// validated holds the resources and virtual hosts reused from an
	// earlier rendering (RenderAfter), which Validate checked then.
	validated map[any]bool
}

// validator is what every generated Envoy proto implements (protoc-gen-validate).
type validator interface{ ValidateAll() error }

// Validate checks every resource with the Envoy API's own validation rules,
// so that Envoy never has to reject what rukou sends.
func (r *Resources) Validate() error {
	check := func(kind, name string, v validator) error {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s %q: %w", kind, name, err)
		}
		return nil
	}
	for _, l := range r.Listeners {
		if err := check("listener", l.Name, l); err != nil {
			return err
		}
		// Listeners are few and carry the filters' configurations.
		if err := validateAnys(l); err != nil {
			return fmt.Errorf("listener %q: %w", l.Name, err)
		}
	}
	// What was reused was checked when first rendered; the set is this
	// rendering's own, so it takes the new checks as well.
	seen := r.validated
	if seen == nil {
		seen = map[any]bool{}
	}
	for _, rc := range r.Routes {
		if err := validateRouteConfiguration(rc, seen); err != nil {
			return fmt.Errorf("route configuration %q: %w", rc.Name, err)
		}
	}
	for _, c := range r.Clusters {
		if seen[c] {
			continue
		}
		if err := check("cluster", c.Name, c); err != nil {
			return err
		}
	}
	for _, e := range r.Endpoints {
		if seen[e] {
			continue
		}
		if err := check("cluster load assignment", e.ClusterName, e); err != nil {
			return err
		}
	}
	for _, s := range r.Secrets {
		if err := check("secret", s.Name, s); err != nil {
			return err
		}
	}
	r.validated = nil // all checked now; let go of the set
	return nil
}

// validateRouteConfiguration checks a route configuration with Envoy's
// rules, each virtual host and route once across calls (seen): Render
// shares one object among the virtual hosts and the listeners that hold
// the same host or route (the plain and the TLS listener carry every
// host), and checking it again for each would double the cost of
// validation. A message is checked without the shared messages it holds
// (its only rule on them is that each is valid), which are then restored.
func validateRouteConfiguration(rc *envoy_config_route_v3.RouteConfiguration, seen map[any]bool) error {
	for _, vh := range rc.VirtualHosts {
		if seen[vh] || len(vh.ProtoReflect().GetUnknown()) > 0 {
			continue // checked, or held (shared.held), which checked it
		}
		seen[vh] = true
		if err := validateVirtualHost(vh, seen); err != nil {
			return fmt.Errorf("virtual host %q: %w", vh.Name, err)
		}
	}
	hosts := rc.VirtualHosts
	rc.VirtualHosts = nil
	defer func() { rc.VirtualHosts = hosts }()
	return rc.ValidateAll()
}

func validateVirtualHost(vh *envoy_config_route_v3.VirtualHost, seen map[any]bool) error {
	for _, route := range vh.Routes {
		if seen[route] {
			continue
		}
		seen[route] = true
		if err := route.ValidateAll(); err != nil {
			return fmt.Errorf("route %q: %w", route.Name, err)
		}
	}
	routes := vh.Routes
	vh.Routes = nil
	defer func() { vh.Routes = routes }()
	return vh.ValidateAll()
}

// Render turns a routing model into Envoy resources, one to one.
func Render(cfg *ir.Config) *Resources { return render(cfg, newShared()) }

func render(cfg *ir.Config, sh *shared) *Resources {
	r := &Resources{
		Listeners: make([]*envoy_config_listener_v3.Listener, 0, len(cfg.Listeners)),
		Routes:    make([]*envoy_config_route_v3.RouteConfiguration, 0, len(cfg.Listeners)),
		Clusters:  make([]*envoy_config_cluster_v3.Cluster, 0, len(cfg.Clusters)),
		Endpoints: make([]*envoy_config_endpoint_v3.ClusterLoadAssignment, 0, len(cfg.Clusters)),
	}
	rewriting := rewritingListeners(cfg.Listeners)
	for _, l := range cfg.Listeners {
		r.Listeners = append(r.Listeners, listener(l, rewriting[l.Name]))
		if l.Routes == "" {
			r.Routes = append(r.Routes, routeConfiguration(l, sh))
		}
	}
	for _, s := range cfg.Streams {
		r.Listeners = append(r.Listeners, streamListener(s))
	}
	for _, c := range cfg.Clusters {
		cluster, cla := sh.clusterOf(c)
		r.Clusters = append(r.Clusters, cluster)
		if cla != nil {
			r.Endpoints = append(r.Endpoints, cla)
		}
	}
	r.validated = sh.reused
	for _, s := range cfg.Secrets {
		r.Secrets = append(r.Secrets, secret(s))
	}
	for _, c := range cfg.Credentials {
		r.Secrets = append(r.Secrets, credentialsSecret(c))
	}
	slices.SortFunc(r.Secrets, func(x, y *envoy_extensions_transport_sockets_tls_v3.Secret) int { return cmp.Compare(x.Name, y.Name) })
	return r
}
