package envoy

import (
	"slices"
	"strconv"
	"strings"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rukou/rukou/translator/ir"
)

// shared holds, for one rendering, the protos that many resources hold
// alike: a model route that several virtual hosts and listeners share,
// and the retry policy and protocol options that most routes and clusters
// have in common. Rendered once, they are shared too, which saves most of
// the rendering (resources are never modified once rendered).
type shared struct {
	routes map[*ir.Route][]*envoy_config_route_v3.Route
	// hosts holds the last virtual host rendered of each name.
	hosts map[string]renderedHost
	// checked are the virtual hosts and routes that held checked with
	// Envoy's rules.
	checked  map[any]bool
	retries  map[retryKey]*envoy_config_route_v3.RetryPolicy
	protocol map[protocolKey]map[string]*anypb.Any
	// The small messages that every cluster or route holds, most of them
	// alike: at 10,000 Ingresses, one of each instead of tens of
	// thousands is about 8 MB less for every configuration in memory.
	headers   map[ir.HeaderMatch]*envoy_config_route_v3.HeaderMatcher
	schemes   map[string]*envoy_type_matcher_v3.FilterStateMatcher
	durations map[time.Duration]*durationpb.Duration
	ads       *envoy_config_core_v3.ConfigSource
	// before is what the rendering before this one made, which this one
	// reuses where the model did not change (RenderAfter); reused holds
	// what it reused.
	before *earlier
	reused map[any]bool
	// table names the route configuration being rendered.
	table string
}

func newShared() *shared {
	return &shared{
		routes:    map[*ir.Route][]*envoy_config_route_v3.Route{},
		hosts:     map[string]renderedHost{},
		checked:   map[any]bool{},
		retries:   map[retryKey]*envoy_config_route_v3.RetryPolicy{},
		protocol:  map[protocolKey]map[string]*anypb.Any{},
		headers:   map[ir.HeaderMatch]*envoy_config_route_v3.HeaderMatcher{},
		schemes:   map[string]*envoy_type_matcher_v3.FilterStateMatcher{},
		durations: map[time.Duration]*durationpb.Duration{},
		ads:       adsConfigSource(),
		reused:    map[any]bool{},
	}
}

// headerMatcherOf renders a header match once for all routes alike, such
// as the method match of every route for non-idempotent requests.
func (s *shared) headerMatcherOf(h ir.HeaderMatch) *envoy_config_route_v3.HeaderMatcher {
	m, ok := s.headers[h]
	if !ok {
		m = headerMatcher(h)
		s.headers[h] = m
	}
	return m
}

// schemeMatch renders the match of a listener's scheme once for all
// routes of a shared table that need it (ir.Match.Scheme).
func (s *shared) schemeMatch(scheme string) *envoy_type_matcher_v3.FilterStateMatcher {
	m, ok := s.schemes[scheme]
	if !ok {
		m = &envoy_type_matcher_v3.FilterStateMatcher{
			Key:     schemeKey,
			Matcher: &envoy_type_matcher_v3.FilterStateMatcher_StringMatch{StringMatch: stringMatcher(ir.StringMatch{Exact: scheme})},
		}
		s.schemes[scheme] = m
	}
	return m
}

// duration renders a duration once for all clusters and routes alike.
func (s *shared) duration(d time.Duration) *durationpb.Duration {
	p, ok := s.durations[d]
	if !ok {
		p = durationpb.New(d)
		s.durations[d] = p
	}
	return p
}

// retryKey is what a forward's retry policy depends on.
type retryKey struct {
	idle                  ir.Duration
	retry                 bool
	attempts              uint32
	connectFailure, reset bool
	nonIdempotent         bool
	statuses              string
}

// protocolKey is what a cluster's protocol options depend on.
type protocolKey struct {
	protocol ir.Protocol
	pool     ir.ConnectionPool
	hasPool  bool
	// headerKiB is the cluster's bound on response headers.
	headerKiB uint32
}

// routesOf renders a model route once.
func (s *shared) routesOf(r *ir.Route) []*envoy_config_route_v3.Route {
	out, ok := s.routes[r]
	if !ok {
		out = s.renderRoutes(r)
		s.routes[r] = out
	}
	return out
}

// virtualHost renders vh, or returns the virtual host rendered before with
// the same name, domains, routes and metadata: the plain and the TLS
// listener hold the same routes for every host without TLS.
func (s *shared) virtualHost(vh *ir.VirtualHost) *envoy_config_route_v3.VirtualHost {
	if out, ok := s.keptHost(vh); ok {
		s.hosts[vh.Name] = renderedHost{out: out}
		return out
	}
	routes := make([]*envoy_config_route_v3.Route, 0, len(vh.Routes))
	for _, r := range vh.Routes {
		routes = append(routes, s.routesOf(r)...)
	}
	meta := logMetadata(vh.NoAccessLog)
	if prev, ok := s.hosts[vh.Name]; ok && prev.routes != nil && slices.Equal(prev.routes, routes) && slices.Equal(prev.domains, vh.Domains) && proto.Equal(prev.meta, meta) {
		return prev.out
	}
	out := &envoy_config_route_v3.VirtualHost{Name: vh.Name, Domains: vh.Domains, Routes: routes, Metadata: meta}
	if vh.Name == ir.InternalHost {
		out.TypedPerFilterConfig = internalHostFilters()
	}
	out = s.held(out)
	s.hosts[vh.Name] = renderedHost{out: out, routes: routes, domains: vh.Domains, meta: meta}
	return out
}

// renderedHost is a virtual host rendered, with what it was made of, so
// that another route configuration with the same host shares it; routes is
// nil for a host kept from the rendering before.
type renderedHost struct {
	out     *envoy_config_route_v3.VirtualHost
	routes  []*envoy_config_route_v3.Route
	domains []string
	meta    *envoy_config_core_v3.Metadata
}

// held is a new virtual host as the resources keep it: checked with
// Envoy's rules (each route shared among hosts once), then with every
// field but its name held as their encoding, as Assignment holds an
// assignment's endpoints. The route table is most of the configuration
// in memory and every host of it stays alive from one rendering to the
// next: at 10,000 Ingresses its messages take about 23.5 MB and their
// encoding about 7. A host that fails the check is returned as messages,
// for Validate to name it.
func (s *shared) held(vh *envoy_config_route_v3.VirtualHost) *envoy_config_route_v3.VirtualHost {
	if validateVirtualHost(vh, s.checked) != nil {
		return vh
	}
	out, ok := holdEncoded(vh, &envoy_config_route_v3.VirtualHost{Name: vh.Name}, func(name string) { vh.Name = name })
	if !ok {
		return vh
	}
	s.reused[out] = true // checked
	return out
}

// retryPolicyOf renders a forward's retry policy once for all forwards
// alike.
func (s *shared) retryPolicyOf(f *ir.Forward) *envoy_config_route_v3.RetryPolicy {
	k := retryKey{idle: f.IdleTimeout}
	if rt := f.Retry; rt != nil {
		k.retry, k.attempts, k.connectFailure, k.reset, k.nonIdempotent = true, rt.Attempts, rt.ConnectFailure, rt.Reset, rt.NonIdempotent
		codes := make([]string, len(rt.Statuses))
		for i, c := range rt.Statuses {
			codes[i] = strconv.FormatUint(uint64(c), 10)
		}
		k.statuses = strings.Join(codes, ",")
	}
	p, ok := s.retries[k]
	if !ok {
		p = retryPolicy(f)
		s.retries[k] = p
	}
	return p
}

// protocolOptionsOf renders a cluster's protocol options once for all
// clusters alike.
func (s *shared) protocolOptionsOf(c *ir.Cluster) map[string]*anypb.Any {
	k := protocolKey{protocol: c.Protocol, headerKiB: c.MaxResponseHeaderKiB}
	if c.Pool != nil {
		k.pool, k.hasPool = *c.Pool, true
	}
	o, ok := s.protocol[k]
	if !ok {
		o = protocolOptions(c)
		s.protocol[k] = o
	}
	return o
}
