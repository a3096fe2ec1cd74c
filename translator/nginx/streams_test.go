package nginx

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// TestParseStreamEntry: every form of a TCP or UDP services entry that
// ingress-nginx serves (getStreamServices), and what it refuses.
func TestParseStreamEntry(t *testing.T) {
	entry := func(port uint32, svcPort string, decode, encode bool) StreamEntry {
		return StreamEntry{Port: port, Namespace: "default", Service: "db", ServicePort: svcPort, DecodeProxyProtocol: decode, EncodeProxyProtocol: encode}
	}
	tests := []struct {
		name       string
		proto      StreamProtocol
		key, value string
		want       StreamEntry
		// warnings are substrings of the warnings, in order.
		warnings []string
		wantErr  string
	}{
		{name: "port_number", proto: TCP, key: "5432", value: "default/db:5432", want: entry(5432, "5432", false, false)},
		{name: "port_name", proto: TCP, key: "5432", value: "default/db:postgres", want: entry(5432, "postgres", false, false)},
		{name: "proxy_from_the_client", proto: TCP, key: "9000", value: "default/db:5432:PROXY", want: entry(9000, "5432", true, false)},
		{name: "proxy_to_the_backend", proto: TCP, key: "9000", value: "default/db:5432::PROXY", want: entry(9000, "5432", false, true)},
		{name: "proxy_both_ways", proto: TCP, key: "9000", value: "default/db:5432:PROXY:PROXY", want: entry(9000, "5432", true, true)},
		{name: "proxy_in_any_case", proto: TCP, key: "9000", value: "default/db:5432:proxy:Proxy", want: entry(9000, "5432", true, true)},
		{name: "empty_proxy_fields", proto: TCP, key: "9000", value: "default/db:5432::", want: entry(9000, "5432", false, false)},
		{name: "key_with_leading_zero", proto: TCP, key: "0053", value: "default/db:53", want: entry(53, "53", false, false)},
		{name: "key_with_plus_sign", proto: TCP, key: "+53", value: "default/db:53", want: entry(53, "53", false, false)},
		{name: "highest_port", proto: UDP, key: "65535", value: "default/db:53", want: entry(65535, "53", false, false)},
		{name: "udp", proto: UDP, key: "53", value: "default/db:dns", want: entry(53, "dns", false, false)},
		{name: "empty_fields_on_udp", proto: UDP, key: "53", value: "default/db:dns::", want: entry(53, "dns", false, false)},
		{
			name: "proxy_fields_on_udp_are_ignored", proto: UDP, key: "53", value: "default/db:dns:PROXY:PROXY",
			want: entry(53, "dns", false, false), warnings: []string{"TCP services only"},
		},
		{
			name: "other_words_are_ignored", proto: TCP, key: "9000", value: "default/db:5432:yes:PROXY",
			want: entry(9000, "5432", false, true), warnings: []string{`field 3 is "yes"`},
		},
		{
			// ingress-nginx reads the fourth field only when it is the last.
			name: "fields_after_the_fourth", proto: TCP, key: "9000", value: "default/db:5432:PROXY:PROXY:x",
			want: entry(9000, "5432", true, false), warnings: []string{`field 5 ("x") is ignored`, "no PROXY protocol header is sent"},
		},
		{name: "key_not_a_number", proto: TCP, key: "postgres", value: "default/db:5432", wantErr: `"postgres" is not a TCP port number`},
		{name: "key_zero", proto: TCP, key: "0", value: "default/db:5432", wantErr: "is not a TCP port number"},
		{name: "key_negative", proto: UDP, key: "-53", value: "default/db:53", wantErr: "is not a UDP port number"},
		{name: "key_too_large", proto: TCP, key: "65536", value: "default/db:5432", wantErr: "is not a TCP port number"},
		{name: "key_empty", proto: TCP, key: "", value: "default/db:5432", wantErr: "is not a TCP port number"},
		{name: "no_port", proto: TCP, key: "9000", value: "default/db", wantErr: "is not namespace/service:port"},
		{name: "empty_port", proto: TCP, key: "9000", value: "default/db:", wantErr: "names no Service port"},
		{name: "no_namespace", proto: TCP, key: "9000", value: "db:5432", wantErr: `"db" is not namespace/service`},
		{name: "empty_namespace", proto: TCP, key: "9000", value: "/db:5432", wantErr: "is not namespace/service"},
		{name: "empty_service", proto: TCP, key: "9000", value: "default/:5432", wantErr: "is not namespace/service"},
		{name: "two_slashes", proto: TCP, key: "9000", value: "a/b/c:5432", wantErr: "is not namespace/service"},
		{name: "empty_value", proto: TCP, key: "9000", value: "", wantErr: "is not namespace/service:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := ParseStreamEntry(tt.proto, tt.key, tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %d with %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d is %q, want one with %q", i, warnings[i], w)
				}
			}
		})
	}
}

func TestStreamEntryServicePort(t *testing.T) {
	for _, c := range []struct {
		port   string
		number int32
		byNum  bool
	}{{"5432", 5432, true}, {"postgres", 0, false}, {"70000", 0, true}, {"4294967376", 0, true}, {"0", 0, true}} {
		n, byNum := StreamEntry{ServicePort: c.port}.ServicePortNumber()
		if n != c.number || byNum != c.byNum {
			t.Errorf("%q: %d, %v; want %d, %v", c.port, n, byNum, c.number, c.byNum)
		}
	}
	if got := (StreamEntry{Namespace: "default", Service: "db", ServicePort: "postgres"}).UpstreamName(TCP); got != "tcp-default-db-postgres" {
		t.Errorf("upstream name %q, want ingress-nginx's tcp-default-db-postgres", got)
	}
}

func TestParseStreamLogFormat(t *testing.T) {
	got, err := ParseStreamLogFormat(DefaultStreamLogFormat, UDP)
	if err != nil {
		t.Fatal(err)
	}
	v := func(value ir.LogValue) ir.LogField { return ir.LogField{Value: value} }
	text := func(s string) ir.LogField { return ir.LogField{Text: s} }
	want := []ir.LogField{
		text("["), v(ir.LogClientAddress), text("] ["), v(ir.LogTimeLocal), text("] UDP "), v(ir.LogSessionStatus), text(" "),
		v(ir.LogBytesSent), text(" "), v(ir.LogBytesReceived), text(" "), v(ir.LogSessionTime),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default stream format:\n got %+v\nwant %+v", got, want)
	}
	// An HTTP variable has no meaning on a stream.
	if _, err := ParseStreamLogFormat("$request $upstream_addr", TCP); err == nil || !strings.Contains(err.Error(), "$request") {
		t.Errorf("$request in a stream format: %v, want it reported", err)
	}
}

func TestParseNginxTime(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"600s": 600 * time.Second, "600": 600 * time.Second, "10m": 10 * time.Minute, "1h 30m": 90 * time.Minute,
		"1h30m": 90 * time.Minute, "500ms": 500 * time.Millisecond, "1d": 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"1M": 30 * 24 * time.Hour, "1y": 365 * 24 * time.Hour,
		// Refused: empty, zero, no number, an unknown unit, a sign, a
		// fraction, more than a year.
		"": 0, "0s": 0, "s": 0, "10x": 0, "-1s": 0, "1.5s": 0, "1y 1s": 0, "999999999999d": 0,
	} {
		got, ok := parseNginxTime(v)
		if got != want || ok != (want != 0) {
			t.Errorf("%q: %v, %v; want %v", v, got, ok, want)
		}
	}
}
