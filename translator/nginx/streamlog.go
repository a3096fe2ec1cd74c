package nginx

import (
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// DefaultStreamLogFormat is ingress-nginx's default log-format-stream: the
// line it writes for every TCP connection and UDP session.
const DefaultStreamLogFormat = `[$remote_addr] [$time_local] $protocol $status $bytes_sent $bytes_received $session_time`

// streamLogVariables are the nginx stream variables a stream log can
// print, and what each is in the routing model; $protocol is the
// listener's own.
var streamLogVariables = map[string][]ir.LogField{
	"remote_addr":    {{Value: ir.LogClientAddress}},
	"time_local":     {{Value: ir.LogTimeLocal}},
	"time_iso8601":   {{Value: ir.LogTimeISO8601}},
	"status":         {{Value: ir.LogSessionStatus}},
	"bytes_sent":     {{Value: ir.LogBytesSent}},
	"bytes_received": {{Value: ir.LogBytesReceived}},
	"session_time":   {{Value: ir.LogSessionTime}},
	"upstream_addr":  {{Value: ir.LogUpstreamAddress}},
}

// ParseStreamLogFormat reads an nginx stream log format (log-format-stream)
// for the listeners of proto, as ParseLogFormat reads an HTTP one.
func ParseStreamLogFormat(format string, proto StreamProtocol) ([]ir.LogField, error) {
	return parseLogFormat(format, func(name string) ([]ir.LogField, bool) {
		name = strings.ToLower(name)
		if name == "protocol" {
			return []ir.LogField{{Text: string(proto)}}, true
		}
		f, ok := streamLogVariables[name]
		return f, ok
	})
}
