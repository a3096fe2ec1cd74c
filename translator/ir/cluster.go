package ir

// Protocol is how Envoy speaks to a cluster's endpoints, or what a stream
// listener accepts.
type Protocol string

const (
	// HTTP1 is HTTP/1.1.
	HTTP1 Protocol = "HTTP/1.1"
	// HTTP2 is HTTP/2 (h2c in clear text, h2 over TLS).
	HTTP2 Protocol = "HTTP/2"
	// TCP and UDP carry a stream listener's bytes as they come.
	TCP Protocol = "TCP"
	UDP Protocol = "UDP"
)

// LoadBalancer is how a cluster picks an endpoint.
type LoadBalancer string

const (
	// RoundRobin takes the endpoints in turn.
	RoundRobin LoadBalancer = "RoundRobin"
	// RingHash picks by the route's hash policy, so that equal hashes keep
	// their endpoint while the endpoints stay.
	RingHash LoadBalancer = "RingHash"
	// LeastRequest picks, of two endpoints drawn at random, the one with
	// fewer requests in flight.
	LeastRequest LoadBalancer = "LeastRequest"
)

// Cluster is a set of endpoints that routes forward to.
type Cluster struct {
	Name string `json:"name"`
	// AlternativeName, when set, is what the access log names the cluster
	// when it answers in place of a route's main upstream (a canary).
	AlternativeName string   `json:"alternativeName,omitempty"`
	Protocol        Protocol `json:"protocol"`
	// TLS, when set, speaks TLS to the endpoints.
	TLS            *UpstreamTLS `json:"tls,omitempty"`
	ConnectTimeout Duration     `json:"connectTimeout"`
	LoadBalancer   LoadBalancer `json:"loadBalancer"`
	// Discovery is how Envoy learns the endpoints.
	Discovery Discovery `json:"discovery,omitempty"`
	// Endpoints are addresses; with DiscoveryDNS, DNS names.
	Endpoints []Endpoint `json:"endpoints"`
	// SendProxyProtocol starts every connection to an endpoint with a
	// PROXY protocol v1 header that names the client.
	SendProxyProtocol bool `json:"sendProxyProtocol,omitempty"`
	// Pool, when set, bounds the connections kept to the endpoints.
	Pool *ConnectionPool `json:"pool,omitempty"`
	// MaxResponseHeaderKiB, when not zero, bounds the size of the
	// endpoints' response headers: a response with larger ones fails
	// (502) rather than reach the client.
	MaxResponseHeaderKiB uint32 `json:"maxResponseHeaderKiB,omitempty"`
}

// Discovery is how Envoy learns a cluster's endpoints.
type Discovery string

const (
	// DiscoveryEDS sends the endpoints apart from the cluster (EDS), so
	// that an endpoint change never rebuilds the cluster. The default.
	DiscoveryEDS Discovery = ""
	// DiscoveryStatic makes the endpoints part of the cluster: fixed
	// addresses that change only with the cluster.
	DiscoveryStatic Discovery = "Static"
	// DiscoveryDNS makes each endpoint's Address a DNS name that Envoy
	// resolves, again whenever the records' TTL runs out; every address a
	// name resolves to is an endpoint.
	DiscoveryDNS Discovery = "DNS"
)

// ConnectionPool bounds the upstream connections of a cluster; zero
// fields bound nothing.
type ConnectionPool struct {
	// IdleTimeout closes a connection that has carried no request this
	// long.
	IdleTimeout Duration `json:"idleTimeout,omitempty"`
	// MaxRequests closes a connection after this many requests.
	MaxRequests uint32 `json:"maxRequests,omitempty"`
	// MaxLifetime closes a connection this long after it opened, once
	// its requests in flight are done.
	MaxLifetime Duration `json:"maxLifetime,omitempty"`
}

// UpstreamTLS is TLS to a cluster's endpoints. Without Verify their
// certificates are not verified; without SNI none is sent.
type UpstreamTLS struct {
	ALPN []string `json:"alpn,omitempty"`
	// SNI, when set, is the server name sent in the handshake.
	SNI string `json:"sni,omitempty"`
	// ClientCertificate, when set, names the Secret whose certificate is
	// presented to the endpoints.
	ClientCertificate string `json:"clientCertificate,omitempty"`
	// Verify, when set, refuses endpoints whose certificates it does not
	// accept: the connection fails.
	Verify *UpstreamVerify `json:"verify,omitempty"`
	// Params bound the versions and TLS 1.2 suites offered; nil keeps the
	// backend's defaults.
	Params *TLSParams `json:"params,omitempty"`
}

// UpstreamVerify is how an endpoint's certificate is verified.
type UpstreamVerify struct {
	// CA names the Secret of the trusted certificates (Secret.CA).
	CA string `json:"ca"`
	// Name must be one of the certificate's subject alternative names.
	// The chain is not bounded in length.
	Name string `json:"name"`
}

// Endpoint is one address of a cluster.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}

// Secret is a TLS certificate with its key, or, with CA set instead,
// trusted certificates: the authorities that clients' certificates, or a
// backend's, must chain to. Dumps show its name only.
type Secret struct {
	Name  string `json:"name"`
	Chain []byte `json:"-"`
	Key   []byte `json:"-"`
	// CA are PEM certificates of the authorities clients' certificates
	// must chain to, and CRL, when set, PEM lists of revoked ones.
	CA  []byte `json:"-"`
	CRL []byte `json:"-"`
}
