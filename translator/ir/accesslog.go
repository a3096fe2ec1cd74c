package ir

// AccessLog is the line a listener writes for each request it answers,
// proxied or not: its fields in order, with nothing between them but the
// literal text the fields hold; or, when JSON is set, a JSON object whose
// members print the values escaped, so that every line stays valid JSON.
// Routes and virtual hosts may leave their requests out (NoAccessLog).
type AccessLog struct {
	Fields []LogField  `json:"fields,omitempty"`
	JSON   []LogMember `json:"json,omitempty"`
	// Stderr writes the lines on the standard error rather than the
	// standard output.
	Stderr bool `json:"stderr,omitempty"`
	// Unrouted writes the lines of the requests that no virtual host
	// takes, which are otherwise left out.
	Unrouted bool `json:"unrouted,omitempty"`
	// Skip leaves out the requests whose URI (path and query, as the
	// client sent them) one of these matches.
	Skip []StringMatch `json:"skip,omitempty"`
}

// LogMember is one member of a JSON access-log line: Key, with the string
// that Fields print, or the nested Object. A member whose Fields are one
// value alone keeps that value's type (a status is a number) and prints
// null when the value is absent.
type LogMember struct {
	Key    string      `json:"key"`
	Fields []LogField  `json:"fields,omitempty"`
	Object []LogMember `json:"object,omitempty"`
}

// LogField is one part of an access-log line: the literal Text, or else
// the Value of the request (Header names the header of RequestHeader and
// ResponseHeader). A value that is absent prints as "-", except where its
// constant says otherwise.
type LogField struct {
	Text   string   `json:"text,omitempty"`
	Value  LogValue `json:"value,omitempty"`
	Header string   `json:"header,omitempty"`
	// Label names the route's LogLabels entry of LogRouteLabel.
	Label string `json:"label,omitempty"`
}

// LogValue is something known of a request once it has been answered.
type LogValue string

// The values an access log can print.
const (
	// LogClientAddress is the client's address, without its port.
	LogClientAddress LogValue = "client-address"
	// LogRemoteUser is the user name of the request's basic credentials.
	LogRemoteUser LogValue = "remote-user"
	// LogTimeLocal is when the request started, as 02/Jan/2006:15:04:05 -0700.
	LogTimeLocal LogValue = "time-local"
	// LogTimeISO8601 is when the request started, as 2006-01-02T15:04:05-07:00.
	LogTimeISO8601 LogValue = "time-iso8601"
	// LogMethod is the request's method.
	LogMethod LogValue = "method"
	// LogPath is the request's path with its query.
	LogPath LogValue = "path"
	// LogProtocol is the request's protocol, such as HTTP/1.1.
	LogProtocol LogValue = "protocol"
	// LogHost is the request's authority.
	LogHost LogValue = "host"
	// LogStatus is the status of the response.
	LogStatus LogValue = "status"
	// LogBodyBytesSent is the size of the response body sent.
	LogBodyBytesSent LogValue = "body-bytes-sent"
	// LogRequestLength is the size of the request as received: request
	// line, headers and body.
	LogRequestLength LogValue = "request-length"
	// LogRequestTime is the time from the request's first byte to the
	// response's last, in seconds with millisecond resolution (0.005).
	LogRequestTime LogValue = "request-time"
	// LogRequestHeader is the value of the request header Header.
	LogRequestHeader LogValue = "request-header"
	// LogResponseHeader is the value of the response header Header.
	LogResponseHeader LogValue = "response-header"
	// LogUpstreamName is the UpstreamName of the route that answered.
	LogUpstreamName LogValue = "upstream-name"
	// LogAlternativeUpstreamName is the AlternativeName of the cluster
	// that answered; empty (not "-") when it has none or none answered.
	LogAlternativeUpstreamName LogValue = "alternative-upstream-name"
	// LogUpstreamAddress is the address and port of the endpoint that
	// answered.
	LogUpstreamAddress LogValue = "upstream-address"
	// LogUpstreamResponseLength is the size of the response body when an
	// endpoint answered.
	LogUpstreamResponseLength LogValue = "upstream-response-length"
	// LogUpstreamResponseTime is how long the endpoint took, in seconds
	// with millisecond resolution, when one answered.
	LogUpstreamResponseTime LogValue = "upstream-response-time"
	// LogUpstreamStatus is the status of the response when an endpoint
	// answered.
	LogUpstreamStatus LogValue = "upstream-status"
	// LogRequestID is the request's ID: the X-Request-ID the client sent,
	// else one made for it.
	LogRequestID LogValue = "request-id"
	// LogStartSeconds is when the request started, in seconds since the
	// epoch with millisecond resolution (1796106750.746).
	LogStartSeconds LogValue = "start-seconds"
	// LogPathOnly is the request's path without its query, as routed
	// (normalised, rewritten).
	LogPathOnly LogValue = "path-only"
	// LogQuery is the request's query, without "?"; empty when none.
	LogQuery LogValue = "query"
	// LogScheme is "http" or "https".
	LogScheme LogValue = "scheme"
	// LogWireBytesSent is the size of the response as written to the
	// client's connection: status line, headers and body.
	LogWireBytesSent LogValue = "wire-bytes-sent"
	// LogRouteLabel is the route's LogLabels entry named Label.
	LogRouteLabel LogValue = "route-label"
	// LogVirtualHost is the name of the virtual host that took the
	// request.
	LogVirtualHost LogValue = "virtual-host"
	// LogServerPort is the port the request arrived on.
	LogServerPort LogValue = "server-port"
	// LogClientPort is the port of the client's address.
	LogClientPort LogValue = "client-port"
	// LogTLSProtocol and LogTLSCipher are the TLS version (TLSv1.3) and
	// cipher of the client's connection; absent without TLS.
	LogTLSProtocol LogValue = "tls-protocol"
	LogTLSCipher   LogValue = "tls-cipher"
	// LogHTTP2 is "h2" for HTTP/2 over TLS, "h2c" in clear text, else
	// empty.
	LogHTTP2 LogValue = "http2"
	// LogHostname is the name of the machine the proxy runs on.
	LogHostname LogValue = "hostname"
)
