package translator

// The routing model sits between Kubernetes objects and Envoy protos. It holds
// the Ingress semantics (which Ingress owns which host and path, in which
// order routes are tried, which endpoints a backend has) as plain values, so
// that those decisions can be tested without reading Envoy configuration.

// PathMatch says how a route compares the request path.
type PathMatch string

const (
	// PathExact matches the path exactly and case-sensitively.
	PathExact PathMatch = "Exact"
	// PathPrefix matches the path element by element ("/foo" matches "/foo"
	// and "/foo/bar", never "/foobar").
	PathPrefix PathMatch = "Prefix"
)

// WildcardHost is the virtual host that serves rules without a host and
// requests whose Host matches no other virtual host.
const WildcardHost = "*"

// Model is the routing model built from one consistent set of objects.
type Model struct {
	// VirtualHosts in a stable order: named hosts sorted, WildcardHost last.
	VirtualHosts []*VirtualHost
	// Backends sorted by name; every backend a route points at is here.
	Backends []*Backend
	// Certificates sorted by Secret; each TLS host appears in one.
	Certificates []*Certificate
}

// VirtualHost is the set of routes that serve one host name (exact, or a
// "*.example.com" wildcard of exactly one label, or WildcardHost).
type VirtualHost struct {
	Host   string
	Routes []*Route
	// TLS is set when the host has a certificate: plain HTTP requests are
	// redirected to HTTPS, except on routes with NoSSLRedirect.
	TLS bool
}

// Route is one path rule, in the order Envoy must try it.
type Route struct {
	Match PathMatch
	// Path is the rule's path; for PathPrefix it has no trailing "/" unless
	// it is "/" itself.
	Path string
	// Backend names the Backend that serves the route. Empty when the route
	// answers directly with DirectStatus.
	Backend string
	// DirectStatus, when not zero, is the status the route answers with
	// because its backend cannot be used (a missing Service, say).
	DirectStatus uint32
	// Source is the Ingress the rule comes from, as namespace/name.
	Source string
	// FromHostless is set for rules without a host, which are copied into
	// every named virtual host after that host's own rules.
	FromHostless bool
	// Default is set for a route that comes from a defaultBackend.
	Default bool
	// CatchAll is set for the default route of a rule-less Ingress, which
	// applies to every host.
	CatchAll bool
	// NoSSLRedirect keeps plain HTTP on a TLS host (ssl-redirect: "false"
	// on the route's Ingress).
	NoSSLRedirect bool
}

// Backend is one Service port that routes send traffic to: an Envoy cluster.
type Backend struct {
	// Name is the cluster name: namespace/service/port.
	Name      string
	Namespace string
	Service   string
	// Port is the Service port number; PortName its name, which selects
	// the EndpointSlice port.
	Port      int32
	PortName  string
	Endpoints []Endpoint
}

// Endpoint is one address that a backend's traffic goes to.
type Endpoint struct {
	Address string
	Port    int32
}
