package ir

// StreamListener is a port on which Envoy proxies whole TCP connections,
// or UDP datagrams, to the endpoints of one cluster, without reading them.
type StreamListener struct {
	// Name names the listener and its stats.
	Name     string   `json:"name"`
	Protocol Protocol `json:"protocol"`
	Address  string   `json:"address"`
	Port     uint32   `json:"port"`
	Cluster  string   `json:"cluster"`
	// AcceptProxyProtocol reads a PROXY protocol header (v1 or v2) that
	// the client sends first, and takes the client's address from it; a
	// connection without one is closed. TCP only.
	AcceptProxyProtocol bool `json:"acceptProxyProtocol,omitempty"`
	// IdleTimeout closes a connection (a UDP session) with no bytes in
	// either direction for this long; zero means none.
	IdleTimeout Duration `json:"idleTimeout,omitempty"`
	// ConnectAttempts is how many endpoints a TCP connection may try in
	// all when connecting fails; zero means one.
	ConnectAttempts uint32 `json:"connectAttempts,omitempty"`
	// AccessLog, when set, is written for every connection (UDP session)
	// when it ends.
	AccessLog *AccessLog `json:"accessLog,omitempty"`
	// Source names the object and the entry the listener comes from, for
	// readers of the model; it changes nothing that Envoy does.
	Source string `json:"source,omitempty"`
}

// The stream log's values (docs/tcp-udp.md).
const (
	// LogSessionStatus is 200 when an endpoint took the connection, 502
	// when none could be reached, as nginx's stream $status.
	LogSessionStatus LogValue = "session-status"
	// LogBytesSent and LogBytesReceived count the bytes sent to and
	// received from the client.
	LogBytesSent     LogValue = "bytes-sent"
	LogBytesReceived LogValue = "bytes-received"
	// LogSessionTime is how long the connection lasted, in seconds with
	// millisecond resolution.
	LogSessionTime LogValue = "session-time"
)
