package e2e

import (
	"net/http"
	"testing"
)

// TestAnnotationSourceRanges: allowlist-source-range (and its former name
// whitelist-source-range) admits only its ranges, denylist-source-range
// refuses its ranges; the others get 403. The client address is the peer
// address Envoy sees. A range that cannot be read refuses everyone.
func TestAnnotationSourceRanges(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "ranges", join(backend(t, "guarded"), objs(
		annotated("allow", map[string]string{"allowlist-source-range": "127.0.0.2/32,192.168.0.0/16"},
			rule("allow.test", path(prefix, "/", "guarded"))),
		annotated("whitelist", map[string]string{"whitelist-source-range": "127.0.0.2"},
			rule("whitelist.test", path(prefix, "/", "guarded"))),
		annotated("deny", map[string]string{"denylist-source-range": "127.0.0.3/32"},
			rule("deny.test", path(prefix, "/", "guarded"))),
		annotated("both", map[string]string{"allowlist-source-range": "127.0.0.0/24", "denylist-source-range": "127.0.0.3"},
			rule("both.test", path(prefix, "/", "guarded"))),
		annotated("broken", map[string]string{"allowlist-source-range": "127.0.0.2/32, not-an-address"},
			rule("broken.test", path(prefix, "/", "guarded"))),
	))...)
	s.await(t, call{host: "allow.test", path: "/", from: "127.0.0.2"}, http.StatusOK, "guarded")

	for _, c := range []struct {
		name, host, from string
		status           int
	}{
		{"allowlisted_address_is_served", "allow.test", "127.0.0.2", http.StatusOK},
		{"other_address_is_refused", "allow.test", "127.0.0.3", http.StatusForbidden},
		{"whitelist_is_the_former_name", "whitelist.test", "127.0.0.2", http.StatusOK},
		{"whitelist_refuses_others", "whitelist.test", "127.0.0.1", http.StatusForbidden},
		{"denylisted_address_is_refused", "deny.test", "127.0.0.3", http.StatusForbidden},
		{"other_address_passes_the_denylist", "deny.test", "127.0.0.2", http.StatusOK},
		{"deny_wins_inside_an_allowed_range", "both.test", "127.0.0.3", http.StatusForbidden},
		{"allowed_range_without_deny_is_served", "both.test", "127.0.0.5", http.StatusOK},
		{"unreadable_range_refuses_everyone", "broken.test", "127.0.0.2", http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.must(t, call{host: c.host, path: "/", from: c.from})
			if r.status != c.status {
				t.Errorf("GET %s from %s: %d, want %d", c.host, c.from, r.status, c.status)
			}
		})
	}
	waitDiagnostic(t, s, "default/broken", "InvalidAnnotation", "not-an-address")
	expectNoRejection(t, s.envoy)
}
