package ingress

import (
	"time"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The frontend's model holds the Ingress semantics (which Ingress owns
// which host and path, in which order routes are tried, which backend a
// route reaches and what its annotations ask) as plain values, so that
// those decisions can be tested on their own. Lower then turns it into the
// generic routing of package ir.

// PathMatch says how a route compares the request path.
type PathMatch string

const (
	// PathExact matches the path exactly and case-sensitively.
	PathExact PathMatch = "Exact"
	// PathPrefix matches the path element by element ("/foo" matches "/foo"
	// and "/foo/bar", never "/foobar").
	PathPrefix PathMatch = "Prefix"
	// PathRegex matches when the path, from its start, matches the rule's
	// path read as a case-insensitive regular expression: ingress-nginx's
	// regex mode, which use-regex or rewrite-target turns on for a host.
	PathRegex PathMatch = "Regex"
)

// WildcardHost is the virtual host that serves rules without a host and
// requests whose Host matches no other virtual host.
const WildcardHost = "*"

// Model is the frontend's model of one consistent set of objects.
type Model struct {
	// VirtualHosts in a stable order: named hosts sorted, WildcardHost last.
	VirtualHosts []*VirtualHost
	// Backends sorted by name; every backend a route points at is here.
	Backends []*Backend
	// Certificates sorted by Secret; each TLS host appears in one.
	Certificates []*Certificate
	// Settings are the controller's ConfigMap settings, whose defaults the
	// lowering writes out.
	Settings nginx.Settings
	// SetHeaders and AddHeaders are the headers of the ConfigMaps that
	// proxy-set-headers and add-headers name: set on every request to a
	// backend, and on every response.
	SetHeaders, AddHeaders []ir.Header
	// Streams are the TCP services by port, then the UDP ones.
	Streams []*Stream
	// ControllerDefault is the backend of --default-backend-service, with
	// the endpoints it had, nil without one. Routes reach it only while
	// it has endpoints, so an update of endpoints alone that empties or
	// fills it needs a whole translation.
	ControllerDefault *Backend
	// Passthrough are the hosts whose TLS connections reach a backend
	// unopened, sorted by host.
	Passthrough []*Passthrough
	// Reads are the Services and Secrets the model was built from.
	Reads Reads

	// endpoints are those read for each Service port, for the next
	// BuildAfter.
	endpoints map[endpointsKey]foundEndpoints
}

// Reads are what a model was built from: the Services and Secrets that
// building it looked up, each whether it was found or not, and the
// Ingresses it owns. Every other object of those two kinds, every
// EndpointSlice of another Service, and every Ingress that is another
// controller's before and after a change, can be added, changed or removed
// without changing the model: rukou serve does not rebuild for them.
type Reads struct {
	Services, Secrets map[types.NamespacedName]struct{}
	// Owns reports whether the build would own an Ingress, with the
	// IngressClasses and options it was built with (nil: every Ingress
	// counts).
	Owns func(*networkingv1.Ingress) bool
}

// Stream is one served entry of a TCP or UDP services ConfigMap: a port
// whose connections (datagrams) go to one Service port, as they come.
type Stream struct {
	Protocol nginx.StreamProtocol
	Port     uint32
	// Backend names the Backend of the Service port.
	Backend string
	// AcceptProxyProtocol expects a PROXY protocol header from clients.
	AcceptProxyProtocol bool
	// UpstreamName is ingress-nginx's name of the entry's upstream
	// (tcp-namespace-service-port).
	UpstreamName string
	// Source is the ConfigMap (namespace/name) and the entry's key.
	Source string
}

// VirtualHost is the set of routes that serve one host name (exact, or a
// "*.example.com" wildcard of exactly one label, or WildcardHost).
type VirtualHost struct {
	Host   string
	Routes []*Route
	// TLS is set when the host has a certificate: plain HTTP requests are
	// redirected to HTTPS, except on routes with NoSSLRedirect.
	TLS bool
	// AppRoot, when set, is the path that a request for "/" is redirected
	// to with 302 (app-root), before any route is tried.
	AppRoot string
	// RedirectTo, when set, makes the host answer every request with a 308
	// to the same URL on that host instead (from-to-www-redirect); such a
	// host has no routes.
	RedirectTo string
	// Source is the Ingress that set AppRoot or RedirectTo.
	Source string
	// NoAccessLog leaves out of the access log the requests that no route
	// of the host answers: the Ingress that names the host first has
	// enable-access-log: "false", and nginx's location for the host's
	// unmatched paths takes that Ingress's annotations.
	NoAccessLog bool
	// ClientCert, when set, asks clients of the host for certificates
	// (auth-tls-secret), on all its paths.
	ClientCert *ClientCert
	// Ciphers, when set, are the host's own TLS settings.
	Ciphers *nginx.HostCiphers
	// ChainSecret is the certificate (SDS name) of the host's own TLS
	// filter chain, which a host with ClientCert or Ciphers gets; empty
	// when the host is not served over TLS.
	ChainSecret string
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
	// BackendOverTLS, when set, serves instead the requests that came over
	// TLS: backend-protocol AUTO_HTTP speaks the client's scheme.
	BackendOverTLS string
	// DirectStatus, when not zero, is the status the route answers with
	// because its backend cannot be used (a missing Service, say).
	DirectStatus uint32
	// Source is the Ingress the rule comes from, as namespace/name.
	Source string
	// UpstreamName is ingress-nginx's name of the rule's Service port
	// (namespace-service-port), which the access log prints; empty for a
	// route that names no Service.
	UpstreamName string
	// Service and ServicePort are the Service and port the rule names
	// (the port as written), which the access log may print.
	Service, ServicePort string
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
	// ForceSSLRedirect redirects plain HTTP to HTTPS even when the host has
	// no certificate (force-ssl-redirect).
	ForceSSLRedirect bool
	// Redirect, when set, answers every request with a redirect instead of
	// proxying (permanent-redirect, temporal-redirect).
	Redirect *nginx.Redirect
	// Rewrite, when set, replaces the path before it reaches the backend
	// (rewrite-target).
	Rewrite *Rewrite
	// Canary, when set, sends some requests to another backend (the canary
	// Ingress of the same host and path).
	Canary *Canary
	// Policy holds what the route's Ingress asks of each request; nil when
	// it asks nothing. Routes of one Ingress share it.
	Policy *nginx.Policy
	// ErrorPages, when set, replaces some of the backend's error
	// responses with another backend's answer (custom-http-errors).
	ErrorPages *ErrorPages
}

// Rewrite replaces the whole path with Target (rewrite-target), in which $1
// to $9 stand for the groups that Pattern captured.
type Rewrite struct {
	// Pattern is the rule's path as a regular expression, matched
	// case-insensitively from the start of the path.
	Pattern string
	// Target is the annotation's value.
	Target string
	// Groups is the number of capturing groups in Pattern; a reference to
	// a group beyond it stands for the empty string, as in nginx.
	Groups int
}

// Canary sends some requests of a route to another backend, as the canary
// Ingress's annotations say.
type Canary struct {
	nginx.Canary
	// Backend is the canary's Backend.
	Backend string
	// Source is the canary Ingress, as namespace/name.
	Source string
}

// Backend is one Service port that routes send traffic to: an Envoy cluster.
type Backend struct {
	// Name is the cluster name: namespace/service/port, followed by
	// "/" and the settings that differ from plain HTTP with rukou's
	// defaults, such as "/grpc+affinity" (see backendName).
	Name      string
	Namespace string
	Service   string
	// Port is the Service port number; PortName its name, which selects
	// the EndpointSlice port.
	Port     int32
	PortName string
	// Protocol is how Envoy speaks to the endpoints (backend-protocol).
	Protocol nginx.Protocol
	// Affinity is set when routes to this backend keep a client on one
	// endpoint with a cookie: the cluster balances by consistent hashing.
	Affinity bool
	// Hash is set when routes to this backend pick the endpoint by the
	// hash of parts of the request (upstream-hash-by).
	Hash bool
	// Balance is load-balance when not round robin and without Affinity.
	Balance nginx.Balance
	// ConnectTimeout bounds connecting to an endpoint; zero means rukou's
	// default (proxy-connect-timeout).
	ConnectTimeout time.Duration
	// HeaderKiB bounds the endpoints' response headers; zero means the
	// ConfigMap's bound (proxy-buffer-size).
	HeaderKiB uint32
	// Canary is set for the backend of canary Ingresses, which is its own
	// cluster so that the access log can name it as ingress-nginx's
	// alternative upstream; AlternativeName is that name.
	Canary          bool
	AlternativeName string
	// ExternalName is the DNS name or IP address of an ExternalName
	// Service, whose one endpoint (that name, or that address, with the
	// port) comes from the Service rather than from EndpointSlices.
	ExternalName string
	// ClusterIP, when set, is the Service's cluster address, whose one
	// endpoint (with the Service port) stands for the EndpointSlices'
	// (service-upstream).
	ClusterIP string
	Endpoints []ir.Endpoint
	// Stream is set for the backend of TCP or UDP services, which carries
	// bytes rather than HTTP; SendProxyProtocol starts each connection
	// with a PROXY protocol header.
	Stream            nginx.StreamProtocol
	SendProxyProtocol bool
	// ProxySSL, for a backend over TLS, is what proxy-ssl-* asks of the
	// connections: nil speaks TLS without verifying or presenting
	// anything.
	ProxySSL *nginx.ProxySSL
}
