package ir

// AccessLog is the line a listener writes for each request it answers,
// proxied or not: its fields in order, with nothing between them but the
// literal text the fields hold.
type AccessLog struct {
	Fields []LogField `json:"fields"`
}

// LogField is one part of an access-log line: the literal Text, or else
// the Value of the request (Header names the header of RequestHeader and
// ResponseHeader). A value that is absent prints as "-", except where its
// constant says otherwise.
type LogField struct {
	Text   string   `json:"text,omitempty"`
	Value  LogValue `json:"value,omitempty"`
	Header string   `json:"header,omitempty"`
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
)
