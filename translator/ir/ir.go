// Package ir is rukou's routing model: what Envoy must do, in plain Go
// values, between the frontends that read Kubernetes objects and the Envoy
// backend that renders xDS resources. It knows neither Kubernetes nor
// nginx nor Envoy's protos: a frontend lowers its own semantics (canaries,
// ssl-redirect, one-label wildcards, CORS preflights) into the generic
// matches, forwards, redirects and direct responses here, and the backend
// renders them one to one.
//
// It may import only the standard library (a test enforces it). Fields are
// added when a frontend needs them, not before.
package ir

import "net/netip"

// Config is the routing configuration of one translation, with what the
// frontend could not honour.
type Config struct {
	// Listeners by port: the plain HTTP listener first.
	Listeners []*Listener `json:"listeners"`
	// Streams are the TCP listeners by port, then the UDP ones.
	Streams []*StreamListener `json:"streams,omitempty"`
	// Clusters sorted by name; every cluster a route names is here.
	Clusters []*Cluster `json:"clusters"`
	// Secrets sorted by name: the certificates the listeners' TLS chains
	// name, and those clusters present or trust (UpstreamTLS).
	Secrets []*Secret `json:"secrets,omitempty"`
	// Credentials sorted by name: the users that routes' BasicAuth
	// check against.
	Credentials []*Credentials `json:"credentials,omitempty"`
	Diagnostics []Diagnostic   `json:"diagnostics,omitempty"`
}

// Listener is one address Envoy accepts HTTP on, with its route table.
type Listener struct {
	// Name names the listener and its route table.
	Name    string `json:"name"`
	Address string `json:"address"`
	Port    uint32 `json:"port"`
	// TLS, when not empty, terminates TLS with the chain whose server
	// names the client's SNI matches, or else with the default chain.
	TLS []*FilterChain `json:"tls,omitempty"`
	// Passthrough chains, on a TLS listener, hand the connections whose
	// SNI they name to a cluster unopened, before any TLS chain.
	Passthrough []*PassthroughChain `json:"passthrough,omitempty"`
	// TLSParams, for a TLS listener, are what every chain offers; nil
	// keeps the backend's defaults.
	TLSParams *TLSParams `json:"tlsParams,omitempty"`
	// VirtualHosts in the order Envoy must try them; a request goes to the
	// first whose domains match its authority.
	VirtualHosts []*VirtualHost `json:"virtualHosts"`
	// Routes, when set, names the listener whose route table this one
	// reads, as the two tables would differ only in what Vars and the
	// request's scheme tell apart: the proxy then builds one table on each
	// change instead of two. VirtualHosts are the shared table's.
	Routes string `json:"routes,omitempty"`
	// Scheme, when set, is "http" or "https": the scheme of the
	// listener's connections, which the routes of a shared table match
	// (Match.Scheme) to tell the listeners apart and headers of the
	// connection's scheme (Header.FromConnection Scheme) read.
	Scheme string `json:"scheme,omitempty"`
	// Vars are the listener's own values, which headers read by key
	// (Header.FromListener).
	Vars map[string]string `json:"vars,omitempty"`
	// RequestHeaders are set, in order, on every request forwarded from
	// this listener, and RemoveRequestHeaders removed from it;
	// ResponseHeaders are set on every response it sends.
	RequestHeaders       []Header `json:"requestHeaders,omitempty"`
	RemoveRequestHeaders []string `json:"removeRequestHeaders,omitempty"`
	ResponseHeaders      []Header `json:"responseHeaders,omitempty"`
	// MaxBodyBytes bounds the request body of every route that sets no
	// limit of its own (Policy.MaxBodyBytes): a larger body gets 413. Zero
	// means no limit.
	MaxBodyBytes uint64 `json:"maxBodyBytes,omitempty"`
	// AccessLog, when set, is written for every request of the listener.
	AccessLog *AccessLog `json:"accessLog,omitempty"`
	// RemoveResponseHeaders are removed from the backends' responses.
	RemoveResponseHeaders []string `json:"removeResponseHeaders,omitempty"`
	// NoRequestID leaves a request without X-Request-ID without one;
	// otherwise the proxy makes one up (a client's own is always kept).
	NoRequestID bool `json:"noRequestID,omitempty"`
	// AllowHeadersWithUnderscores keeps request headers whose names hold
	// an underscore; by default they are dropped, so that X_Forwarded_For
	// never passes for X-Forwarded-For at a backend that folds the two.
	AllowHeadersWithUnderscores bool `json:"allowHeadersWithUnderscores,omitempty"`
	// RealIP says where the client's address comes from; nil takes the
	// connection's peer.
	RealIP *RealIP `json:"realIP,omitempty"`
	// Block, when set, refuses some clients' requests before any route.
	Block *Block `json:"block,omitempty"`
	// PortRoutes are the route tables of other listeners that answer
	// connections to some destination ports.
	PortRoutes []PortRoutes `json:"portRoutes,omitempty"`
	// Clients bounds the connections of clients and their requests.
	Clients ClientConnections `json:"clients"`
	// Server is the Server header of every response; empty sends none.
	// With BackendServer, a backend's own Server header is passed on
	// instead, and Server applies only where the backend sent none.
	Server        string `json:"server,omitempty"`
	BackendServer bool   `json:"backendServer,omitempty"`
	// Tracing, when set, sends spans of the listener's requests to a
	// collector.
	Tracing *Tracing `json:"tracing,omitempty"`
	// RateLimitService, when set, counts the requests of routes with a
	// GlobalRateLimit.
	RateLimitService *RateLimitService `json:"rateLimitService,omitempty"`
	// Compression compresses responses with the first of these methods
	// that the client accepts most; empty compresses nothing.
	Compression []*Compression `json:"compression,omitempty"`
	// LocalReplies give the proxy's own answers of these statuses a body,
	// one entry per status.
	LocalReplies []LocalReply `json:"localReplies,omitempty"`
	// UpstreamTLSFailureStatus, when not zero, is the status of the
	// proxy's answer when the connection to an endpoint failed in its TLS
	// handshake (a certificate not trusted, no version in common), with
	// the body LocalReplies give it; zero keeps the proxy's own (503).
	UpstreamTLSFailureStatus uint32 `json:"upstreamTLSFailureStatus,omitempty"`
}

// FilterChain is one certificate of a TLS listener.
type FilterChain struct {
	Name string `json:"name"`
	// ServerNames select the chain by SNI; empty makes it the default
	// chain, for clients whose SNI matches no other chain or who send none.
	ServerNames []string `json:"serverNames,omitempty"`
	// Secret names the certificate.
	Secret string `json:"secret"`
	// Clients, when set, asks clients for a certificate and checks it;
	// routes then match on the outcome (Match.ClientCert).
	Clients *ClientValidation `json:"clients,omitempty"`
	// CipherSuites, when set, replace the listener's TLSParams suites
	// (names from CipherSuites()); PreferClientCiphers lets the client's
	// order of them win over the server's.
	CipherSuites        []string `json:"cipherSuites,omitempty"`
	PreferClientCiphers bool     `json:"preferClientCiphers,omitempty"`
}

// PassthroughChain is a filter chain of a TLS listener that proxies the
// connections whose SNI matches ServerNames to Cluster as bytes, without
// terminating TLS.
type PassthroughChain struct {
	Name string `json:"name"`
	// ServerNames are host names or "*.suffix" (any number of labels).
	ServerNames []string `json:"serverNames"`
	Cluster     string   `json:"cluster"`
}

// VirtualHost is the routes of a set of authorities.
type VirtualHost struct {
	Name string `json:"name"`
	// Domains are host names, "*.suffix" (any number of labels, as Envoy
	// matches it) or "*"; the port of the authority is ignored.
	Domains []string `json:"domains"`
	// Routes in the order they are tried; the first whose match holds
	// answers.
	Routes []*Route `json:"routes"`
	// NoAccessLog leaves out of the access log the requests that no
	// route of the host answers.
	NoAccessLog bool `json:"noAccessLog,omitempty"`
}

// Route is one match and what answers it: exactly one of Forward, Redirect
// and Direct is set.
type Route struct {
	Match    Match     `json:"match"`
	Forward  *Forward  `json:"forward,omitempty"`
	Redirect *Redirect `json:"redirect,omitempty"`
	Direct   *Direct   `json:"direct,omitempty"`
	// Policy is what the route's filters check before it answers; nil
	// checks nothing.
	Policy *Policy `json:"policy,omitempty"`
	// RequestHeaders are set on the request to the backend, replacing a
	// header of the same name; ResponseHeaders on the response.
	RequestHeaders  []Header `json:"requestHeaders,omitempty"`
	ResponseHeaders []Header `json:"responseHeaders,omitempty"`
	// RemoveRequestHeaders are removed from the request to the backend.
	RemoveRequestHeaders []string `json:"removeRequestHeaders,omitempty"`
	// Source names the object the route comes from (namespace/name), for
	// readers of the model; it changes nothing that Envoy does.
	Source string `json:"source,omitempty"`
	// UpstreamName is what the access log names the upstream the route
	// stands for (its main backend), also when the route answers itself;
	// empty logs "-".
	UpstreamName string `json:"upstreamName,omitempty"`
	// LogLabels are values the access log may print for the route's
	// requests (LogRouteLabel).
	LogLabels map[string]string `json:"logLabels,omitempty"`
	// NoAccessLog leaves the route's requests out of the access log.
	NoAccessLog bool `json:"noAccessLog,omitempty"`
	// NoTrace starts no trace for the route's requests where the
	// listener traces; TraceOperation, when set, names their spans.
	NoTrace        bool   `json:"noTrace,omitempty"`
	TraceOperation string `json:"traceOperation,omitempty"`
}

// PathKind is how a route compares the request path (without its query).
type PathKind string

const (
	// PathExact matches the path exactly and case-sensitively.
	PathExact PathKind = "Exact"
	// PathPrefix matches the path element by element: "/foo" matches
	// "/foo" and "/foo/bar", never "/foobar"; "/" matches every path.
	PathPrefix PathKind = "Prefix"
	// PathRegex matches when the whole path matches the RE2 expression.
	PathRegex PathKind = "Regex"
)

// Match is what a request must have for a route to answer it.
type Match struct {
	Path PathMatch `json:"path"`
	// Headers must all match; ":authority" and ":method" are headers.
	Headers []HeaderMatch `json:"headers,omitempty"`
	// ClientCert, when set, must hold of the client's certificate.
	ClientCert *CertMatch `json:"clientCert,omitempty"`
	// ServerName, when set, must match the server name (SNI) the client
	// sent in its TLS handshake, on a connection whose filter chain checks
	// clients (FilterChain.Clients): on others, and over plain HTTP, it
	// never holds.
	ServerName *StringMatch `json:"serverName,omitempty"`
	// Scheme, when set, must be the Scheme of the listener that received
	// the request, whatever the request says of its scheme.
	Scheme string `json:"scheme,omitempty"`
}

// PathMatch compares the request path.
type PathMatch struct {
	Kind  PathKind `json:"kind"`
	Value string   `json:"value"`
}

// HeaderMatch holds when the request has the header with a value that is
// Exact, or that the RE2 expression Regex matches as a whole.
type HeaderMatch struct {
	Name  string `json:"name"`
	Exact string `json:"exact,omitempty"`
	Regex string `json:"regex,omitempty"`
	// Invert matches a request that has the header with a value that does
	// not match.
	Invert bool `json:"invert,omitempty"`
}

// Header is a header to set: the literal Value, followed by the value of
// the request header FromRequest or of the connection's FromConnection
// when set, or by Fields printed as the access log prints them (without
// its "-" for absent values). A header whose value comes out empty is not
// set.
type Header struct {
	Name           string         `json:"name,omitempty"`
	Value          string         `json:"value,omitempty"`
	FromRequest    string         `json:"fromRequest,omitempty"`
	FromConnection ConnectionInfo `json:"fromConnection,omitempty"`
	Fields         []LogField     `json:"fields,omitempty"`
	// Else, when the request lacks FromRequest, gives the value instead
	// (its Name is not used).
	Else *Header `json:"else,omitempty"`
	// OnPort, when not zero, sets the header to OnPortValue instead when
	// the client connected to that port (DestinationPort).
	OnPort      uint32 `json:"onPort,omitempty"`
	OnPortValue string `json:"onPortValue,omitempty"`
	// FromListener, when set, is the key of the value in the Vars of the
	// listener that received the request; an empty value sends no header.
	FromListener string `json:"fromListener,omitempty"`
}

// ConnectionInfo is something known of a client's connection.
type ConnectionInfo string

const (
	// ClientAddress is the client's address, without its port: the peer
	// of the connection, or what the listener's ClientAddress finds.
	ClientAddress ConnectionInfo = "client-address"
	// DestinationPort is the port the client connected to: the listener's,
	// or the destination port of the PROXY protocol header.
	DestinationPort ConnectionInfo = "destination-port"
	// Scheme is the scheme of the client's connection to the listener
	// (the listener's Scheme), whatever the request claims.
	Scheme ConnectionInfo = "scheme"
	// ClientCertSubject and ClientCertIssuer are the subject and issuer
	// of the client's certificate, as RFC 2253 names (CN=...,O=...).
	ClientCertSubject ConnectionInfo = "client-cert-subject"
	ClientCertIssuer  ConnectionInfo = "client-cert-issuer"
	// ClientCertPEM is the client's certificate, PEM, URL-encoded.
	ClientCertPEM ConnectionInfo = "client-cert-pem"
)

// Forward proxies the request to one of its backends.
type Forward struct {
	// Backends by weight; a single backend takes every request.
	Backends []WeightedCluster `json:"backends"`
	// PathRewrite, when set, replaces the path before it is sent.
	PathRewrite *RegexRewrite `json:"pathRewrite,omitempty"`
	// HostRewrite, when set, replaces the Host header.
	HostRewrite string `json:"hostRewrite,omitempty"`
	// HostFromRequest, when set and the request has that header, replaces
	// the Host header with its value.
	HostFromRequest string `json:"hostFromRequest,omitempty"`
	// Retry, when set, tries the request again on other endpoints when
	// one fails as it says.
	Retry *Retry `json:"retry,omitempty"`
	// Timeout, when not zero, bounds the whole exchange: every try and
	// the whole response.
	Timeout Duration `json:"timeout,omitempty"`
	// IdleTimeout bounds the time the backend may stay silent, before its
	// response starts and between two reads; a silent start answers 504.
	// Zero means none.
	IdleTimeout Duration `json:"idleTimeout,omitempty"`
	// StreamIdleTimeout, when not zero, bounds a stream with no bytes in
	// either direction, instead of the listener's default.
	StreamIdleTimeout Duration `json:"streamIdleTimeout,omitempty"`
	// SessionCookie, when set, keeps a client on one endpoint (the cluster
	// must balance by hash) with a cookie set when the request has none.
	SessionCookie *SessionCookie `json:"sessionCookie,omitempty"`
	// Mirrors each get a copy of the request, whose answer is ignored:
	// the client's answer never waits for them.
	Mirrors []Mirror `json:"mirrors,omitempty"`
	// HashBy, when not empty, picks the endpoint by the hash of these
	// parts of the request together (the cluster must balance by hash),
	// so that requests with equal parts go to one endpoint. A request that
	// lacks every part gets an endpoint by chance.
	HashBy []HashKey `json:"hashBy,omitempty"`
}

// Mirror is a cluster that gets a copy of each request, with the same
// method, path, headers and body; Host, when set, replaces its Host header.
type Mirror struct {
	Cluster string `json:"cluster"`
	Host    string `json:"host,omitempty"`
}

// HashKey is one part of a request that a hash covers: exactly one field
// is set.
type HashKey struct {
	// Header is a request header, ":path" and ":authority" included.
	Header string `json:"header,omitempty"`
	// Cookie is a cookie of the request; it is never set.
	Cookie string `json:"cookie,omitempty"`
	// Query is a parameter of the request's query.
	Query string `json:"query,omitempty"`
	// ClientAddress is the client's address.
	ClientAddress bool `json:"clientAddress,omitempty"`
}

// Retry says when a request goes on to another endpoint, one after the
// other, each not tried before when the cluster has one left.
type Retry struct {
	// Attempts is how many more endpoints are tried after the first.
	Attempts uint32 `json:"attempts"`
	// ConnectFailure retries when the endpoint refused, failed or timed
	// out the connection, or dropped it before the request reached it:
	// safe for every method, as the endpoint never saw the request.
	ConnectFailure bool `json:"connectFailure,omitempty"`
	// Reset retries when the endpoint dropped the connection after the
	// request was sent, answered with no HTTP, or stayed silent past the
	// idle timeout before its response started.
	Reset bool `json:"reset,omitempty"`
	// Statuses are the response statuses that retry.
	Statuses []uint32 `json:"statuses,omitempty"`
	// NonIdempotent lets POST, PATCH and LOCK requests retry after Reset
	// and Statuses too; otherwise, as nginx, they retry only on
	// ConnectFailure, since the endpoint may have acted on them.
	NonIdempotent bool `json:"nonIdempotent,omitempty"`
}

// WeightedCluster is one backend of a Forward.
type WeightedCluster struct {
	Cluster string `json:"cluster"`
	Weight  uint32 `json:"weight,omitempty"`
	// CookieTag, when set on a forward with a SessionCookie, makes the
	// route issue the session cookie itself whenever this backend is
	// chosen: a fresh key, "|" and the tag, so that a later route can
	// match the backend that issued it. The request carries the cookie
	// already when the endpoint is picked, so its hash keeps the client
	// on the endpoint that answered first.
	CookieTag string `json:"cookieTag,omitempty"`
}

// RegexRewrite replaces what Pattern matches in the path with Substitution,
// in which \1 to \9 stand for the pattern's groups.
type RegexRewrite struct {
	Pattern      string `json:"pattern"`
	Substitution string `json:"substitution"`
}

// SessionCookie is a cookie whose hash picks the endpoint.
type SessionCookie struct {
	Name string `json:"name"`
	// TTL is the cookie's Max-Age; zero makes a session cookie.
	TTL Duration `json:"ttl,omitempty"`
	// Expires, when not zero, adds an Expires attribute that long after
	// each response that sets the cookie.
	Expires Duration `json:"expires,omitempty"`
	Path    string   `json:"path"`
	// Attributes such as Domain, SameSite, Secure (with no value).
	Attributes []CookieAttribute `json:"attributes,omitempty"`
	// Persistent makes the cookie name its endpoint rather than a hash:
	// a session never moves while its endpoint stays, whatever endpoints
	// join (the cluster need not balance by hash); when its endpoint is
	// gone, another answers and the cookie is set again for it.
	Persistent bool `json:"persistent,omitempty"`
}

// CookieAttribute is one attribute of a cookie.
type CookieAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// Redirect answers with a redirect to the request's URL with the set parts
// replaced.
type Redirect struct {
	// Code is 301, 302, 303, 307 or 308.
	Code   uint32 `json:"code"`
	Scheme string `json:"scheme,omitempty"`
	Host   string `json:"host,omitempty"`
	Port   uint32 `json:"port,omitempty"`
	// Path, when set, replaces the path; with StripQuery the query goes
	// (Path may then hold a query of its own).
	Path       string `json:"path,omitempty"`
	StripQuery bool   `json:"stripQuery,omitempty"`
	// DropPort leaves the request's port out of the Location, which
	// otherwise keeps the Host header's port when Port is not set.
	DropPort bool `json:"dropPort,omitempty"`
}

// Direct answers with a status of its own.
type Direct struct {
	Status uint32 `json:"status"`
	Body   string `json:"body,omitempty"`
}

// Policy is what a route's filters check or count; zero fields do nothing.
type Policy struct {
	CORS      *CORS      `json:"cors,omitempty"`
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// GlobalRateLimit, when set, counts requests in the listener's
	// RateLimitService.
	GlobalRateLimit *GlobalRateLimit `json:"globalRateLimit,omitempty"`
	ConnectionLimit *ConnectionLimit `json:"connectionLimit,omitempty"`
	Access          *Access          `json:"access,omitempty"`
	// ExternalAuth, when set, asks an auth service about each request.
	ExternalAuth *ExternalAuth `json:"externalAuth,omitempty"`
	// BasicAuth, when set, checks each request's Basic credentials.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// SatisfyAny admits a request that passes any one of Access,
	// BasicAuth and ExternalAuth; without it a request must pass each
	// that is set.
	SatisfyAny bool `json:"satisfyAny,omitempty"`
	// ErrorPages, when set, replaces some of the backend's responses.
	ErrorPages *ErrorPages `json:"errorPages,omitempty"`
	// MaxBodyBytes, when set, replaces the listener's limit on the request
	// body (Listener.MaxBodyBytes): a larger body gets 413; zero lifts
	// the limit.
	MaxBodyBytes *uint64 `json:"maxBodyBytes,omitempty"`
	// ResponseKiBps, when not zero, bounds the rate at which the route's
	// responses are sent to clients, in KiB per second, shared by all the
	// route's responses in flight on one proxy.
	ResponseKiBps uint64 `json:"responseKiBps,omitempty"`
	// ResponseRewrite, when set, rewrites headers of the backend's
	// responses.
	ResponseRewrite *ResponseRewrite `json:"responseRewrite,omitempty"`
}

// CORS answers the actual cross-origin requests from AllowOrigins with
// their origin and these headers; other origins get no CORS header.
type CORS struct {
	AllowOrigins     []StringMatch `json:"allowOrigins"`
	AllowMethods     string        `json:"allowMethods"`
	AllowHeaders     string        `json:"allowHeaders"`
	ExposeHeaders    string        `json:"exposeHeaders,omitempty"`
	AllowCredentials bool          `json:"allowCredentials,omitempty"`
	// MaxAge is in seconds.
	MaxAge uint32 `json:"maxAge"`
}

// StringMatch matches a string that is Exact (in any letter case with
// IgnoreCase), or that the RE2 expression Regex matches as a whole.
type StringMatch struct {
	Exact      string `json:"exact,omitempty"`
	IgnoreCase bool   `json:"ignoreCase,omitempty"`
	Regex      string `json:"regex,omitempty"`
}

// RateLimit limits the requests of each client address on each Envoy: a
// client may send the rate times BurstMultiplier, plus one, at once, then
// the rate; requests over it get Status.
type RateLimit struct {
	// PerSecond and PerMinute are rates; zero means none of that kind.
	PerSecond       uint32 `json:"perSecond,omitempty"`
	PerMinute       uint32 `json:"perMinute,omitempty"`
	BurstMultiplier uint32 `json:"burstMultiplier"`
	// Exempt are client addresses that are never limited.
	Exempt []netip.Prefix `json:"exempt,omitempty"`
	// Status answers the requests over the limit; zero means 503.
	Status uint32 `json:"status,omitempty"`
}

// ConnectionLimit bounds the requests of one client address in flight at
// once on one Envoy, across the routes that share Scope; one more gets
// Status.
type ConnectionLimit struct {
	Max    uint32         `json:"max"`
	Scope  string         `json:"scope"`
	Exempt []netip.Prefix `json:"exempt,omitempty"`
	// Status answers the requests over the limit; zero means 503.
	Status uint32 `json:"status,omitempty"`
}

// Access admits requests by client address; the others get 403. Deny is
// checked first; a non-empty Allow then admits only its ranges; DenyAll
// admits nothing.
type Access struct {
	Allow   []netip.Prefix `json:"allow,omitempty"`
	Deny    []netip.Prefix `json:"deny,omitempty"`
	DenyAll bool           `json:"denyAll,omitempty"`
}
