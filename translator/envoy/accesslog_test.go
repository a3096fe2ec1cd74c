package envoy

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

func TestLogOperator(t *testing.T) {
	alt := "xds.cluster_metadata.filter_metadata.rukou.alternative_upstream_name"
	tests := []struct {
		name  string
		field ir.LogField
		want  string
	}{
		{"client_address_is_the_peer_without_port", ir.LogField{Value: ir.LogClientAddress}, "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"},
		{"remote_user_has_no_operator", ir.LogField{Value: ir.LogRemoteUser}, "-"},
		{"time_local_in_common_log_form", ir.LogField{Value: ir.LogTimeLocal}, "%START_TIME(%d/%b/%Y:%H:%M:%S %z)%"},
		{"time_iso8601_with_colon_in_offset", ir.LogField{Value: ir.LogTimeISO8601}, "%START_TIME(%Y-%m-%dT%H:%M:%S%Ez)%"},
		{"method", ir.LogField{Value: ir.LogMethod}, "%REQ(:METHOD)%"},
		{"path_before_rewrite", ir.LogField{Value: ir.LogPath}, "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
		{"protocol", ir.LogField{Value: ir.LogProtocol}, "%PROTOCOL%"},
		{"host", ir.LogField{Value: ir.LogHost}, "%REQ(:AUTHORITY)%"},
		{"status", ir.LogField{Value: ir.LogStatus}, "%RESPONSE_CODE%"},
		{"body_bytes_sent", ir.LogField{Value: ir.LogBodyBytesSent}, "%BYTES_SENT%"},
		{"request_length_is_wire_bytes", ir.LogField{Value: ir.LogRequestLength}, "%DOWNSTREAM_WIRE_BYTES_RECEIVED%"},
		{"request_time_in_seconds_with_three_decimals", ir.LogField{Value: ir.LogRequestTime}, "%CEL(" + seconds + ")%"},
		{"request_header", ir.LogField{Value: ir.LogRequestHeader, Header: "user-agent"}, "%REQ(user-agent)%"},
		{"response_header", ir.LogField{Value: ir.LogResponseHeader, Header: "content-type"}, "%RESP(content-type)%"},
		{"upstream_name_is_the_route_name", ir.LogField{Value: ir.LogUpstreamName}, "%ROUTE_NAME%"},
		{"alternative_name_from_cluster_metadata_else_empty", ir.LogField{Value: ir.LogAlternativeUpstreamName},
			`%CEL(has(xds.cluster_name) && has(xds.cluster_metadata.filter_metadata.rukou) && has(` + alt + `) ? ` + alt + ` : "")%`},
		{"upstream_address", ir.LogField{Value: ir.LogUpstreamAddress}, "%UPSTREAM_HOST%"},
		{"upstream_response_length_only_when_upstream", ir.LogField{Value: ir.LogUpstreamResponseLength}, `%CEL(has(upstream.address) ? string(response.size) : "-")%`},
		{"upstream_response_time_only_when_upstream", ir.LogField{Value: ir.LogUpstreamResponseTime}, `%CEL(has(upstream.address) ? ` + seconds + ` : "-")%`},
		{"upstream_status_only_when_upstream", ir.LogField{Value: ir.LogUpstreamStatus}, `%CEL(has(upstream.address) ? string(response.code) : "-")%`},
		{"request_id", ir.LogField{Value: ir.LogRequestID}, "%REQ(X-REQUEST-ID)%"},
		{"unknown_value_prints_dash", ir.LogField{Value: "no-such-value"}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logLine([]ir.LogField{tt.field}); got != tt.want {
				t.Errorf("logLine(%+v)\n got %s\nwant %s", tt.field, got, tt.want)
			}
		})
	}
}

// TestLogLineJoinsCELFields: the CEL fields with only text between them
// are one operator, and the fields that need an upstream test it once;
// the fields whose text could end the operator stay apart.
func TestLogLineJoinsCELFields(t *testing.T) {
	f := func(v ir.LogValue) ir.LogField { return ir.LogField{Value: v} }
	txt := func(s string) ir.LogField { return ir.LogField{Text: s} }
	code := `(has(response.code) ? string(response.code) : "-")`
	query := `(has(request.query) ? request.query : "-")`
	tests := []struct {
		name   string
		fields []ir.LogField
		want   string
	}{
		{
			"upstream_fields_share_one_guard",
			[]ir.LogField{f(ir.LogUpstreamResponseLength), txt(" "), f(ir.LogUpstreamResponseTime), txt(" "), f(ir.LogUpstreamStatus)},
			`%CEL(has(upstream.address) ? string(response.size) + " " + ` + seconds + ` + " " + ` + code + ` : "- - -")%`,
		},
		{
			"guards_differ",
			[]ir.LogField{f(ir.LogRequestTime), txt(" <"), f(ir.LogUpstreamStatus), txt("> "), f(ir.LogHTTP2)},
			`%CEL(` + seconds + ` + " <" + (has(upstream.address) ? ` + code + ` : "-") + "> " + ` +
				`(has(request.protocol) ? (request.protocol == "HTTP/2" ? (has(connection.tls_version) ? "h2" : "h2c") : "") : "-"))%`,
		},
		{
			"an_operator_ends_the_run",
			[]ir.LogField{f(ir.LogQuery), txt(" "), f(ir.LogStatus), txt(" "), f(ir.LogQuery)},
			`%CEL(request.query)% %RESPONSE_CODE% %CEL(request.query)%`,
		},
		{
			"text_that_could_end_the_operator_ends_the_run",
			[]ir.LogField{f(ir.LogQuery), txt(") "), f(ir.LogQuery), txt(" 5% "), f(ir.LogQuery)},
			`%CEL(request.query)%) %CEL(request.query)% 5%% %CEL(request.query)%`,
		},
		{
			// Alone, a field that fails prints "-"; joined, it must not
			// take the others down with it.
			"a_field_that_can_fail_prints_dash_in_a_run",
			[]ir.LogField{f(ir.LogQuery), txt(" "), f(ir.LogVirtualHost)},
			`%CEL(` + query + ` + " " + (has(xds.virtual_host_name) ? xds.virtual_host_name : "-"))%`,
		},
		{
			"quotes_in_text",
			[]ir.LogField{f(ir.LogQuery), txt(` "\\ `), f(ir.LogQuery)},
			`%CEL(` + query + ` + " \"\\\\ " + ` + query + `)%`,
		},
		{
			"at_most_four_fields_in_one_expression",
			[]ir.LogField{f(ir.LogQuery), txt(" "), f(ir.LogQuery), txt(" "), f(ir.LogQuery), txt(" "), f(ir.LogQuery), txt(" "), f(ir.LogQuery)},
			`%CEL(` + query + ` + " " + ` + query + ` + " " + ` + query + ` + " " + ` + query + `)% %CEL(request.query)%`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logLine(tt.fields); got != tt.want {
				t.Errorf("logLine\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestHeaderFieldsAreCELAlone: in a header's value, which Envoy formats
// without the CEL formatter's options, each CEL field is an operator of
// its own.
func TestHeaderFieldsAreCELAlone(t *testing.T) {
	got := logFormat([]ir.LogField{{Value: ir.LogQuery}, {Text: " "}, {Value: ir.LogHTTP2}})
	if want := `%CEL(request.query)% %CEL(request.protocol == "HTTP/2" ? (has(connection.tls_version) ? "h2" : "h2c") : "")%`; got != want {
		t.Errorf("logFormat = %q, want %q", got, want)
	}
}

func TestLogFormatEscapesPercentInText(t *testing.T) {
	for _, format := range []func([]ir.LogField) string{logFormat, logLine} {
		got := format([]ir.LogField{{Text: "100% "}, {Value: ir.LogStatus}})
		if want := "100%% %RESPONSE_CODE%"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
