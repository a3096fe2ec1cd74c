package envoy

import (
	"strings"

	envoy_config_accesslog_v3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_access_loggers_stream_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/rukou/rukou/translator/ir"
)

// The metadata that carries the access log's upstream names: a route's
// UpstreamName, and a cluster's AlternativeName.
const (
	metadataNamespace  = "rukou"
	upstreamNameKey    = "upstream_name"
	alternativeNameKey = "alternative_upstream_name"
)

// accessLogs renders a listener's access log: one line per request, on
// Envoy's standard output.
func accessLogs(l *ir.AccessLog) []*envoy_config_accesslog_v3.AccessLog {
	if l == nil {
		return nil
	}
	return []*envoy_config_accesslog_v3.AccessLog{{
		Name: "envoy.access_loggers.stdout",
		ConfigType: &envoy_config_accesslog_v3.AccessLog_TypedConfig{TypedConfig: mustAny(&envoy_extensions_access_loggers_stream_v3.StdoutAccessLog{
			AccessLogFormat: &envoy_extensions_access_loggers_stream_v3.StdoutAccessLog_LogFormat{LogFormat: &envoy_config_core_v3.SubstitutionFormatString{
				Format: &envoy_config_core_v3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &envoy_config_core_v3.DataSource{
					Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: logFormat(l.Fields)},
				}},
			}},
		})},
	}}
}

// logFormat is the Envoy format string of an access log line.
func logFormat(fields []ir.LogField) string {
	var b strings.Builder
	for _, f := range fields {
		if f.Value == "" {
			// A literal "%" must be doubled in a format string.
			b.WriteString(strings.ReplaceAll(f.Text, "%", "%%"))
			continue
		}
		b.WriteString(logOperator(f))
	}
	b.WriteString("\n")
	return b.String()
}

// The operators Envoy has no single command for are CEL expressions
// (Envoy's built-in %CEL(...)%), which print "-" when they fail and accept
// no string() conversion of numbers: seconds with milliseconds are
// printed digit by digit.
const (
	// whenUpstream prefixes an expression that only holds when an endpoint
	// answered; otherwise it prints "-", as nginx prints an unset $upstream_*.
	whenUpstream = `has(upstream.address) ? `
	millis       = `request.duration.getMilliseconds()`
)

// seconds prints the request's duration as nginx prints a time: seconds
// with three decimals (0.005). guard, when not empty, makes every part
// print nothing but a single "-" when it does not hold.
func seconds(guard string) string {
	parts := []string{millis + ` / 1000`, `"."`, millis + ` % 1000 / 100`, millis + ` % 100 / 10`, millis + ` % 10`}
	var b strings.Builder
	for i, p := range parts {
		switch {
		case guard == "":
			if p == `"."` {
				b.WriteString(".")
				continue
			}
			b.WriteString("%CEL(" + p + ")%")
		case i == 0:
			b.WriteString("%CEL(" + guard + p + ` : "-")%`)
		default:
			b.WriteString("%CEL(" + guard + p + ` : "")%`)
		}
	}
	return b.String()
}

// logOperator is the Envoy command operator of a field. docs/edge.md
// lists what differs from nginx's variable of the same meaning.
func logOperator(f ir.LogField) string {
	switch f.Value {
	case ir.LogClientAddress:
		return "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
	case ir.LogRemoteUser:
		// Envoy has no operator that decodes basic credentials.
		return "-"
	case ir.LogTimeLocal:
		return "%START_TIME(%d/%b/%Y:%H:%M:%S %z)%"
	case ir.LogTimeISO8601:
		return "%START_TIME(%Y-%m-%dT%H:%M:%S%Ez)%"
	case ir.LogMethod:
		return "%REQ(:METHOD)%"
	case ir.LogPath:
		// The path as the client sent it, before any rewrite.
		return "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"
	case ir.LogProtocol:
		return "%PROTOCOL%"
	case ir.LogHost:
		return "%REQ(:AUTHORITY)%"
	case ir.LogStatus:
		return "%RESPONSE_CODE%"
	case ir.LogBodyBytesSent:
		return "%BYTES_SENT%"
	case ir.LogRequestLength:
		return "%DOWNSTREAM_WIRE_BYTES_RECEIVED%"
	case ir.LogRequestTime:
		return seconds("")
	case ir.LogRequestHeader:
		return "%REQ(" + f.Header + ")%"
	case ir.LogResponseHeader:
		return "%RESP(" + f.Header + ")%"
	case ir.LogUpstreamName:
		return "%METADATA(ROUTE:" + metadataNamespace + ":" + upstreamNameKey + ")%"
	case ir.LogAlternativeUpstreamName:
		// Empty, not "-", when the cluster has none or nothing answered.
		// has() fails on a missing map key on the way, so each step is
		// tested: a cluster without metadata has no "rukou" entry.
		ns := `xds.cluster_metadata.filter_metadata`
		key := ns + `.` + metadataNamespace + `.` + alternativeNameKey
		return `%CEL(has(xds.cluster_name) && has(` + ns + `.` + metadataNamespace + `) && has(` + key + `) ? ` + key + ` : "")%`
	case ir.LogUpstreamAddress:
		return "%UPSTREAM_HOST%"
	case ir.LogUpstreamResponseLength:
		return `%CEL(` + whenUpstream + `response.size : "-")%`
	case ir.LogUpstreamResponseTime:
		return seconds(whenUpstream)
	case ir.LogUpstreamStatus:
		return `%CEL(` + whenUpstream + `response.code : "-")%`
	case ir.LogRequestID:
		return "%REQ(X-REQUEST-ID)%"
	}
	return streamLogOperator(f.Value)
}

// logMetadata is the metadata that names an upstream in the access log
// under key, or nil when name is empty.
func logMetadata(key, name string) *envoy_config_core_v3.Metadata {
	if name == "" {
		return nil
	}
	return &envoy_config_core_v3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		metadataNamespace: {Fields: map[string]*structpb.Value{key: structpb.NewStringValue(name)}},
	}}
}
