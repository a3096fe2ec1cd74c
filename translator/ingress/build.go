package ingress

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
)

// builder turns one Input into the routing model. It lives for one call of
// Build and is not safe for concurrent use.
type builder struct {
	opts     Options
	settings nginx.Settings
	// configMaps are the ConfigMaps that annotations may name.
	configMaps []*corev1.ConfigMap
	index      *index
	diags      []ir.Diagnostic
	backends   map[string]*Backend

	// claimed holds the route that took each host, match and path first;
	// canaries join these routes.
	claimed map[routeKey]*Route
	// kinds holds the upstream settings of each route's backend, which a
	// canary backend shares.
	kinds map[*Route]upstreamKind
	// hosts holds each named host's own routes; hostless holds rules
	// without a host.
	hosts    map[string][]*Route
	hostless []*Route
	// firstNamer holds the Ingress that names each host first, whose
	// defaultBackend (if any) serves the host's unmatched paths.
	firstNamer map[string]string
	// unlogged holds the hosts whose first namer has enable-access-log:
	// "false", which nginx's root location of the host takes.
	unlogged map[string]bool
	// hostDefaults holds the defaultBackend an Ingress with rules gives to
	// the hosts it names first; catchAll is the oldest rule-less
	// defaultBackend.
	hostDefaults map[string]*Route
	catchAll     *Route
	// ctrlDefault is the controller's default backend.
	ctrlDefault controllerDefault
	tls         *tlsState
	// regex holds the hosts in regex mode ("" for rules without a host).
	regex map[string]bool
	// appRoots and aliases hold app-root and from-to-www-redirect by host.
	appRoots map[string]hostSetting
	aliases  map[string]hostSetting
	// serverAliases holds the server-alias names of each named host, and
	// aliasOf the host each served alias stands for.
	serverAliases map[string]serverAliases
	aliasOf       map[string]string
	// streams are the TCP and UDP services served.
	streams []*Stream
	// clientCerts holds the client certificate authentication of each
	// host that has one.
	clientCerts map[string]*ClientCert
	// ciphers holds the TLS settings of each host that has some.
	ciphers map[string]*nginx.HostCiphers
	// passthrough holds the oldest Ingress asking for SSL passthrough of
	// each host.
	passthrough map[string]*ingressRef
}

type routeKey struct {
	host  string
	match PathMatch
	path  string
}

// ingressRef is an Ingress this controller serves, with its annotations.
type ingressRef struct {
	*networkingv1.Ingress
	// source is namespace/name.
	source string
	ann    *nginx.Annotations
	issues []nginx.Issue
}

// Build computes the routing model for in. Every rule it cannot honour is
// reported in the returned diagnostics and left out, or answered with a
// direct status, without affecting any other rule.
func Build(in Input, opts Options) (*Model, []ir.Diagnostic) { return BuildAfter(nil, in, opts) }

// BuildAfter is Build that keeps, from prev (the model built before, or
// nil), the endpoints of every Service port whose EndpointSlices are the
// same objects as then, instead of reading them again.
func BuildAfter(prev *Model, in Input, opts Options) (*Model, []ir.Diagnostic) {
	// Most Ingresses have one host and one path, to a Service of their
	// own: sized so, the largest maps do not grow through every doubling.
	n := len(in.Ingresses)
	reads := Reads{Services: make(map[types.NamespacedName]struct{}, n), Secrets: map[types.NamespacedName]struct{}{}}
	b := &builder{
		opts:          opts,
		index:         newIndex(in),
		backends:      make(map[string]*Backend, n),
		claimed:       make(map[routeKey]*Route, n),
		kinds:         make(map[*Route]upstreamKind, n),
		hosts:         make(map[string][]*Route, n),
		hostDefaults:  map[string]*Route{},
		firstNamer:    make(map[string]string, n),
		unlogged:      map[string]bool{},
		tls:           newTLSState(in.Secrets, reads.Secrets),
		appRoots:      map[string]hostSetting{},
		aliases:       map[string]hostSetting{},
		serverAliases: map[string]serverAliases{},
		aliasOf:       map[string]string{},
		clientCerts:   map[string]*ClientCert{},
		ciphers:       map[string]*nginx.HostCiphers{},
		passthrough:   map[string]*ingressRef{},
	}
	b.index.noExternalName = opts.DisableExternalName
	b.index.found = make(map[endpointsKey]foundEndpoints, n)
	if prev != nil {
		b.index.before = prev.endpoints
	}
	b.index.read = reads.Services
	b.readConfigMap(in.ConfigMaps)
	b.configMaps = in.ConfigMaps
	b.defaultCertificate()
	b.resolveControllerDefault()
	ings := b.owned(in.Ingresses)
	// Regex mode is a property of a host across all its Ingresses, so
	// every Ingress's annotations are read before any path is added.
	b.regex = regexHosts(ings)
	for _, ing := range ings {
		b.reportAnnotations(ing)
		b.addTLS(ing.Ingress)
		if ing.ann.Canary == nil {
			b.addIngress(ing)
		}
	}
	// After every Ingress's named TLS hosts, so that a name always wins
	// over a certificate that merely covers the host.
	for _, ing := range ings {
		b.inferTLS(ing.Ingress)
	}
	b.tls.serveFailed()
	for _, ing := range ings {
		if ing.ann.Canary != nil {
			b.addCanary(ing)
		}
	}
	b.addStreams(in.ConfigMaps)
	m := b.model()
	b.addPassthrough(m)
	m.Settings, m.Streams = b.settings, b.streams
	classes := b.index.classes
	reads.Owns = func(ing *networkingv1.Ingress) bool { return owns(ing, classes, opts) }
	m.Reads = reads
	m.endpoints = b.index.found
	m.SetHeaders = b.headerConfigMap(in.ConfigMaps, "proxy-set-headers", b.settings.Headers.ProxySetHeaders)
	m.AddHeaders = b.headerConfigMap(in.ConfigMaps, "add-headers", b.settings.Headers.AddHeaders)
	return m, b.diags
}

// owned returns the Ingresses this controller serves, oldest first, so that
// every "the older one wins" decision falls out of iteration order, with
// their annotations read.
func (b *builder) owned(all []*networkingv1.Ingress) []*ingressRef {
	var out []*ingressRef
	for _, ing := range all {
		if owns(ing, b.index.classes, b.opts) {
			ann, issues := nginx.ReadWith(ing.Annotations, ing.Namespace+"/"+ing.Name, &b.settings)
			authHeaders(ann, b.configMaps)
			customHeaders(ann, b.configMaps, b.settings.Headers.AllowedResponseHeaders)
			issues = append(issues, basicAuthUsers(ann, b.tls.secret)...)
			issues = append(issues, withoutRateLimitService(ann, b.opts)...)
			proxySSLSecret(ann, b.tls.secret)
			out = append(out, &ingressRef{Ingress: ing, source: ing.Namespace + "/" + ing.Name, ann: ann, issues: issues})
		}
	}
	slices.SortFunc(out, func(x, y *ingressRef) int {
		if c := x.CreationTimestamp.Compare(y.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	return out
}

func (b *builder) reportField(ing *networkingv1.Ingress, field string, reason ir.Reason, format string, args ...any) {
	b.diags = append(b.diags, ir.Diagnostic{
		Kind:      "Ingress",
		Namespace: ing.Namespace,
		Name:      ing.Name,
		Field:     field,
		Reason:    reason,
		Message:   fmt.Sprintf(format, args...),
	})
}

// reportAnnotations reports what an Ingress's annotations could not honour,
// once per annotation.
func (b *builder) reportAnnotations(ing *ingressRef) {
	for _, is := range ing.issues {
		b.reportField(ing.Ingress, nginx.Field(is.Name), is.Reason, "%s", is.Msg)
	}
	if u := ing.ann.Unservable; u != nil {
		b.reportField(ing.Ingress, nginx.Field(u.Name), u.Reason, "%s", u.Msg)
	}
}

func (b *builder) addIngress(ing *ingressRef) {
	var ownHosts []string
	for i, rule := range ing.Spec.Rules {
		host := strings.ToLower(rule.Host)
		if host != "" && !valid.Host(host) {
			b.reportField(ing.Ingress, fmt.Sprintf("spec.rules[%d].host", i), ir.ReasonInvalidHost, "host %q is not a valid DNS name or one-label wildcard", rule.Host)
			continue
		}
		if host != "" && !slices.Contains(ownHosts, host) {
			ownHosts = append(ownHosts, host)
			if _, ok := b.firstNamer[host]; !ok {
				b.firstNamer[host] = ing.source
				b.unlogged[host] = ing.ann.Policy != nil && ing.ann.Policy.NoAccessLog
			}
		}
		if rule.HTTP == nil || ing.ann.BadRewrite {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			b.addPath(ing, fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j), host, p)
		}
	}
	hostsOrWildcard := ownHosts
	if len(ownHosts) == 0 && len(ing.Spec.Rules) > 0 {
		hostsOrWildcard = []string{WildcardHost}
	}
	b.notePassthrough(ing, ownHosts)
	b.addMirror(ing)
	b.addHostRedirects(ing, hostsOrWildcard)
	b.addClientCert(ing, hostsOrWildcard)
	b.addHostCiphers(ing, hostsOrWildcard)
	b.addServerAliases(ing, ownHosts)
	if ing.Spec.DefaultBackend != nil {
		b.addDefaultBackend(ing, ownHosts)
	}
}

// addDefaultBackend places an Ingress's defaultBackend as ingress-nginx
// builds its servers: a rule-less Ingress's is the catch-all, which serves
// the hosts no rule names (the oldest wins); otherwise it serves the
// unmatched paths of the hosts that this Ingress names first. Rules
// without a host join the catch-all's server, so it does not serve theirs.
func (b *builder) addDefaultBackend(ing *ingressRef, ownHosts []string) {
	// The backend is resolved only once the defaultBackend is known to be
	// used, so that a losing one adds neither a cluster nor diagnostics.
	route := b.newRoute(ing, PathPrefix, "/")
	route.Default = true
	if len(ing.Spec.Rules) == 0 {
		if b.catchAll != nil {
			b.reportField(ing.Ingress, "spec.defaultBackend", ir.ReasonConflict, "defaultBackend ignored: Ingress %s is older and already serves as the default backend", b.catchAll.Source)
			return
		}
		b.resolve(ing, "spec.defaultBackend", *ing.Spec.DefaultBackend, route)
		route.CatchAll = true
		b.catchAll = route
		return
	}
	if len(ownHosts) == 0 {
		b.reportField(ing.Ingress, "spec.defaultBackend", ir.ReasonDefaultBackendUnused,
			"defaultBackend not used: rules without a host serve the hosts no rule names, whose unmatched paths go to the catch-all (a rule-less Ingress's defaultBackend) or get 404, as in ingress-nginx")
		return
	}
	var hosts []string
	for _, host := range ownHosts {
		if first := b.firstNamer[host]; first != ing.source {
			b.reportField(ing.Ingress, "spec.defaultBackend", ir.ReasonConflict,
				"defaultBackend not used for host %q: Ingress %s is older and names the host first, so its own defaultBackend (or 404) serves the host's unmatched paths", host, first)
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

// newRoute makes a route of an Ingress with what its annotations ask.
func (b *builder) newRoute(ing *ingressRef, match PathMatch, path string) *Route {
	a := ing.ann
	return &Route{
		Match: match, Path: path, Source: ing.source,
		NoSSLRedirect: !a.SSLRedirect, ForceSSLRedirect: a.ForceSSLRedirect,
		Redirect: a.Redirect, Rewrite: rewriteFor(a, path), Policy: a.Policy,
	}
}

func (b *builder) addPath(ing *ingressRef, field, host string, p networkingv1.HTTPIngressPath) {
	match, path, err := pathMatch(p, b.regex[host])
	if err != nil {
		b.reportField(ing.Ingress, field+".path", ir.ReasonInvalidPath, "host %q: %v", host, err)
		return
	}
	key := routeKey{host: host, match: match, path: path}
	if owner, ok := b.claimed[key]; ok {
		b.reportField(ing.Ingress, field, ir.ReasonConflict, "host %q path %q (%s) is already served by the older Ingress %s", host, p.Path, match, owner.Source)
		return
	}
	route := b.newRoute(ing, match, path)
	route.FromHostless = host == ""
	b.claimed[key] = route
	b.resolve(ing, field+".backend", p.Backend, route)
	if host == "" {
		b.hostless = append(b.hostless, route)
		return
	}
	b.hosts[host] = append(b.hosts[host], route)
}

// resolve points route at the Backend for an Ingress backend, or makes it
// answer 503 when that backend cannot be used.
func (b *builder) resolve(ing *ingressRef, field string, backend networkingv1.IngressBackend, route *Route) {
	// ingress-nginx sets the upstream's name in the location before it
	// redirects, so its redirects log it too.
	route.UpstreamName = upstreamName(ing.Namespace, backend)
	route.Service, route.ServicePort = namedServicePort(backend)
	if route.Redirect != nil {
		return // it never reaches a backend
	}
	if ing.ann.Unservable != nil {
		route.DirectStatus = 503 // reported once with the annotations
		return
	}
	kind := kindOf(ing.ann)
	auto := kind.protocol == nginx.ProtocolAutoHTTP
	if auto {
		kind.protocol = nginx.ProtocolHTTP
	}
	name, ok := b.backendFor(ing.Ingress, field, backend, kind, "the path answers 503")
	if !ok {
		route.DirectStatus = 503
		return
	}
	route.Backend = name
	if auto {
		overTLS := kind
		overTLS.protocol = nginx.ProtocolHTTPS
		route.BackendOverTLS, _ = b.backendFor(ing.Ingress, field, backend, overTLS, "the path answers 503")
	}
	b.kinds[route] = kind
	route.ErrorPages = b.errorPages(ing)
}

// backendFor returns the name of the Backend of an Ingress backend with the
// given upstream settings, adding it to the model, or reports why there is
// none and, in the report, what follows.
func (b *builder) backendFor(ing *networkingv1.Ingress, field string, backend networkingv1.IngressBackend, kind upstreamKind, otherwise string) (string, bool) {
	if backend.Resource != nil {
		b.reportField(ing, field+".resource", ir.ReasonResourceBackend, "resource backend %s %q is not supported; %s", backend.Resource.Kind, backend.Resource.Name, otherwise)
		return "", false
	}
	if backend.Service == nil {
		b.reportField(ing, field, ir.ReasonNoBackend, "backend names no Service; %s", otherwise)
		return "", false
	}
	be, err := b.index.backend(ing.Namespace, *backend.Service)
	if err != nil {
		b.reportField(ing, field+".service", err.reason, "%s; %s", err.msg, otherwise)
		return "", false
	}
	be.Protocol, be.Affinity, be.ConnectTimeout, be.Canary = kind.protocol, kind.affinity, kind.connectTimeout, kind.canary
	be.Balance, be.Hash, be.HeaderKiB = kind.balance, kind.hash, kind.headerKiB
	be.ProxySSL = kind.tls()
	if kind.serviceUpstream && be.ExternalName == "" {
		b.useClusterIP(ing, field, be)
	}
	be.Name = backendName(be.Namespace, be.Service, be.Port, kind)
	if kind.canary {
		be.AlternativeName = upstreamName(ing.Namespace, backend)
	}
	if _, ok := b.backends[be.Name]; !ok {
		b.backends[be.Name] = be
	}
	return be.Name, true
}

// useClusterIP makes a Service's ClusterIP, with the Service port, the one
// endpoint of its backend (service-upstream), so that kube-proxy picks the
// pod. A Service without one (headless) keeps its endpoints and is
// reported, as ingress-nginx falls back to them.
func (b *builder) useClusterIP(ing *networkingv1.Ingress, field string, be *Backend) {
	ip := b.index.clusterIP(be.Namespace, be.Service)
	if ip == "" {
		b.reportField(ing, field+".service", ir.ReasonAnnotationIgnored,
			"service-upstream: service %q has no ClusterIP; its endpoints are used", be.Service)
		return
	}
	be.ClusterIP = ip
	be.Endpoints = []ir.Endpoint{{Address: ip, Port: be.Port}}
}

// model assembles the virtual hosts, as ingress-nginx builds its servers:
// a named host serves its own rules, then the defaultBackend of the Ingress
// that names it first, else 404; rules without a host and the catch-all
// serve the hosts that no rule names (WildcardHost). Envoy picks one
// virtual host per request and tries its routes in order.
func (b *builder) model() *Model {
	m := &Model{}
	names := make([]string, 0, len(b.firstNamer))
	for host := range b.firstNamer {
		names = append(names, host)
	}
	slices.Sort(names)
	hostless := slices.Clone(b.hostless)
	sortRoutes(hostless)
	if b.catchAll != nil {
		hostless = append(hostless, b.catchAll)
	} else if r := b.ctrlDefault.catchAll; r != nil {
		hostless = append(hostless, r)
	}
	for _, host := range names {
		routes := slices.Clone(b.hosts[host])
		sortRoutes(routes)
		if d := b.hostDefaults[host]; d != nil {
			routes = append(routes, d)
		} else if d := b.hostDefault(host, routes); d != nil && (d.Backend != "" || len(hostless) > 0) {
			routes = append(routes, d)
		}
		if strings.HasPrefix(host, "*.") {
			// Envoy's "*.example.com" also takes deeper names, which no
			// rule names: they go on to the hostless rules and the
			// catch-all. The wildcard's own names stop at its default.
			routes = append(routes, hostless...)
		}
		m.VirtualHosts = append(m.VirtualHosts, &VirtualHost{Host: host, Routes: routes, TLS: b.tls.covers(host), NoAccessLog: b.unlogged[host]})
	}
	if len(hostless) > 0 {
		m.VirtualHosts = append(m.VirtualHosts, &VirtualHost{Host: WildcardHost, Routes: hostless})
	}

	for _, vh := range m.VirtualHosts {
		if r, ok := b.appRoots[vh.Host]; ok {
			vh.AppRoot, vh.Source = r.value, r.source
		}
	}
	m.VirtualHosts = append(m.VirtualHosts, b.serverAliasHosts(m.VirtualHosts)...)
	m.VirtualHosts = append(m.VirtualHosts, b.aliasHosts()...)
	b.hostTLS(m.VirtualHosts)
	b.useControllerDefault(m.VirtualHosts)
	slices.SortStableFunc(m.VirtualHosts, func(x, y *VirtualHost) int {
		if (x.Host == WildcardHost) != (y.Host == WildcardHost) {
			if x.Host == WildcardHost {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.Host, y.Host)
	})
	for _, be := range b.backends {
		m.Backends = append(m.Backends, be)
	}
	slices.SortFunc(m.Backends, func(x, y *Backend) int { return cmp.Compare(x.Name, y.Name) })
	m.Certificates = b.tls.certificates()
	m.ControllerDefault = b.ctrlDefault.backend
	return m
}

// isRoot reports whether r takes every path.
func isRoot(r *Route) bool { return r.Match == PathPrefix && r.Path == "/" }

// sortRoutes orders routes the way Ingress wants them tried: the longest path
// first, and on a tie Exact before Prefix. The sort is stable, so older
// Ingresses stay first otherwise.
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
		return 0
	})
}
