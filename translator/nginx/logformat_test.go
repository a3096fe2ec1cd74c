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
		{name: "ingress_variables_are_route_labels", format: "$namespace/$ingress_name", want: []ir.LogField{
			{Value: ir.LogRouteLabel, Label: LabelNamespace}, text("/"), {Value: ir.LogRouteLabel, Label: LabelIngressName}}},
		{name: "more_request_values", format: "$msec $uri $args $scheme $bytes_sent $server_port $remote_port $http2", want: []ir.LogField{
			v(ir.LogStartSeconds), text(" "), v(ir.LogPathOnly), text(" "), v(ir.LogQuery), text(" "), v(ir.LogScheme), text(" "),
			v(ir.LogWireBytesSent), text(" "), v(ir.LogServerPort), text(" "), v(ir.LogClientPort), text(" "), v(ir.LogHTTP2)}},
		{name: "unknown_variables_are_reported_not_pasted", format: "$status $geoip_country_code $upstream_connect_time", wantErr: "cannot print $geoip_country_code, $upstream_connect_time"},
		{name: "bare_http_prefix_is_unknown", format: "$http_", wantErr: "cannot print $http_"},
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

func TestParseLogJSON(t *testing.T) {
	status := ir.LogField{Value: ir.LogStatus}
	agent := ir.LogField{Value: ir.LogRequestHeader, Header: "user-agent"}
	tests := []struct {
		name    string
		format  string
		want    []ir.LogMember
		wantErr string
	}{
		{
			name:   "quoted_and_bare_variables_sorted_by_key",
			format: `{"status": $status, "agent": "ua=$http_user_agent!", "n": 1}`,
			want: []ir.LogMember{
				{Key: "agent", Fields: []ir.LogField{{Text: "ua="}, agent, {Text: "!"}}},
				{Key: "n", Fields: []ir.LogField{{Text: "1"}}},
				{Key: "status", Fields: []ir.LogField{status}},
			},
		},
		{
			name:   "nested_object_and_escaped_quote_in_text",
			format: `{"r": {"s": "$status"}, "q": "a \"$status\""}`,
			want: []ir.LogMember{
				{Key: "q", Fields: []ir.LogField{{Text: `a "`}, status, {Text: `"`}}},
				{Key: "r", Object: []ir.LogMember{{Key: "s", Fields: []ir.LogField{status}}}},
			},
		},
		{name: "text_format_is_not_json", format: `$status "$http_user_agent"`, wantErr: "not a JSON object"},
		{name: "arrays_are_refused", format: `{"a": ["$status"]}`, wantErr: "array"},
		{name: "unknown_variable", format: `{"a": "$geoip_city"}`, wantErr: "cannot print $geoip_city"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLogJSON(tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLogJSON(%q) error = %v, want one containing %q", tt.format, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLogJSON(%q)\n got %+v\nwant %+v", tt.format, got, tt.want)
			}
		})
	}
}

func TestReadHeaders(t *testing.T) {
	got, issues := ReadHeaders(map[string]string{
		"X-Team":     "blue",
		"X-Client":   "ip=$remote_addr",
		"X-Empty":    "",
		"Bad Name":   "x",
		"Host":       "evil.test",
		"X-Split":    "a\r\nInjected: yes",
		"X-Status":   "$status",
		"X-Unknown":  "$geoip_city",
		"X-Dollar":   "costs $",
		"X-Original": "$request_uri",
	})
	want := []ir.Header{
		{Name: "X-Client", Fields: []ir.LogField{{Text: "ip="}, {Value: ir.LogClientAddress}}},
		{Name: "X-Empty"},
		{Name: "X-Original", Fields: []ir.LogField{{Value: ir.LogPath}}},
		{Name: "X-Team", Value: "blue"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headers\n got %+v\nwant %+v", got, want)
	}
	var names []string
	for _, is := range issues {
		if is.Reason != ir.ReasonInvalidConfigValue || is.Msg == "" {
			t.Errorf("issue %+v", is)
		}
		names = append(names, is.Name)
	}
	if w := []string{"Bad Name", "Host", "X-Dollar", "X-Split", "X-Status", "X-Unknown"}; !reflect.DeepEqual(names, w) {
		t.Errorf("reported %q, want %q", names, w)
	}
}
