package nginx

import (
	"fmt"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// DefaultLogFormat is ingress-nginx's default log-format-upstream: the
// line it writes for every request.
const DefaultLogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`

// DefaultUpstreamName is what ingress-nginx logs as $proxy_upstream_name
// for the requests its default backend answers.
const DefaultUpstreamName = "upstream-default-backend"

// UpstreamName is ingress-nginx's name of the upstream of a Service port,
// as its logs and metrics show it: namespace-service-port, with the port
// as the Ingress names it (a number or a name).
func UpstreamName(namespace, service, port string) string {
	return namespace + "-" + service + "-" + port
}

// logVariables are the nginx variables an access log can print, and what
// each is in the routing model. $http_* and $sent_http_* are headers.
var logVariables = map[string][]ir.LogField{
	"remote_addr":     {{Value: ir.LogClientAddress}},
	"remote_user":     {{Value: ir.LogRemoteUser}},
	"time_local":      {{Value: ir.LogTimeLocal}},
	"time_iso8601":    {{Value: ir.LogTimeISO8601}},
	"request":         {{Value: ir.LogMethod}, {Text: " "}, {Value: ir.LogPath}, {Text: " "}, {Value: ir.LogProtocol}},
	"request_method":  {{Value: ir.LogMethod}},
	"request_uri":     {{Value: ir.LogPath}},
	"server_protocol": {{Value: ir.LogProtocol}},
	"host":            {{Value: ir.LogHost}},
	"status":          {{Value: ir.LogStatus}},
	"body_bytes_sent": {{Value: ir.LogBodyBytesSent}},
	"request_length":  {{Value: ir.LogRequestLength}},
	"request_time":    {{Value: ir.LogRequestTime}},

	"proxy_upstream_name":             {{Value: ir.LogUpstreamName}},
	"proxy_alternative_upstream_name": {{Value: ir.LogAlternativeUpstreamName}},
	"upstream_addr":                   {{Value: ir.LogUpstreamAddress}},
	"upstream_response_length":        {{Value: ir.LogUpstreamResponseLength}},
	"upstream_response_time":          {{Value: ir.LogUpstreamResponseTime}},
	"upstream_status":                 {{Value: ir.LogUpstreamStatus}},
	"req_id":                          {{Value: ir.LogRequestID}},
	// nginx's own random ID; rukou's is the request's ID (docs/edge.md).
	"request_id": {{Value: ir.LogRequestID}},

	"msec":           {{Value: ir.LogStartSeconds}},
	"uri":            {{Value: ir.LogPathOnly}},
	"document_uri":   {{Value: ir.LogPathOnly}},
	"args":           {{Value: ir.LogQuery}},
	"query_string":   {{Value: ir.LogQuery}},
	"scheme":         {{Value: ir.LogScheme}},
	"bytes_sent":     {{Value: ir.LogWireBytesSent}},
	"server_name":    {{Value: ir.LogVirtualHost}},
	"server_port":    {{Value: ir.LogServerPort}},
	"remote_port":    {{Value: ir.LogClientPort}},
	"ssl_protocol":   {{Value: ir.LogTLSProtocol}},
	"ssl_cipher":     {{Value: ir.LogTLSCipher}},
	"http2":          {{Value: ir.LogHTTP2}},
	"hostname":       {{Value: ir.LogHostname}},
	"content_type":   {{Value: ir.LogRequestHeader, Header: "content-type"}},
	"content_length": {{Value: ir.LogRequestHeader, Header: "content-length"}},
	// ingress-nginx's own variables, set in each location of an Ingress:
	// the labels of its routes.
	"namespace":    {{Value: ir.LogRouteLabel, Label: LabelNamespace}},
	"ingress_name": {{Value: ir.LogRouteLabel, Label: LabelIngressName}},
	"service_name": {{Value: ir.LogRouteLabel, Label: LabelServiceName}},
	"service_port": {{Value: ir.LogRouteLabel, Label: LabelServicePort}},
}

// The labels of the routes of an Ingress path, which $namespace,
// $ingress_name, $service_name and $service_port print.
const (
	LabelNamespace   = "namespace"
	LabelIngressName = "ingress_name"
	LabelServiceName = "service_name"
	LabelServicePort = "service_port"
)

// ParseLogFormat reads an nginx log format (log-format-upstream): literal
// text and $variable or ${variable} references. Each variable becomes a
// typed field; a variable rukou cannot print is reported, never kept as
// text, and so is a "$" that starts no variable.
func ParseLogFormat(format string) ([]ir.LogField, error) {
	return parseLogFormat(format, logVariable)
}

// parseLogFormat reads a log format whose variables lookup knows.
func parseLogFormat(format string, lookup func(name string) ([]ir.LogField, bool)) ([]ir.LogField, error) {
	var out []ir.LogField
	var unknown []string
	text := func(s string) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Value == "" {
			out[n-1].Text += s
			return
		}
		out = append(out, ir.LogField{Text: s})
	}
	for format != "" {
		i := strings.IndexByte(format, '$')
		if i < 0 {
			text(format)
			break
		}
		text(format[:i])
		name, rest, ok := variable(format[i+1:])
		if !ok {
			return nil, fmt.Errorf("log format: %q at offset %d starts no variable name", "$", i)
		}
		format = rest
		fields, ok := lookup(name)
		if !ok {
			unknown = append(unknown, "$"+name)
			continue
		}
		for _, f := range fields {
			if f.Value == "" {
				text(f.Text)
				continue
			}
			out = append(out, f)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("log format: rukou cannot print %s (see docs/edge.md)", strings.Join(unknown, ", "))
	}
	return out, nil
}

// variable splits a variable name, written as nginx reads it (name or
// {name}), from what follows it.
func variable(s string) (name, rest string, ok bool) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 2 || !isName(s[1:end]) {
			return "", "", false
		}
		return s[1:end], s[end+1:], true
	}
	n := 0
	for n < len(s) && isNameByte(s[n]) {
		n++
	}
	return s[:n], s[n:], n > 0
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// logVariable is what a variable prints; nginx's variable names ignore
// letter case, and $http_NAME and $sent_http_NAME are headers whose "_"
// stand for "-".
func logVariable(name string) ([]ir.LogField, bool) {
	name = strings.ToLower(name)
	if f, ok := logVariables[name]; ok {
		return f, true
	}
	for prefix, value := range map[string]ir.LogValue{"http_": ir.LogRequestHeader, "sent_http_": ir.LogResponseHeader} {
		if h, ok := strings.CutPrefix(name, prefix); ok && h != "" {
			return []ir.LogField{{Value: value, Header: strings.ReplaceAll(h, "_", "-")}}, true
		}
	}
	return nil, false
}
