package e2e

// Basic authentication's Secret as an operator lives with it: changed
// while Envoy serves, and never shown back, whatever page or log one
// looks at.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/test/harness"
)

// secretDeadline is how soon a change of a basic-auth Secret must hold
// for every request (issue 13: "effective within a second").
const secretDeadline = time.Second

// startSeparateLimiter runs `rukou limiter` on address, asking rukou's
// xDS server for the users, at log level debug.
func startSeparateLimiter(t *testing.T, address, xdsAddress string) *harness.Process {
	t.Helper()
	return harness.Start(t, "limiter", exec.Command(filepath.Join(harness.Root(t), "bin", "rukou"), "limiter",
		"--address", address, "--xds-address", xdsAddress, "--log-level", "debug"), 5*time.Second)
}

// basicSite is the Secret "users" holding file and an Ingress site.test
// that checks it, in front of the backend "web".
func basicSite(t *testing.T, file string) []runtime.Object {
	return join(backend(t, "web"), objs(opaque("users", map[string]string{"auth": file}),
		annotated("site", map[string]string{"auth-type": "basic", "auth-secret": "users"}, rule("site.test", path(prefix, "/", "web")))))
}

// switchTime writes objs and returns how long it took, from just before
// the write, until admitted answers 200 and refused 401 in the same
// round; it fails the test past 5 s.
func (s *stack) switchTime(t *testing.T, objs []runtime.Object, admitted, refused call) time.Duration {
	t.Helper()
	start := time.Now()
	s.apply(t, "basic", objs...)
	for {
		a, r := s.must(t, admitted), s.must(t, refused)
		took := time.Since(start)
		if a.status == http.StatusOK && r.status == http.StatusUnauthorized {
			return took
		}
		if took > 5*time.Second {
			t.Fatalf("%v after the change: new credentials %d, old ones %d; want 200 and 401", took, a.status, r.status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBasicAuthSecretChangeWithinASecond: a changed password, then a
// removed user, hold for every request within a second of the Secret's
// change, whether rukou or a `rukou limiter` beside Envoy checks them.
// The old password was admitted just before, so a remembered success
// must not outlive the change; and once refused it stays refused.
func TestBasicAuthSecretChangeWithinASecond(t *testing.T) {
	for _, separate := range []bool{false, true} {
		t.Run(map[bool]string{false: "checked_by_rukou", true: "checked_by_rukou_limiter"}[separate], func(t *testing.T) {
			var s *stack
			if separate {
				address := harness.Addr(t)
				s = startStackWith(t, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--limiter-address", address}})
				startSeparateLimiter(t, address, s.rukou.XDSAddress)
			} else {
				s = startStack(t, "delta")
			}
			bob := hashLine(t, "htpasswd", "-nbB", "bob", "pw-bob")
			s.apply(t, "basic", basicSite(t, hashLine(t, "htpasswd", "-nbB", "alice", "pw-1")+"\n"+bob+"\n")...)
			s.await(t, basicCall("site.test", "alice", "pw-1"), http.StatusOK, "web")
			s.await(t, basicCall("site.test", "bob", "pw-bob"), http.StatusOK, "web")

			changed := s.switchTime(t, basicSite(t, hashLine(t, "htpasswd", "-nbB", "alice", "pw-2")+"\n"+bob+"\n"),
				basicCall("site.test", "alice", "pw-2"), basicCall("site.test", "alice", "pw-1"))
			removed := s.switchTime(t, basicSite(t, bob+"\n"),
				basicCall("site.test", "bob", "pw-bob"), basicCall("site.test", "alice", "pw-2"))
			t.Logf("password changed: %v; user removed: %v", changed, removed)
			for what, took := range map[string]time.Duration{"a changed password": changed, "a removed user": removed} {
				if took > secretDeadline {
					t.Errorf("%s held for every request %v after the Secret changed, want within %v", what, took, secretDeadline)
				}
			}
			for range 5 {
				if r := s.must(t, basicCall("site.test", "alice", "pw-2")); r.status != http.StatusUnauthorized {
					t.Fatalf("a removed user, later: %d, want 401", r.status)
				}
			}
		})
	}
}

// secretTexts are the forms in which a Secret's users could leak: each
// hash, each whole line, and the base64 of the file and of each line, as
// a dump of bytes would print them.
func secretTexts(lines []string) []string {
	file := strings.Join(lines, "\n") + "\n"
	texts := []string{base64.StdEncoding.EncodeToString([]byte(file))}
	for _, line := range lines {
		_, hash, _ := strings.Cut(line, ":")
		texts = append(texts, line, hash, base64.StdEncoding.EncodeToString([]byte(line)))
	}
	return texts
}

// TestBasicAuthHashesNeverShown: with a basic-auth Secret served and
// checked, at log level debug, no hash of it and no line of its file is
// in rukou's log, the limiter's, Envoy's, any /debug page of rukou (and
// its ops pages), or Envoy's config_dump.
func TestBasicAuthHashesNeverShown(t *testing.T) {
	address := harness.Addr(t)
	s := startStackWith(t, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--limiter-address", address}})
	lim := startSeparateLimiter(t, address, s.rukou.XDSAddress)
	lines := []string{
		hashLine(t, "htpasswd", "-nbB", "bcrypt", "pw-b"),
		hashLine(t, "htpasswd", "-nbm", "apr1", "pw-m"),
		hashLine(t, "htpasswd", "-nbs", "sha", "pw-s"),
		"sha256:" + hashLine(t, "openssl", "passwd", "-5", "pw-5"),
		"sha512:" + hashLine(t, "openssl", "passwd", "-6", "pw-6"),
		"plain:pw-in-clear", // not a hash: reported without being quoted
	}
	mapHash := hashLine(t, "openssl", "passwd", "-6", "pw-c")
	s.apply(t, "basic", join(backend(t, "web"), objs(
		opaque("users", map[string]string{"auth": strings.Join(lines, "\n") + "\n"}),
		opaque("map", map[string]string{"carol": mapHash}),
		annotated("file", map[string]string{"auth-type": "basic", "auth-secret": "users"}, rule("file.test", path(prefix, "/", "web"))),
		annotated("map", map[string]string{"auth-type": "basic", "auth-secret": "map", "auth-secret-type": "auth-map"},
			rule("map.test", path(prefix, "/", "web"))),
	))...)
	s.await(t, basicCall("file.test", "bcrypt", "pw-b"), http.StatusOK, "web")
	s.await(t, basicCall("map.test", "carol", "pw-c"), http.StatusOK, "web")
	s.await(t, basicCall("file.test", "sha", "wrong"), http.StatusUnauthorized, "")
	waitDiagnostic(t, s, "default/file", "InvalidSecret", `user "plain"`)

	pages := map[string]string{"rukou log": s.rukou.Log(), "limiter log": lim.Log(), "Envoy log": s.envoy.Log()}
	for _, p := range []string{"/debug/config", "/debug/ingresses", "/debug/xds", "/debug/pprof/", "/debug/pprof/cmdline"} {
		pages[p] = get(t, "http://"+s.rukou.DebugAddress+p)
	}
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		pages[p] = get(t, "http://"+s.rukou.OpsAddress+p)
	}
	pages["Envoy config_dump"] = get(t, "http://"+s.envoy.Admin.Address+"/config_dump?include_eds")
	if !strings.Contains(pages["/debug/config"], "basic-auth/default/users") {
		t.Errorf("/debug/config does not name the credentials it serves; is it the right page?")
	}
	texts := append(secretTexts(lines), secretTexts([]string{"carol:" + mapHash})...)
	// The manifest holds the file in base64: the search finds a page that
	// would print the Secret as it is stored.
	if manifest := readFile(t, filepath.Join(s.dir, "basic.yaml")); !strings.Contains(manifest, texts[0]) {
		t.Fatalf("the manifest does not hold the file's base64 %q:\n%s", texts[0], manifest)
	}
	for name, body := range pages {
		for _, text := range texts {
			if strings.Contains(body, text) {
				t.Errorf("%s holds %q from the Secret", name, text)
			}
		}
	}
}

// get returns the body of a 200 at url, and fails the test otherwise.
func get(t *testing.T, url string) string {
	t.Helper()
	body, err := harness.GetOK(url)
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", url, err))
	}
	return body
}
