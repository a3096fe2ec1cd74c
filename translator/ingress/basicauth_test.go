package ingress

import (
	"strings"
	"testing"
)

// TestHtpasswdLines: the good lines stay, a user's first line wins, and
// a bad line is reported by number and user, never quoted.
func TestHtpasswdLines(t *testing.T) {
	lines := []string{
		"alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
		"",
		"no-colon-here",
		"bob:plain-password",
		"alice:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
		":{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
		"  carol:$apr1$5pMKgGiv$X0pjrbfjw6chHoxzPNZQ2.  ",
	}
	users, bad := htpasswdLines(lines)
	want := "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\ncarol:$apr1$5pMKgGiv$X0pjrbfjw6chHoxzPNZQ2.\n"
	if string(users) != want {
		t.Errorf("users:\n%s\nwant:\n%s", users, want)
	}
	if len(bad) != 3 || !strings.Contains(bad[0], "line 3") || !strings.Contains(bad[1], `"bob"`) || !strings.Contains(bad[2], "line 6") {
		t.Errorf("bad lines reported as %q", bad)
	}
	for _, b := range bad {
		if strings.Contains(b, "plain-password") || strings.Contains(b, "no-colon-here") {
			t.Errorf("a report quotes a line: %q", b)
		}
	}
}
