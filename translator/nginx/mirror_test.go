package nginx

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestMirror: the targets Envoy can honour become a Mirror; every other
// form is reported and nothing is mirrored.
func TestMirror(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]string
		want   *Mirror
		reason ir.Reason
	}{
		{"https_name_with_request_uri", map[string]string{"mirror-target": "https://test.env.com$request_uri"},
			&Mirror{TLS: true, Host: "test.env.com", Port: 443, HostHeader: "test.env.com"}, ""},
		{"slash_before_request_uri_and_port", map[string]string{"mirror-target": "http://10.0.0.1:8080/$request_uri"},
			&Mirror{Host: "10.0.0.1", Port: 8080, HostHeader: "10.0.0.1"}, ""},
		{"mirror_host_sets_the_host_header", map[string]string{"mirror-target": "https://1.2.3.4$request_uri", "mirror-host": "test.env.com"},
			&Mirror{TLS: true, Host: "1.2.3.4", Port: 443, HostHeader: "test.env.com"}, ""},
		{"body_on", map[string]string{"mirror-target": "http://m$request_uri", "mirror-request-body": "on"},
			&Mirror{Host: "m", Port: 80, HostHeader: "m"}, ""},
		{"body_off_mirrors_nothing", map[string]string{"mirror-target": "http://m$request_uri", "mirror-request-body": "off"},
			nil, ir.ReasonAnnotationIgnored},
		{"fixed_path_is_refused", map[string]string{"mirror-target": "http://localhost/mirror"}, nil, ir.ReasonInvalidAnnotation},
		{"other_variable_is_refused", map[string]string{"mirror-target": "http://$host$request_uri"}, nil, ir.ReasonInvalidAnnotation},
		{"path_before_request_uri_is_refused", map[string]string{"mirror-target": "http://m/a$request_uri"}, nil, ir.ReasonInvalidAnnotation},
		{"other_scheme_is_refused", map[string]string{"mirror-target": "ftp://m$request_uri"}, nil, ir.ReasonInvalidAnnotation},
		{"bad_mirror_host_is_refused", map[string]string{"mirror-target": "http://m$request_uri", "mirror-host": "a b"}, nil, ir.ReasonInvalidAnnotation},
		{"mirror_host_alone_is_ignored", map[string]string{"mirror-host": "m"}, nil, ir.ReasonAnnotationIgnored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := map[string]string{}
			for k, v := range tc.values {
				all[Prefix+k] = v
			}
			a, issues := Read(all, "default/x")
			var got *Mirror
			if a.Policy != nil {
				got = a.Policy.Mirror
			}
			equal(t, "mirror", got, tc.want)
			switch {
			case tc.reason == "" && len(issues) != 0:
				t.Errorf("issues %+v, want none", issues)
			case tc.reason != "" && (len(issues) != 1 || issues[0].Reason != tc.reason):
				t.Errorf("issues %+v, want one %s", issues, tc.reason)
			}
		})
	}
}
