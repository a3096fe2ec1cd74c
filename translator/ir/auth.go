package ir

// ExternalAuth asks an HTTP service about each request of a route before
// the route answers it: 2xx lets the request through, 401 redirects to
// SigninURL when it is set (else 401 is passed on), 403 is passed on, and
// anything else, or no answer in time, is 500.
type ExternalAuth struct {
	// URL is the auth service's URL, built for each request.
	URL Text `json:"url"`
	// Method of the auth request; empty sends GET.
	Method string `json:"method,omitempty"`
	// SigninURL, when set, is where a 401 sends the client (302), with
	// the original URL in the query parameter SigninRedirectParam ("rd"
	// when empty) unless the URL already has that parameter.
	SigninURL           Text   `json:"signinUrl,omitempty"`
	SigninRedirectParam string `json:"signinRedirectParam,omitempty"`
	// ResponseHeaders are headers of the auth response that replace
	// those of the request to the backend (removed when the response
	// lacks them).
	ResponseHeaders []string `json:"responseHeaders,omitempty"`
	// RequestRedirect, when set, is sent to the auth service as
	// X-Auth-Request-Redirect in place of the request's URI.
	RequestRedirect string `json:"requestRedirect,omitempty"`
	// RequestHeaders are extra headers of the auth request.
	RequestHeaders []TextHeader `json:"requestHeaders,omitempty"`
	// Cache, when set, keeps answers of the auth service.
	Cache *AuthCache `json:"cache,omitempty"`
	// CookieStatuses, when not empty, are the statuses of the responses
	// that carry the auth service's cookies (Set-Cookie); empty sends them
	// with every response.
	CookieStatuses []uint32 `json:"cookieStatuses,omitempty"`
	// Timeout bounds the auth request from its start to its response;
	// ConnectTimeout its connection.
	Timeout        Duration `json:"timeout"`
	ConnectTimeout Duration `json:"connectTimeout"`
	// Keepalive, when not zero, keeps that many idle connections to the
	// auth service for KeepaliveTimeout, each carrying up to
	// KeepaliveRequests requests.
	Keepalive         uint32   `json:"keepalive,omitempty"`
	KeepaliveRequests uint32   `json:"keepaliveRequests,omitempty"`
	KeepaliveTimeout  Duration `json:"keepaliveTimeout,omitempty"`
}

// AuthCache keeps the auth service's answers per Scope and Key (built for
// each request) as long as the first rule naming their status says.
type AuthCache struct {
	Key   Text        `json:"key"`
	Scope string      `json:"scope"`
	Rules []CacheRule `json:"rules"`
}

// CacheRule keeps answers with one of Statuses, or any with Any, for TTL.
type CacheRule struct {
	Statuses []uint32 `json:"statuses,omitempty"`
	Any      bool     `json:"any,omitempty"`
	TTL      Duration `json:"ttl"`
}

// TextHeader is a header whose value is built for each request.
type TextHeader struct {
	Name  string `json:"name"`
	Value Text   `json:"value"`
}

// Text is a string built for each request from literal parts and values
// of the request.
type Text []TextPart

// TextPart is Literal text, or the request value Value (with Name for the
// values that take one).
type TextPart struct {
	Literal string       `json:"literal,omitempty"`
	Value   RequestValue `json:"value,omitempty"`
	Name    string       `json:"name,omitempty"`
}

// RequestValue is something a request has, to build a Text from.
type RequestValue string

// The values of a request a Text may hold.
const (
	// ValueHost is the host the client asked for, lowercase, without port.
	ValueHost RequestValue = "host"
	// ValueAuthority is the Host header as sent.
	ValueAuthority RequestValue = "authority"
	// ValueScheme is "http" or "https".
	ValueScheme RequestValue = "scheme"
	// ValueRequestURI is the path with its query, as the client sent it;
	// ValueEscapedRequestURI the same, escaped as a query parameter.
	ValueRequestURI        RequestValue = "requestURI"
	ValueEscapedRequestURI RequestValue = "escapedRequestURI"
	// ValuePath is the path without query; ValueQuery the query.
	ValuePath  RequestValue = "path"
	ValueQuery RequestValue = "query"
	// ValueMethod is the request's method.
	ValueMethod RequestValue = "method"
	// ValueClientAddress is the client's address, without port.
	ValueClientAddress RequestValue = "clientAddress"
	// ValueRemoteUser is the user name of the request's Basic
	// credentials.
	ValueRemoteUser RequestValue = "remoteUser"
	// ValueHeader, ValueQueryParam and ValueCookie are the request header,
	// query parameter or cookie that Name names.
	ValueHeader     RequestValue = "header"
	ValueQueryParam RequestValue = "queryParam"
	ValueCookie     RequestValue = "cookie"
)

// BasicAuth admits the requests whose Basic credentials name a user of
// Credentials with the right password; the others get 401 with a
// WWW-Authenticate header for Realm. The Authorization header never
// reaches the backend.
type BasicAuth struct {
	Realm string `json:"realm"`
	// Credentials names the Config's Credentials to check against.
	Credentials string `json:"credentials"`
}

// Credentials are users and their password hashes, as htpasswd lines
// ("user:hash"), under a name that routes refer to. Dumps show the name
// only: the hashes never leave rukou but to the one that checks them.
type Credentials struct {
	Name  string `json:"name"`
	Users []byte `json:"-"`
}
