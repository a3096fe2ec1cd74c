package nginx

import "testing"

func TestReadErrorPagesAnnotations(t *testing.T) {
	errorPages := func(want *ErrorPages) func(t *testing.T, a *Annotations) {
		return func(t *testing.T, a *Annotations) {
			var got *ErrorPages
			if a.Policy != nil {
				got = a.Policy.ErrorPages
			}
			equal(t, "ErrorPages", got, want)
		}
	}
	runAnnotationCases(t, []annotationCase{
		{name: "none", check: errorPages(nil)},
		{
			name:   "statuses_and_service",
			values: map[string]string{"custom-http-errors": "404, 503,", "default-backend": "error-pages"},
			check:  errorPages(&ErrorPages{Statuses: []uint32{404, 503}, Service: "error-pages"}),
		},
		{
			name:   "bad_statuses_are_left_out",
			values: map[string]string{"custom-http-errors": "200,503,abc"},
			check:  errorPages(&ErrorPages{Statuses: []uint32{503}}),
			issues: []string{"custom-http-errors InvalidAnnotation", "custom-http-errors InvalidAnnotation"},
		},
		{
			name:   "no_usable_status_keeps_the_configmaps",
			values: map[string]string{"custom-http-errors": "abc"},
			check:  errorPages(nil),
			issues: []string{"custom-http-errors InvalidAnnotation"},
		},
		{
			name:   "bad_service_name",
			values: map[string]string{"default-backend": "Not_A_Name"},
			check:  errorPages(nil),
			issues: []string{"default-backend InvalidAnnotation"},
		},
		{
			name:   "interception_off",
			values: map[string]string{"disable-proxy-intercept-errors": "true"},
			check:  errorPages(&ErrorPages{Off: true}),
		},
	})
}

func TestReadCustomHTTPErrorsKey(t *testing.T) {
	s, issues := ReadConfigMap(map[string]string{"custom-http-errors": "404,503,1000"})
	equal(t, "CustomHTTPErrors", s.CustomHTTPErrors, []uint32{404, 503})
	if len(issues) != 1 || issues[0].Name != "custom-http-errors" || issues[0].Reason != "InvalidConfigValue" {
		t.Errorf("issues %+v, want one InvalidConfigValue on custom-http-errors", issues)
	}
	if d := DefaultSettings(); d.CustomHTTPErrors != nil {
		t.Errorf("default custom-http-errors %v, want none", d.CustomHTTPErrors)
	}
}
