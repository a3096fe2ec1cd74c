package envoy

import (
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

func TestLogOperator(t *testing.T) {
	alt := "xds.cluster_metadata.filter_metadata.rukou.alternative_upstream_name"
	secs := "%CEL(request.duration.getMilliseconds() / 1000)%.%CEL(request.duration.getMilliseconds() % 1000 / 100)%" +
		"%CEL(request.duration.getMilliseconds() % 100 / 10)%%CEL(request.duration.getMilliseconds() % 10)%"
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
		{"request_time_in_seconds_digit_by_digit", ir.LogField{Value: ir.LogRequestTime}, secs},
		{"request_header", ir.LogField{Value: ir.LogRequestHeader, Header: "user-agent"}, "%REQ(user-agent)%"},
		{"response_header", ir.LogField{Value: ir.LogResponseHeader, Header: "content-type"}, "%RESP(content-type)%"},
		{"upstream_name_is_the_route_name", ir.LogField{Value: ir.LogUpstreamName}, "%ROUTE_NAME%"},
		{"alternative_name_from_cluster_metadata_else_empty", ir.LogField{Value: ir.LogAlternativeUpstreamName},
			`%CEL(has(xds.cluster_name) && has(xds.cluster_metadata.filter_metadata.rukou) && has(` + alt + `) ? ` + alt + ` : "")%`},
		{"upstream_address", ir.LogField{Value: ir.LogUpstreamAddress}, "%UPSTREAM_HOST%"},
		{"upstream_response_length_only_when_upstream", ir.LogField{Value: ir.LogUpstreamResponseLength}, `%CEL(has(upstream.address) ? response.size : "-")%`},
		{"upstream_status_only_when_upstream", ir.LogField{Value: ir.LogUpstreamStatus}, `%CEL(has(upstream.address) ? response.code : "-")%`},
		{"request_id", ir.LogField{Value: ir.LogRequestID}, "%REQ(X-REQUEST-ID)%"},
		{"unknown_value_prints_dash", ir.LogField{Value: "no-such-value"}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logOperator(tt.field); got != tt.want {
				t.Errorf("logOperator(%+v)\n got %s\nwant %s", tt.field, got, tt.want)
			}
		})
	}
}

func TestUpstreamResponseTimeIsDashWithoutUpstream(t *testing.T) {
	got := logOperator(ir.LogField{Value: ir.LogUpstreamResponseTime})
	// The first part prints "-" without an upstream, the others nothing.
	parts := strings.Split(got, "%CEL(")
	if len(parts) != 6 || !strings.HasSuffix(parts[1], `: "-")%`) {
		t.Fatalf("upstream response time %s: want five guarded parts, the first printing -", got)
	}
	for _, p := range parts[2:] {
		if !strings.HasPrefix(p, "has(upstream.address) ? ") || !strings.HasSuffix(p, `: "")%`) {
			t.Errorf("part %q is not guarded to print nothing without an upstream", p)
		}
	}
}

func TestLogFormatEscapesPercentInText(t *testing.T) {
	got := logFormat([]ir.LogField{{Text: "100% "}, {Value: ir.LogStatus}})
	if want := "100%% %RESPONSE_CODE%"; got != want {
		t.Errorf("logFormat = %q, want %q", got, want)
	}
}
