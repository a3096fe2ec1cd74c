package nginx

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

func TestParseLogFormat(t *testing.T) {
	v := func(value ir.LogValue) ir.LogField { return ir.LogField{Value: value} }
	text := func(s string) ir.LogField { return ir.LogField{Text: s} }
	tests := []struct {
		name    string
		format  string
		want    []ir.LogField
		wantErr string
	}{
		{
			name:   "default_format_field_for_field",
			format: DefaultLogFormat,
			want: []ir.LogField{
				v(ir.LogClientAddress), text(" - "), v(ir.LogRemoteUser), text(" ["), v(ir.LogTimeLocal), text(`] "`),
				v(ir.LogMethod), text(" "), v(ir.LogPath), text(" "), v(ir.LogProtocol), text(`" `),
				v(ir.LogStatus), text(" "), v(ir.LogBodyBytesSent), text(` "`),
				{Value: ir.LogRequestHeader, Header: "referer"}, text(`" "`), {Value: ir.LogRequestHeader, Header: "user-agent"}, text(`" `),
				v(ir.LogRequestLength), text(" "), v(ir.LogRequestTime), text(" ["), v(ir.LogUpstreamName), text("] ["),
				v(ir.LogAlternativeUpstreamName), text("] "), v(ir.LogUpstreamAddress), text(" "),
				v(ir.LogUpstreamResponseLength), text(" "), v(ir.LogUpstreamResponseTime), text(" "),
				v(ir.LogUpstreamStatus), text(" "), v(ir.LogRequestID),
			},
		},
		{name: "literal_text_only", format: "plain", want: []ir.LogField{text("plain")}},
		{name: "empty_format", format: "", want: nil},
		{name: "braces_delimit_a_name", format: "${status}ok", want: []ir.LogField{v(ir.LogStatus), text("ok")}},
		{name: "name_ends_at_non_name_byte", format: "$status-$host", want: []ir.LogField{v(ir.LogStatus), text("-"), v(ir.LogHost)}},
		{name: "names_ignore_case", format: "$Request_Method", want: []ir.LogField{v(ir.LogMethod)}},
		{name: "request_header_underscores_are_dashes", format: "$http_x_forwarded_for", want: []ir.LogField{{Value: ir.LogRequestHeader, Header: "x-forwarded-for"}}},
		{name: "response_header", format: "$sent_http_content_type", want: []ir.LogField{{Value: ir.LogResponseHeader, Header: "content-type"}}},
		{name: "request_uri_and_protocol", format: "$request_uri $server_protocol", want: []ir.LogField{v(ir.LogPath), text(" "), v(ir.LogProtocol)}},
		{name: "time_iso8601", format: "$time_iso8601", want: []ir.LogField{v(ir.LogTimeISO8601)}},
		{name: "unknown_variables_are_reported_not_pasted", format: "$status $geoip_country_code $bytes_sent", wantErr: "unknown variables $geoip_country_code, $bytes_sent"},
		{name: "bare_http_prefix_is_unknown", format: "$http_", wantErr: "unknown variables $http_"},
		{name: "lone_dollar_is_reported", format: "cost: $ 5", wantErr: "starts no variable name"},
		{name: "unclosed_brace_is_reported", format: "${status", wantErr: "starts no variable name"},
		{name: "empty_braces_are_reported", format: "${}", wantErr: "starts no variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLogFormat(tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLogFormat(%q) error = %v, want one containing %q", tt.format, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLogFormat(%q): %v", tt.format, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLogFormat(%q)\n got %+v\nwant %+v", tt.format, got, tt.want)
			}
		})
	}
}

func TestUpstreamName(t *testing.T) {
	if got := UpstreamName("default", "web", "80"); got != "default-web-80" {
		t.Errorf("UpstreamName = %q, want default-web-80", got)
	}
	if got := UpstreamName("shop", "api", "http"); got != "shop-api-http" {
		t.Errorf("UpstreamName = %q, want shop-api-http", got)
	}
}
