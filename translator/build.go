package translator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// builder turns one Input into the routing model. It lives for one call of
// Build and is not safe for concurrent use.
type builder struct {
	opts     Options
	index    *index
	diags    []Diagnostic
	backends map[string]*Backend

	// claimed remembers which Ingress took each host, match and path first.
	claimed map[routeKey]string
	// hosts holds each named host's own routes; hostless holds rules
	// without a host.
	hosts    map[string][]*Route
	hostless []*Route
	// hostDefaults holds the defaultBackend an Ingress with rules gives to
	// its own hosts; catchAll is the oldest rule-less defaultBackend.
	hostDefaults map[string]*Route
	catchAll     *Route
	tls          *tlsState
}

type routeKey struct {
	host  string
	match PathMatch
	path  string
}

// Build computes the routing model for in. Every rule it cannot honour is
// reported in the returned diagnostics and left out, or answered with a
// direct status, without affecting any other rule.
func Build(in Input, opts Options) (*Model, []Diagnostic) {
	b := &builder{
		opts:         opts,
		index:        newIndex(in),
		backends:     map[string]*Backend{},
		claimed:      map[routeKey]string{},
		hosts:        map[string][]*Route{},
		hostDefaults: map[string]*Route{},
		tls:          newTLSState(in.Secrets),
	}
	for _, ing := range b.owned(in.Ingresses) {
		b.addIngress(ing)
	}
	return b.model(), b.diags
}

// owned returns the Ingresses this controller serves, oldest first, so that
// every "the older one wins" decision falls out of iteration order.
func (b *builder) owned(all []*networkingv1.Ingress) []*networkingv1.Ingress {
	var out []*networkingv1.Ingress
	for _, ing := range all {
		if owns(ing, b.index.classes, b.opts) {
			out = append(out, ing)
		}
	}
	slices.SortFunc(out, func(x, y *networkingv1.Ingress) int {
		if c := x.CreationTimestamp.Compare(y.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	return out
}

func (b *builder) reportField(ing *networkingv1.Ingress, field string, reason Reason, format string, args ...any) {
	b.diags = append(b.diags, Diagnostic{
		Kind:      "Ingress",
		Namespace: ing.Namespace,
		Name:      ing.Name,
		Field:     field,
		Reason:    reason,
		Message:   fmt.Sprintf(format, args...),
	})
}

func (b *builder) addIngress(ing *networkingv1.Ingress) {
	source := ing.Namespace + "/" + ing.Name
	var ownHosts []string
	b.addTLS(ing)
	redirect := b.sslRedirect(ing)
	for i, rule := range ing.Spec.Rules {
		host := strings.ToLower(rule.Host)
		if host != "" && !validHost(host) {
			b.reportField(ing, fmt.Sprintf("spec.rules[%d].host", i), ReasonInvalidHost, "host %q is not a valid DNS name or one-label wildcard", rule.Host)
			continue
		}
		if host != "" && !slices.Contains(ownHosts, host) {
			ownHosts = append(ownHosts, host)
		}
		if rule.HTTP == nil {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			b.addPath(ing, fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j), host, p, source, redirect)
		}
	}

	if ing.Spec.DefaultBackend == nil {
		return
	}
	// The backend is resolved only once the defaultBackend is known to be
	// used, so that a losing one adds neither a cluster nor diagnostics.
	route := &Route{Match: PathPrefix, Path: "/", Source: source, Default: true, NoSSLRedirect: !redirect}
	if len(ing.Spec.Rules) == 0 {
		if b.catchAll != nil {
			b.reportField(ing, "spec.defaultBackend", ReasonConflict, "defaultBackend ignored: Ingress %s is older and already serves as the default backend", b.catchAll.Source)
			return
		}
		b.resolve(ing, "spec.defaultBackend", *ing.Spec.DefaultBackend, route)
		route.CatchAll = true
		b.catchAll = route
		return
	}
	if len(ownHosts) == 0 {
		// Only rules without a host: the defaultBackend serves their
		// unmatched paths, on the virtual host of hostless rules.
		ownHosts = []string{WildcardHost}
	}
	var hosts []string
	for _, host := range ownHosts {
		if prev, ok := b.hostDefaults[host]; ok {
			b.reportField(ing, "spec.defaultBackend", ReasonConflict, "defaultBackend ignored for host %q: Ingress %s is older and already sets one", host, prev.Source)
			continue
		}
		hosts = append(hosts, host)
	}
	if len(hosts) == 0 {
		return
	}
	b.resolve(ing, "spec.defaultBackend", *ing.Spec.DefaultBackend, route)
	for _, host := range hosts {
		b.hostDefaults[host] = route
	}
}

func (b *builder) addPath(ing *networkingv1.Ingress, field, host string, p networkingv1.HTTPIngressPath, source string, redirect bool) {
	match, path, err := pathMatch(p)
	if err != nil {
		b.reportField(ing, field+".path", ReasonInvalidPath, "host %q: %v", host, err)
		return
	}
	key := routeKey{host: host, match: match, path: path}
	if owner, ok := b.claimed[key]; ok {
		b.reportField(ing, field, ReasonConflict, "host %q path %q (%s) is already served by the older Ingress %s", host, p.Path, match, owner)
		return
	}
	b.claimed[key] = source

	route := &Route{Match: match, Path: path, Source: source, FromHostless: host == "", NoSSLRedirect: !redirect}
	b.resolve(ing, field+".backend", p.Backend, route)
	if host == "" {
		b.hostless = append(b.hostless, route)
		return
	}
	b.hosts[host] = append(b.hosts[host], route)
}

// pathMatch maps an Ingress path to a model match. ImplementationSpecific
// behaves as Prefix.
func pathMatch(p networkingv1.HTTPIngressPath) (PathMatch, string, error) {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", fmt.Errorf("path %q must start with /", p.Path)
	}
	// Envoy matches paths without the query string, and refuses a
	// path_separated_prefix that holds "?" or "#".
	if strings.ContainsAny(path, "?#") {
		return "", "", fmt.Errorf("path %q must not contain ? or #", p.Path)
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return PathExact, path, nil
	}
	// A trailing slash in a Prefix rule is ignored: "/foo/" matches as "/foo".
	if trimmed := strings.TrimRight(path, "/"); trimmed != "" {
		path = trimmed
	} else {
		path = "/"
	}
	return PathPrefix, path, nil
}

func validHost(host string) bool {
	if strings.HasPrefix(host, "*.") {
		return len(validation.IsWildcardDNS1123Subdomain(host)) == 0
	}
	return len(validation.IsDNS1123Subdomain(host)) == 0
}

// resolve points route at the Backend for an Ingress backend, or makes it
// answer 503 when that backend cannot be used.
func (b *builder) resolve(ing *networkingv1.Ingress, field string, backend networkingv1.IngressBackend, route *Route) {
	if backend.Resource != nil {
		b.reportField(ing, field+".resource", ReasonResourceBackend, "resource backend %s %q is not supported; the path answers 503", backend.Resource.Kind, backend.Resource.Name)
		route.DirectStatus = 503
		return
	}
	if backend.Service == nil {
		b.reportField(ing, field, ReasonNoBackend, "backend names no Service; the path answers 503")
		route.DirectStatus = 503
		return
	}
	be, err := b.index.backend(ing.Namespace, *backend.Service)
	if err != nil {
		b.reportField(ing, field+".service", err.reason, "%s; the path answers 503", err.msg)
		route.DirectStatus = 503
		return
	}
	if _, ok := b.backends[be.Name]; !ok {
		b.backends[be.Name] = be
	}
	route.Backend = be.Name
}

// model assembles the virtual hosts. Envoy picks one virtual host per request
// and then tries its routes in order, so every named host carries the
// hostless rules and the default backends after its own rules.
func (b *builder) model() *Model {
	m := &Model{}
	names := make([]string, 0, len(b.hosts)+len(b.hostDefaults))
	for host := range b.hosts {
		names = append(names, host)
	}
	for host := range b.hostDefaults {
		if _, ok := b.hosts[host]; !ok && host != WildcardHost {
			names = append(names, host)
		}
	}
	slices.Sort(names)

	for _, host := range names {
		routes := slices.Concat(b.hosts[host], b.hostless)
		sortRoutes(routes)
		routes = appendDefaults(routes, strings.HasPrefix(host, "*."), b.hostDefaults[host], b.catchAll)
		m.VirtualHosts = append(m.VirtualHosts, &VirtualHost{Host: host, Routes: routes, TLS: b.tls.covers(host)})
	}
	if len(b.hostless) > 0 || b.catchAll != nil || b.hostDefaults[WildcardHost] != nil {
		routes := slices.Clone(b.hostless)
		sortRoutes(routes)
		routes = appendDefaults(routes, false, b.hostDefaults[WildcardHost], b.catchAll)
		m.VirtualHosts = append(m.VirtualHosts, &VirtualHost{Host: WildcardHost, Routes: routes})
	}

	for _, be := range b.backends {
		m.Backends = append(m.Backends, be)
	}
	slices.SortFunc(m.Backends, func(x, y *Backend) int { return cmp.Compare(x.Name, y.Name) })
	m.Certificates = b.tls.certificates()
	return m
}

// appendDefaults appends the first default that is set: the host's own
// default backend, else the catch-all. A wildcard host gets both, because
// its own default matches only one-label names and deeper names fall
// through to the catch-all.
func appendDefaults(routes []*Route, wildcard bool, defaults ...*Route) []*Route {
	for _, d := range defaults {
		if d != nil {
			routes = append(routes, d)
			if !wildcard {
				break
			}
		}
	}
	return routes
}

// sortRoutes orders routes the way Ingress wants them tried: the longest path
// first; on a tie Exact before Prefix, then a host's own rule before a
// hostless one. The sort is stable, so older Ingresses stay first otherwise.
func sortRoutes(routes []*Route) {
	slices.SortStableFunc(routes, func(x, y *Route) int {
		if c := cmp.Compare(len(y.Path), len(x.Path)); c != 0 {
			return c
		}
		if x.Match != y.Match {
			if x.Match == PathExact {
				return -1
			}
			return 1
		}
		if x.FromHostless != y.FromHostless {
			if !x.FromHostless {
				return -1
			}
			return 1
		}
		return 0
	})
}
