package envoy

import (
	"regexp"
	"strconv"
	"strings"

	envoy_config_accesslog_v3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_access_loggers_filters_cel_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	envoy_extensions_access_loggers_stream_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	envoy_extensions_filters_http_set_metadata_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_metadata/v3"
	envoy_extensions_formatter_cel_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/formatter/cel/v3"
	envoy_type_matcher_v3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

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
			Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: logLine(l.Fields) + "\n"},
		}}
	}
	format.Formatters = celLogFormatter()
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

// unloggedFilter marks the requests of the routes that are left out of
// the access log: disabled on the listener, enabled by those routes'
// per-filter configuration, it sets accessLogKey to false in the
// request's dynamic metadata, which the log's filter reads natively. It is
// the first filter, so that it marks also what a later filter answers.
const (
	unloggedFilter = "rukou.filters.http.unlogged"
	accessLogKey   = "access_log"
)

// unloggedMark is unloggedFilter's configuration, on the listener and on
// each route that enables it.
var unloggedMark = mustAny(&envoy_extensions_filters_http_set_metadata_v3.Config{
	Metadata: []*envoy_extensions_filters_http_set_metadata_v3.Metadata{{
		MetadataNamespace: metadataNamespace,
		Value:             &structpb.Struct{Fields: map[string]*structpb.Value{accessLogKey: structpb.NewBoolValue(false)}},
	}},
})

// logFilter decides whether a request is logged: not when skip matches
// its URI; else a route that answered decides by its flag; a request no
// route answered, by its virtual host's flag; one that no virtual host
// took, by unrouted.
//
// Without skip, the common request, answered below 400 through a route
// and not gRPC, is decided natively by unloggedFilter's mark; the rest
// (errors, gRPC, whose replies without a route have status 200, requests
// without an answer, and 307) by the CEL expression of logRule. A CEL
// filter on every request cost about 8,000 instructions
// (docs/benchmarks.md). A request no route answered has no mark, since
// unloggedFilter runs only on a route's say, and Envoy answers it 404, or
// before any route is looked for 400 and above, or 307 to a path with an
// escaped slash, so it always meets the expression. (With skip, the
// routes' marks go unread.)
func logFilter(unrouted bool, skip []ir.StringMatch) *envoy_config_accesslog_v3.AccessLogFilter {
	if len(skip) > 0 {
		return celFilter(`!(` + skipped(skip) + `) && (` + logRule(unrouted) + `)`)
	}
	return allOf(unmarked, anyOf(routine, celFilter(logRule(unrouted))))
}

// unmarked holds for the requests without unloggedFilter's mark: absent,
// the mark says "log"; set, it says "do not".
var unmarked = &envoy_config_accesslog_v3.AccessLogFilter{FilterSpecifier: &envoy_config_accesslog_v3.AccessLogFilter_MetadataFilter{
	MetadataFilter: &envoy_config_accesslog_v3.MetadataFilter{
		Matcher: &envoy_type_matcher_v3.MetadataMatcher{
			Filter: metadataNamespace,
			Path:   []*envoy_type_matcher_v3.MetadataMatcher_PathSegment{{Segment: &envoy_type_matcher_v3.MetadataMatcher_PathSegment_Key{Key: accessLogKey}}},
			Value:  &envoy_type_matcher_v3.ValueMatcher{MatchPattern: &envoy_type_matcher_v3.ValueMatcher_BoolMatch{BoolMatch: true}},
		},
		MatchIfKeyNotFound: wrapperspb.Bool(true),
	},
}}

// routine holds for the requests the mark decides alone: answered below
// 400, not gRPC, and not 307, which the connection manager sends itself,
// before any filter or route, for a path with an escaped slash
// (listener.go).
var routine = allOf(anyOf(statusBetween(100, 306), statusBetween(308, 399)), notGRPCRequest)

// logRule is the CEL expression of logFilter without skip. A route or
// virtual host without metadata has no "rukou" entry, hence the "in"
// tests (CEL's has() fails on a missing map key).
//
// A request answered with an error page is two streams in Envoy: the
// first ends when the custom response filter redirects it inside Envoy
// (code details "internal_redirect"), the second serves the page. Envoy
// logs both; nginx writes one line, with the page's size, which is the
// second's. The first has an error status (custom-http-errors are 400 to
// 599), so it always meets this expression. A request may end without code
// details (CEL's has() keeps the expression from failing, which would
// leave the request out).
func logRule(unrouted bool) string {
	flagged := func(kind string) string {
		md := "xds." + kind + "_metadata.filter_metadata"
		return `!('` + metadataNamespace + `' in ` + md + ` && '` + noAccessLogKey + `' in ` + md + `.` + metadataNamespace + `)`
	}
	return `!(has(response.code_details) && response.code_details == 'internal_redirect') && (has(xds.route_name) ? ` + flagged("route") + ` : has(xds.virtual_host_name) ? ` + flagged("virtual_host") + ` : ` + strconv.FormatBool(unrouted) + `)`
}

// celFilter is an access log filter of a CEL expression.
func celFilter(expr string) *envoy_config_accesslog_v3.AccessLogFilter {
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
		out.Fields[m.Key] = structpb.NewStringValue(logLine(m.Fields))
	}
	return out
}

// formatLiteral is text as an Envoy format string prints it: "%" is the
// format's escape, so a literal one is doubled.
func formatLiteral(text string) string { return strings.ReplaceAll(text, "%", "%%") }

// logFormat is the Envoy format string of fields printed one by one, as
// a header's value is: a CEL field is its own %CEL(...)% operator, for
// Envoy's built-in CEL formatter, which converts no numbers to strings.
// Only the fields known when a request is forwarded may be in a header
// (nginx.headerValues), and their expressions need no conversion.
func logFormat(fields []ir.LogField) string {
	var b strings.Builder
	for _, f := range fields {
		if f.Value == "" {
			b.WriteString(formatLiteral(f.Text))
			continue
		}
		if p := partOf(f); p.cel != nil {
			b.WriteString("%CEL(" + p.cel.String() + ")%")
		} else {
			b.WriteString(p.op)
		}
	}
	return b.String()
}

// logLine is the Envoy format string of an access log's fields. Envoy
// evaluates each %CEL(...)% operator on its own, and most of what one
// costs is its setup and the attributes it reads, not its arithmetic, so
// the CEL fields that follow one another with only text between them
// are printed by one expression, and the fields of a run that hold under
// the same condition (an endpoint answered) test it once. The result is
// the same line; it needs the CEL formatter's string conversion, string
// concatenation and string functions (celLogFormatter).
func logLine(fields []ir.LogField) string {
	var b strings.Builder
	for i := 0; i < len(fields); {
		if fields[i].Value == "" {
			b.WriteString(formatLiteral(fields[i].Text))
			i++
			continue
		}
		p := partOf(fields[i])
		i++
		if p.cel == nil {
			b.WriteString(p.op)
			continue
		}
		run := []celRunItem{{cel: p.cel}}
		for len(run) < 2*maxRunFields-1 && i+1 < len(fields) && fields[i].Value == "" && joinable(fields[i].Text) && fields[i+1].Value != "" {
			next := partOf(fields[i+1])
			if next.cel == nil {
				break
			}
			run = append(run, celRunItem{text: fields[i].Text}, celRunItem{cel: next.cel})
			i += 2
		}
		b.WriteString("%CEL(" + joinCEL(run) + ")%")
	}
	return b.String()
}

// maxRunFields is the most fields one expression prints. Envoy's CEL
// parser refuses an expression nested more than 32 deep, and a chain of
// "+" nests one level per term: eight times $request_time in a row (31
// terms) is refused, where four, the most a run holds, are 15.
const maxRunFields = 4

// joinable says whether literal text can sit inside a %CEL(...)%
// operator as a CEL string: not when it could end the operator early.
func joinable(text string) bool {
	return !strings.ContainsAny(text, "%)")
}

// celRunItem is a CEL field of a run, or the text between two.
type celRunItem struct {
	cel  *celField
	text string
}

// joinCEL is the one CEL expression of a run of fields and the text
// between them: the fields under the same guard, with their text, are
// one conditional whose other branch is the constant they print then.
func joinCEL(run []celRunItem) string {
	if len(run) == 1 {
		return run[0].cel.String()
	}
	var terms []string
	var single string
	for i := 0; i < len(run); {
		if i > 0 {
			// The text between this group and the one before.
			terms = append(terms, strconv.Quote(run[i-1].text))
		}
		group := celField{guard: run[i].cel.guard}
		var then []string
		for ; i < len(run) && run[i].cel.guard == group.guard; i += 2 {
			if len(then) > 0 {
				then = append(then, strconv.Quote(run[i-1].text))
				group.otherwise += run[i-1].text
			}
			then = append(then, parenthesised(run[i].cel.joined()))
			group.otherwise += run[i].cel.otherwise
		}
		group.expr = strings.Join(then, " + ")
		single = group.String()
		if group.guard == "" {
			terms = append(terms, then...)
		} else {
			terms = append(terms, "("+single+")")
		}
	}
	if len(terms) == 1 {
		return single
	}
	return strings.Join(terms, " + ")
}

// parenthesised wraps an expression that holds a conditional, which
// binds less tightly than the "+" it is joined with.
func parenthesised(expr string) string {
	if strings.Contains(expr, "?") {
		return "(" + expr + ")"
	}
	return expr
}

// celLogFormatter is the configuration of Envoy's CEL formatter that
// logLine's expressions need: string() of numbers, "+" on strings, and
// replace().
func celLogFormatter() []*envoy_config_core_v3.TypedExtensionConfig {
	return []*envoy_config_core_v3.TypedExtensionConfig{{
		Name: "envoy.formatter.cel",
		TypedConfig: mustAny(&envoy_extensions_formatter_cel_v3.Cel{CelConfig: &envoy_config_core_v3.CelExpressionConfig{
			EnableStringConversion: true,
			EnableStringConcat:     true,
			EnableStringFunctions:  true,
		}}),
	}}
}

// celField is a field that Envoy has no command operator for, as a CEL
// expression of type string: expr when guard holds (always, when guard is
// empty), else the text otherwise.
type celField struct {
	guard, expr, otherwise string
	// defined, when not empty, is what must hold for expr not to fail.
	// Envoy prints a failed %CEL(...)% as "-" (a JSON null); joined with
	// others, the field prints "-" unless defined holds, rather than take
	// their values down with it.
	defined string
}

// joined is the field's value as a term of a longer expression: one that
// prints "-" where the field alone would fail.
func (c *celField) joined() string {
	if c.defined == "" {
		return c.expr
	}
	return c.defined + " ? " + parenthesised(c.expr) + ` : "-"`
}

// String is the field's expression on its own.
func (c *celField) String() string {
	if c.guard == "" {
		return c.expr
	}
	return c.guard + " ? " + c.expr + " : " + strconv.Quote(c.otherwise)
}

// whenUpstream guards the fields that only hold when an endpoint
// answered; otherwise they print "-", as nginx prints an unset
// $upstream_*.
const whenUpstream = `has(upstream.address)`

// seconds prints the request's duration as nginx prints a time: seconds
// with three decimals (1.005). A duration's getMilliseconds() is the
// milliseconds of its last second (0 to 999), zero-padded here by
// printing 1000 more and dropping the leading "1".
const seconds = `string(request.duration.getSeconds()) + "." + ` +
	`string(request.duration.getMilliseconds() + 1000).replace("1", "", 1)`

// logPart is how a field with a value is printed: an Envoy command
// operator, or a CEL field.
type logPart struct {
	op  string
	cel *celField
}

// partOf is the Envoy command operator or CEL field of a field's value.
// docs/edge.md lists what differs from nginx's variable of the same
// meaning.
func partOf(f ir.LogField) logPart {
	switch f.Value {
	case ir.LogRequestTime:
		return logPart{cel: &celField{expr: seconds}}
	case ir.LogAlternativeUpstreamName:
		// Empty, not "-", when the cluster has none or nothing answered.
		// has() fails on a missing map key on the way, so each step is
		// tested: a cluster without metadata has no "rukou" entry.
		ns := `xds.cluster_metadata.filter_metadata`
		key := ns + `.` + metadataNamespace + `.` + alternativeNameKey
		return logPart{cel: &celField{guard: `has(xds.cluster_name) && has(` + ns + `.` + metadataNamespace + `) && has(` + key + `)`, expr: key}}
	case ir.LogUpstreamResponseLength:
		return logPart{cel: &celField{guard: whenUpstream, expr: `string(response.size)`, otherwise: "-"}}
	case ir.LogUpstreamResponseTime:
		return logPart{cel: &celField{guard: whenUpstream, expr: seconds, otherwise: "-"}}
	case ir.LogUpstreamStatus:
		// A client gone before the answer leaves no code.
		return logPart{cel: &celField{guard: whenUpstream, expr: `string(response.code)`, otherwise: "-", defined: `has(response.code)`}}
	case ir.LogQuery:
		// A request the codec refused has no headers, hence no query.
		return logPart{cel: &celField{expr: `request.query`, defined: `has(request.query)`}}
	case ir.LogVirtualHost:
		return logPart{cel: &celField{expr: `xds.virtual_host_name`, defined: `has(xds.virtual_host_name)`}}
	case ir.LogHTTP2:
		return logPart{cel: &celField{expr: `request.protocol == "HTTP/2" ? (has(connection.tls_version) ? "h2" : "h2c") : ""`, defined: `has(request.protocol)`}}
	}
	if c := streamLogCEL(f.Value); c != nil {
		return logPart{cel: c}
	}
	return logPart{op: logOperator(f)}
}

// logOperator is the Envoy command operator of a field that has one.
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
	case ir.LogRequestHeader:
		return "%REQ(" + f.Header + ")%"
	case ir.LogResponseHeader:
		return "%RESP(" + f.Header + ")%"
	case ir.LogUpstreamName:
		// Each route is named after its upstream.
		return "%ROUTE_NAME%"
	case ir.LogUpstreamAddress:
		return "%UPSTREAM_HOST%"
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
	case ir.LogScheme:
		// nginx's $scheme is the connection's: not the :scheme of the
		// request, which an HTTP/2 client without TLS may say is https.
		return "%FILTER_STATE(" + schemeKey + ":PLAIN)%"
	case ir.LogWireBytesSent:
		return "%DOWNSTREAM_WIRE_BYTES_SENT%"
	case ir.LogRouteLabel:
		return "%METADATA(ROUTE:" + metadataNamespace + ":" + f.Label + ")%"
	case ir.LogServerPort:
		return "%DOWNSTREAM_LOCAL_PORT%"
	case ir.LogClientPort:
		return "%DOWNSTREAM_REMOTE_PORT%"
	case ir.LogTLSProtocol:
		return "%DOWNSTREAM_TLS_VERSION%"
	case ir.LogTLSCipher:
		return "%DOWNSTREAM_TLS_CIPHER%"
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
