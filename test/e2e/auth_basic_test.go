package e2e

import (
	"bytes"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/test/harness"
)

// hashLine runs a real hashing tool and returns its output trimmed: the
// htpasswd (apache2-utils) and openssl that users make their files with.
func hashLine(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(bytes.TrimSpace(out))
}

// opaque is a generic Secret, as kubectl create secret generic makes it.
func opaque(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// basicCall is a GET of host with Basic credentials (none when user is
// empty).
func basicCall(host, user, password string) call {
	c := call{host: host, path: "/"}
	if user != "" {
		req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		req.SetBasicAuth(user, password)
		c.header = req.Header
	}
	return c
}

// TestBasicAuth: auth-type basic as ingress-nginx enforces it, with files
// made by the real htpasswd (bcrypt, apr1, SHA) and openssl (SHA-256 and
// SHA-512 crypt), in an auth-file and an auth-map Secret: the right
// password reaches the backend without the Authorization header; a wrong
// one, an unknown user, a malformed header or none gets 401 with the
// realm; a bad line admits no one while the others work; a missing
// Secret or key answers 503; a change of the Secret takes effect.
func TestBasicAuth(t *testing.T) {
	s := startStack(t, "delta")
	file := strings.Join([]string{
		hashLine(t, "htpasswd", "-nbB", "bcrypt", "pw-b"),
		hashLine(t, "htpasswd", "-nbm", "apr1", "pw-m"),
		hashLine(t, "htpasswd", "-nbs", "sha", "pw-s"),
		"sha256:" + hashLine(t, "openssl", "passwd", "-5", "pw-5"),
		"sha512:" + hashLine(t, "openssl", "passwd", "-6", "pw-6"),
		"plain:pw-p", // not a hash nginx reads: admits no one
	}, "\n") + "\n"
	site := func(name string, ann map[string]string) runtime.Object {
		if ann["auth-type"] == "" {
			ann["auth-type"] = "basic"
		}
		return annotated(name, ann, rule(name+".test", path(prefix, "/", "web")))
	}
	objects := func(file string) []runtime.Object {
		return join(backend(t, "web"), objs(
			opaque("users", map[string]string{"auth": file}),
			opaque("map", map[string]string{"carol": hashLine(t, "htpasswd", "-nbB", "x", "pw-c")[len("x:"):]}),
			opaque("nokey", map[string]string{"other": file}),
			site("file", map[string]string{"auth-secret": "users", "auth-realm": "test auth"}),
			site("map", map[string]string{"auth-secret": "map", "auth-secret-type": "auth-map"}),
			site("missing", map[string]string{"auth-secret": "absent"}),
			site("nokey", map[string]string{"auth-secret": "nokey"}),
			site("digest", map[string]string{"auth-secret": "users", "auth-type": "digest"}),
		))
	}
	s.apply(t, "basic", objects(file)...)

	r := s.await(t, basicCall("file.test", "bcrypt", "pw-b"), http.StatusOK, "web")
	if v, ok := echoHeader(r, "Authorization"); ok {
		t.Errorf("backend saw Authorization %q; nginx clears it", v)
	}
	for _, c := range []struct{ name, user, password string }{
		{"apr1", "apr1", "pw-m"}, {"sha", "sha", "pw-s"}, {"sha256_crypt", "sha256", "pw-5"}, {"sha512_crypt", "sha512", "pw-6"},
		{"repeated_request_cached", "bcrypt", "pw-b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := s.must(t, basicCall("file.test", c.user, c.password)); r.status != http.StatusOK || r.backend != "web" {
				t.Errorf("got %d from %q, want 200 from web", r.status, r.backend)
			}
		})
	}
	malformed := call{host: "file.test", path: "/", header: headers("Authorization", "Basic not-base64!")}
	for _, c := range []struct {
		name string
		call call
	}{
		{"wrong_password", basicCall("file.test", "bcrypt", "nope")},
		{"unknown_user", basicCall("file.test", "mallory", "pw-b")},
		{"no_credentials", basicCall("file.test", "", "")},
		{"malformed_header", malformed},
		{"plain_text_line_admits_no_one", basicCall("file.test", "plain", "pw-p")},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.must(t, c.call)
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="test auth"` {
				t.Errorf("got %d with WWW-Authenticate %q, want 401 with Basic realm=\"test auth\"", r.status, r.header.Get("WWW-Authenticate"))
			}
		})
	}
	if r := s.must(t, basicCall("map.test", "carol", "pw-c")); r.status != http.StatusOK {
		t.Errorf("auth-map user: got %d, want 200", r.status)
	}
	if r := s.must(t, basicCall("map.test", "carol", "no")); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm=""` {
		t.Errorf("auth-map wrong password: got %d %q, want 401 with an empty realm", r.status, r.header.Get("WWW-Authenticate"))
	}
	for _, host := range []string{"missing.test", "nokey.test", "digest.test"} {
		if r := s.must(t, basicCall(host, "bcrypt", "pw-b")); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s: got %d, want 503", host, r.status)
		}
	}

	// The Secret changes: the old password stops working, the new one
	// works, without a restart.
	s.apply(t, "basic", objects(hashLine(t, "htpasswd", "-nbB", "bcrypt", "pw-new")+"\n")...)
	s.await(t, basicCall("file.test", "bcrypt", "pw-new"), http.StatusOK, "web")
	if r := s.must(t, basicCall("file.test", "bcrypt", "pw-b")); r.status != http.StatusUnauthorized {
		t.Errorf("old password after the change: got %d, want 401", r.status)
	}
}

// TestBasicAuthSatisfy: with satisfy any a client in the allow list needs
// no credentials and one outside needs them; with all (the default) a
// client needs both.
func TestBasicAuthSatisfy(t *testing.T) {
	s := startStack(t, "delta")
	line := hashLine(t, "htpasswd", "-nbB", "alice", "pw") + "\n"
	site := func(name, satisfy string) runtime.Object {
		return annotated(name, map[string]string{"auth-type": "basic", "auth-secret": "users", "satisfy": satisfy,
			"allowlist-source-range": "127.0.0.2/32"}, rule(name+".test", path(prefix, "/", "web")))
	}
	s.apply(t, "satisfy", join(backend(t, "web"), objs(opaque("users", map[string]string{"auth": line}), site("any", "any"), site("all", "all")))...)
	from := func(c call, addr string) call { c.from = addr; return c }
	s.await(t, from(basicCall("any.test", "", ""), "127.0.0.2"), http.StatusOK, "web")
	for _, c := range []struct {
		name string
		call call
		want int
	}{
		{"any_allowed_address_without_credentials", from(basicCall("any.test", "", ""), "127.0.0.2"), http.StatusOK},
		{"any_other_address_with_credentials", from(basicCall("any.test", "alice", "pw"), "127.0.0.3"), http.StatusOK},
		{"any_other_address_without_credentials", from(basicCall("any.test", "", ""), "127.0.0.3"), http.StatusUnauthorized},
		{"all_allowed_address_without_credentials", from(basicCall("all.test", "", ""), "127.0.0.2"), http.StatusUnauthorized},
		{"all_allowed_address_with_credentials", from(basicCall("all.test", "alice", "pw"), "127.0.0.2"), http.StatusOK},
		{"all_other_address_with_credentials", from(basicCall("all.test", "alice", "pw"), "127.0.0.3"), http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := s.must(t, c.call); r.status != c.want {
				t.Errorf("got %d, want %d", r.status, c.want)
			}
		})
	}
}

// TestBasicAuthSeparateLimiter: `rukou limiter` beside Envoy asks rukou for
// the users over SDS, by name, and follows their changes; without rukou's
// answer it answers 500, never admits.
func TestBasicAuthSeparateLimiter(t *testing.T) {
	address := harness.Addr(t)
	s := startStackWith(t, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--limiter-address", address}})
	lim := startSeparateLimiter(t, address, s.rukou.XDSAddress)
	apply := func(line string) {
		s.apply(t, "basic", join(backend(t, "web"), objs(opaque("users", map[string]string{"auth": line}),
			annotated("site", map[string]string{"auth-type": "basic", "auth-secret": "users"}, rule("site.test", path(prefix, "/", "web")))))...)
	}
	apply(hashLine(t, "htpasswd", "-nbB", "alice", "pw") + "\n")
	s.await(t, basicCall("site.test", "alice", "pw"), http.StatusOK, "web")
	if r := s.must(t, basicCall("site.test", "alice", "no")); r.status != http.StatusUnauthorized {
		t.Errorf("wrong password: got %d, want 401", r.status)
	}
	apply(hashLine(t, "htpasswd", "-nbB", "alice", "pw2") + "\n")
	s.await(t, basicCall("site.test", "alice", "pw2"), http.StatusOK, "web")
	if m, err := s.rukou.Metrics(); err != nil || m.Sum("rukou_external_auth_checks_total") != 0 {
		t.Errorf("rukou serve decided checks although Envoy has its own limiter (metrics error %v)", err)
	}
	if lim.Exited() {
		t.Fatalf("rukou limiter exited:\n%s", lim.Log())
	}
}
