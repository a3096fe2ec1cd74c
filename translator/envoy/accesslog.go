package envoy

import (
	"regexp"
	"strconv"
	"strings"

	envoy_config_accesslog_v3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_access_loggers_filters_cel_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	envoy_extensions_access_loggers_stream_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/rukou/rukou/translator/ir"
)

// The metadata rukou's values are under, and the key of a cluster's
// AlternativeName, which the access log prints (a route's UpstreamName is
// the route's name).
const (
	metadataNamespace  = "rukou"
	alternativeNameKey = "alternative_upstream_name"
)

// httpAccessLogs renders an HTTP listener's access log, which leaves out
// the requests of the routes and virtual hosts that say so.
func httpAccessLogs(l *ir.AccessLog) []*envoy_config_accesslog_v3.AccessLog {
	out := accessLogs(l)
	for _, a := range out {
		a.Filter = logFilter(l.Unrouted, l.Skip)
	}
	return out
}

// accessLogs renders a listener's access log: one line per request (or
// connection), on Envoy's standard output (or error), as text or as a
// JSON object.
func accessLogs(l *ir.AccessLog) []*envoy_config_accesslog_v3.AccessLog {
	if l == nil {
		return nil
	}
	format := &envoy_config_core_v3.SubstitutionFormatString{}
	if l.JSON != nil {
		// Envoy escapes the values of a JSON format, so that a quote in a
		// header keeps the line valid JSON.
		format.Format = &envoy_config_core_v3.SubstitutionFormatString_JsonFormat{JsonFormat: logObject(l.JSON)}
	} else {
		format.Format = &envoy_config_core_v3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &envoy_config_core_v3.DataSource{
			Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: logFormat(l.Fields) + "\n"},
		}}
	}
	out := &envoy_config_accesslog_v3.AccessLog{}
	if l.Stderr {
		out.Name = "envoy.access_loggers.stderr"
		out.ConfigType = &envoy_config_accesslog_v3.AccessLog_TypedConfig{TypedConfig: mustAny(&envoy_extensions_access_loggers_stream_v3.StderrAccessLog{
			AccessLogFormat: &envoy_extensions_access_loggers_stream_v3.StderrAccessLog_LogFormat{LogFormat: format},
		})}
	} else {
		out.Name = "envoy.access_loggers.stdout"
		out.ConfigType = &envoy_config_accesslog_v3.AccessLog_TypedConfig{TypedConfig: mustAny(&envoy_extensions_access_loggers_stream_v3.StdoutAccessLog{
			AccessLogFormat: &envoy_extensions_access_loggers_stream_v3.StdoutAccessLog_LogFormat{LogFormat: format},
		})}
	}
	return []*envoy_config_accesslog_v3.AccessLog{out}
}

// noAccessLogKey is the metadata flag of the routes and virtual hosts
// whose requests the access log leaves out.
const noAccessLogKey = "no_access_log"

// logFilter is the CEL expression that decides whether a request is
// logged: not when skip matches its URI; else a route that answered
// decides by its metadata; a request no route answered, by its virtual
// host's; one that no virtual host took, by unrouted. A route or virtual
// host without metadata has no "rukou" entry, hence the "in" tests (CEL's
// has() fails on a missing map key).
func logFilter(unrouted bool, skip []ir.StringMatch) *envoy_config_accesslog_v3.AccessLogFilter {
	flagged := func(kind string) string {
		md := "xds." + kind + "_metadata.filter_metadata"
		return `!('` + metadataNamespace + `' in ` + md + ` && '` + noAccessLogKey + `' in ` + md + `.` + metadataNamespace + `)`
	}
	expr := `has(xds.route_name) ? ` + flagged("route") + ` : has(xds.virtual_host_name) ? ` + flagged("virtual_host") + ` : ` + strconv.FormatBool(unrouted)
	if len(skip) > 0 {
		expr = `!(` + skipped(skip) + `) && (` + expr + `)`
	}
	return &envoy_config_accesslog_v3.AccessLogFilter{FilterSpecifier: &envoy_config_accesslog_v3.AccessLogFilter_ExtensionFilter{
		ExtensionFilter: &envoy_config_accesslog_v3.ExtensionFilter{
			Name:       "envoy.access_loggers.extension_filters.cel",
			ConfigType: &envoy_config_accesslog_v3.ExtensionFilter_TypedConfig{TypedConfig: mustAny(&envoy_extensions_access_loggers_filters_cel_v3.ExpressionFilter{Expression: expr})},
		},
	}}
}

// skipped is the CEL expression that holds when one of skip matches the
// request's URI as the client sent it: the path before any rewrite, which
// Envoy keeps in x-envoy-original-path, with the query. Each match is an
// RE2 expression, which CEL's matches() searches for, hence the anchors.
func skipped(skip []ir.StringMatch) string {
	const uri = `('x-envoy-original-path' in request.headers ? request.headers['x-envoy-original-path'] : request.path)`
	parts := make([]string, 0, len(skip))
	for _, m := range skip {
		re := m.Regex
		if re == "" {
			re = regexp.QuoteMeta(m.Exact)
			if m.IgnoreCase {
				re = `(?i)` + re
			}
		}
		parts = append(parts, uri+`.matches(`+strconv.Quote(`^(?:`+re+`)$`)+`)`)
	}
	return strings.Join(parts, " || ")
}

// logObject renders the members of a JSON line. A member that is one
// operator alone keeps its value's type in Envoy's output.
func logObject(members []ir.LogMember) *structpb.Struct {
	out := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(members))}
	for _, m := range members {
		if m.Object != nil {
			out.Fields[m.Key] = structpb.NewStructValue(logObject(m.Object))
			continue
		}
		out.Fields[m.Key] = structpb.NewStringValue(logFormat(m.Fields))
	}
	return out
}

// logFormat is the Envoy format string of access-log fields.
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
		// Each route is named after its upstream.
		return "%ROUTE_NAME%"
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
	return moreLogOperator(f)
}

// moreLogOperator is logOperator for the values that the default format
// does not print.
func moreLogOperator(f ir.LogField) string {
	switch f.Value {
	case ir.LogStartSeconds:
		return "%START_TIME(%s.%3f)%"
	case ir.LogPathOnly:
		return "%PATH(NQ)%"
	case ir.LogQuery:
		return "%CEL(request.query)%"
	case ir.LogScheme:
		return "%REQ(:SCHEME)%"
	case ir.LogWireBytesSent:
		return "%DOWNSTREAM_WIRE_BYTES_SENT%"
	case ir.LogRouteLabel:
		return "%METADATA(ROUTE:" + metadataNamespace + ":" + f.Label + ")%"
	case ir.LogVirtualHost:
		return "%CEL(xds.virtual_host_name)%"
	case ir.LogServerPort:
		return "%DOWNSTREAM_LOCAL_PORT%"
	case ir.LogClientPort:
		return "%DOWNSTREAM_REMOTE_PORT%"
	case ir.LogTLSProtocol:
		return "%DOWNSTREAM_TLS_VERSION%"
	case ir.LogTLSCipher:
		return "%DOWNSTREAM_TLS_CIPHER%"
	case ir.LogHTTP2:
		return `%CEL(request.protocol == "HTTP/2" ? (has(connection.tls_version) ? "h2" : "h2c") : "")%`
	case ir.LogHostname:
		return "%HOSTNAME%"
	}
	return streamLogOperator(f.Value)
}

// logMetadata is the metadata that the access log reads: the values of
// the keys in kv (key, value, key, value...), an empty one left out, and
// the flag that leaves requests out of the log when noLog is set; nil
// when there is nothing to say, as for most clusters.
func logMetadata(noLog bool, kv ...string) *envoy_config_core_v3.Metadata {
	var fields map[string]*structpb.Value
	set := func(k string, v *structpb.Value) {
		if fields == nil {
			fields = make(map[string]*structpb.Value, len(kv)/2+1)
		}
		fields[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			set(kv[i], structpb.NewStringValue(kv[i+1]))
		}
	}
	if noLog {
		set(noAccessLogKey, structpb.NewBoolValue(true))
	}
	if fields == nil {
		return nil
	}
	return &envoy_config_core_v3.Metadata{FilterMetadata: map[string]*structpb.Struct{metadataNamespace: {Fields: fields}}}
}
