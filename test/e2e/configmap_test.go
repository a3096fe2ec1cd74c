package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/test/harness"
)

// startConfigMapStack is startStack with --configmap default/rukou: the
// ConfigMap of that name among the watched manifests holds the
// controller's settings.
func startConfigMapStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{dir: t.TempDir()}
	s.rukou = harness.StartRukou(t, "--watch-dir", s.dir, "--configmap", "default/rukou")
	s.envoy = harness.StartEnvoyWith(t, s.rukou.XDSAddress, harness.EnvoyOptions{Mode: "delta"})
	return s
}

// applyConfigMap writes the controller's ConfigMap with data (replacing it).
func (s *stack) applyConfigMap(t *testing.T, data map[string]string) {
	t.Helper()
	s.apply(t, "configmap", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rukou"}, Data: data})
}

// echoHeader is the value of a request header as the echo backend saw it,
// whatever the letter case of its name.
func echoHeader(r reply, name string) (string, bool) {
	if r.echo == nil {
		return "", false
	}
	for k, v := range r.echo.Headers {
		if strings.EqualFold(k, name) {
			return strings.Join(v, ","), true
		}
	}
	return "", false
}

// TestConfigMapUnderscoresInHeaders: as nginx by default, a request header
// whose name holds an underscore is dropped (the request is still served);
// with enable-underscores-in-headers: "true" in the ConfigMap, written
// while rukou runs, it reaches the backend, without a restart.
func TestConfigMapUnderscoresInHeaders(t *testing.T) {
	s := startConfigMapStack(t)
	s.apply(t, "site", join(backend(t, "echo"), objs(ingress("site", rule("under.test", path(prefix, "/", "echo")))))...)
	c := call{host: "under.test", path: "/", header: headers("X_Forwarded_For", "1.2.3.4", "X-Plain", "kept")}
	r := s.await(t, c, http.StatusOK, "echo")
	if v, ok := echoHeader(r, "X_Forwarded_For"); ok {
		t.Errorf("by default the backend got X_Forwarded_For %q, want it dropped", v)
	}
	if v, _ := echoHeader(r, "X-Plain"); v != "kept" {
		t.Errorf("X-Plain = %q beside a dropped header, want kept", v)
	}

	pid := s.rukou.PID()
	s.applyConfigMap(t, map[string]string{"enable-underscores-in-headers": "true"})
	harness.Eventually(t, 15*time.Second, "X_Forwarded_For reaches the backend", func() error {
		r, err := s.do(c)
		if err != nil {
			return err
		}
		if v, ok := echoHeader(r, "X_Forwarded_For"); !ok || v != "1.2.3.4" {
			return fmt.Errorf("%d, backend saw X_Forwarded_For %q (%v)", r.status, v, ok)
		}
		return nil
	})
	if s.rukou.Exited() || s.rukou.PID() != pid {
		t.Error("rukou restarted to apply the ConfigMap")
	}
	expectNoRejection(t, s.envoy)
}

// TestConfigMapProxyReadTimeout: proxy-read-timeout in the ConfigMap
// bounds the silence of every backend (504 after it), and an Ingress's
// own proxy-read-timeout annotation overrides it.
func TestConfigMapProxyReadTimeout(t *testing.T) {
	s := startConfigMapStack(t)
	// One try: nginx's default "error timeout" would try a silent backend
	// three times, a second each.
	s.applyConfigMap(t, map[string]string{"proxy-read-timeout": "1", "proxy-next-upstream-tries": "1"})
	s.apply(t, "timeouts", join(echoService(t, "slow", sleepy("slow"), nil), objs(
		ingress("plain", rule("plain.test", path(prefix, "/", "slow"))),
		annotated("own", map[string]string{"proxy-read-timeout": "5"}, rule("own.test", path(prefix, "/", "slow"))),
	))...)
	s.await(t, call{host: "plain.test", path: "/"}, http.StatusOK, "slow")
	s.await(t, call{host: "own.test", path: "/"}, http.StatusOK, "slow")

	start := time.Now()
	r := s.must(t, call{host: "plain.test", path: "/?sleep=3s"})
	if took := time.Since(start); r.status != http.StatusGatewayTimeout || took > 2500*time.Millisecond {
		t.Errorf("a 3 s backend behind the ConfigMap's 1 s read timeout: %d after %v, want 504 after about 1 s", r.status, took)
	}
	if r := s.must(t, call{host: "own.test", path: "/?sleep=2s"}); r.status != http.StatusOK {
		t.Errorf("a 2 s backend behind the annotation's 5 s read timeout: %d, want 200", r.status)
	}
	expectNoRejection(t, s.envoy)
}

// TestConfigMapHSTSAndInvalidValues: HTTPS answers carry ingress-nginx's
// Strict-Transport-Security by default; hsts: "false" removes it while
// rukou runs. In the same ConfigMap, a value that cannot be used is
// reported as a diagnostic on the ConfigMap (kind, name, data[KEY],
// reason) and its default applies, a key not supported yet and
// allow-snippet-annotations are reported too, and the other keys apply.
func TestConfigMapHSTSAndInvalidValues(t *testing.T) {
	s := startConfigMapStack(t)
	ca := newTestCA(t)
	s.apply(t, "secure", join(backend(t, "secure"), objs(
		ca.secret(t, "secure-tls", 1, "secure.test"),
		tlsIngress("secure", "secure.test", "secure-tls"),
	))...)
	r := s.await(t, call{host: "secure.test", path: "/", https: true}, http.StatusOK, "secure")
	if got, want := r.header.Get("Strict-Transport-Security"), "max-age=31536000; includeSubDomains"; got != want {
		t.Errorf("without a ConfigMap: Strict-Transport-Security %q, want %q", got, want)
	}

	s.applyConfigMap(t, map[string]string{
		"hsts":                      "false",
		"proxy-read-timeout":        "soon",
		"use-geoip2":                "true",
		"allow-snippet-annotations": "true",
	})
	harness.Eventually(t, 15*time.Second, "HTTPS answers without Strict-Transport-Security", func() error {
		r, err := s.do(call{host: "secure.test", path: "/", https: true})
		if err != nil {
			return err
		}
		if r.status != http.StatusOK || r.header.Get("Strict-Transport-Security") != "" {
			return fmt.Errorf("%d, Strict-Transport-Security %q", r.status, r.header.Get("Strict-Transport-Security"))
		}
		return nil
	})
	for _, want := range []struct{ field, reason string }{
		{"data[proxy-read-timeout]", "InvalidConfigValue"},
		{"data[use-geoip2]", "ConfigKeyIgnored"},
		{"data[allow-snippet-annotations]", "SnippetRefused"},
	} {
		expectConfigMapDiagnostic(t, s, want.field, want.reason)
	}
	// The read timeout's default, 60 s, still applies: a 2 s backend is
	// served.
	if r := s.must(t, call{host: "secure.test", path: "/?sleep=2s", https: true}); r.status != http.StatusOK {
		t.Errorf("with an invalid proxy-read-timeout, a 2 s backend: %d, want 200 (the default applies)", r.status)
	}
	expectNoRejection(t, s.envoy)
}

// expectConfigMapDiagnostic waits until rukou's /debug/config reports a
// diagnostic on ConfigMap default/rukou's field with reason.
func expectConfigMapDiagnostic(t *testing.T, s *stack, field, reason string) {
	t.Helper()
	expectDiagnosticOn(t, s, "rukou", field, reason)
}

// expectDiagnosticOn waits until rukou's /debug/config reports a
// diagnostic on the field of ConfigMap default/name with reason.
func expectDiagnosticOn(t *testing.T, s *stack, name, field, reason string) {
	t.Helper()
	harness.Eventually(t, 10*time.Second, fmt.Sprintf("diagnostic %s on ConfigMap default/%s %s", reason, name, field), func() error {
		body, err := s.rukou.Debug("/debug/config")
		if err != nil {
			return err
		}
		var dump struct {
			Diagnostics []struct{ Kind, Namespace, Name, Field, Reason, Message string }
		}
		if err := json.Unmarshal([]byte(body), &dump); err != nil {
			return err
		}
		for _, d := range dump.Diagnostics {
			if d.Kind == "ConfigMap" && d.Namespace == ns && d.Name == name && d.Field == field && d.Reason == reason && d.Message != "" {
				return nil
			}
		}
		return fmt.Errorf("not among %+v", dump.Diagnostics)
	})
}

// TestConfigMapPolicyDefaults: the ConfigMap's whitelist-source-range,
// proxy-body-size, limit-req-status-code and limit-conn-status-code apply
// to every Ingress, and an
// Ingress's own allowlist-source-range replaces the ConfigMap's. A
// WebSocket still upgrades on a route under the ConfigMap's body limit.
func TestConfigMapPolicyDefaults(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{
		"whitelist-source-range": "127.0.0.2/32",
		"proxy-body-size":        "1k",
		"limit-req-status-code":  "429",
		"limit-conn-status-code": "429",
	})
	s.apply(t, "policy", join(backend(t, "echo"), echoService(t, "ws", upgradeEcho(t), nil), echoService(t, "held", sleepy("held"), nil), objs(
		annotated("conn", map[string]string{"limit-connections": "1", "allowlist-source-range": "127.0.0.0/8"},
			rule("conn.test", path(prefix, "/", "held"))),
		ingress("site", rule("site.test", path(prefix, "/", "echo"))),
		annotated("own", map[string]string{"allowlist-source-range": "127.0.0.3/32"}, rule("own.test", path(prefix, "/", "echo"))),
		annotated("limited", map[string]string{"limit-rps": "1", "limit-burst-multiplier": "1", "allowlist-source-range": "127.0.0.0/8"},
			rule("limited.test", path(prefix, "/", "echo"))),
		annotated("ws", map[string]string{"allowlist-source-range": "127.0.0.1/32"}, rule("ws.test", path(prefix, "/", "ws"))),
	))...)
	s.await(t, call{host: "site.test", path: "/", from: "127.0.0.2"}, http.StatusOK, "echo")
	s.await(t, call{host: "own.test", path: "/", from: "127.0.0.3"}, http.StatusOK, "echo")

	t.Run("configmap_allowlist_applies", func(t *testing.T) {
		if r := s.must(t, call{host: "site.test", path: "/", from: "127.0.0.3"}); r.status != http.StatusForbidden {
			t.Errorf("site.test from 127.0.0.3, outside the ConfigMap's whitelist: %d, want 403", r.status)
		}
	})
	t.Run("annotation_replaces_the_configmap_allowlist", func(t *testing.T) {
		if r := s.must(t, call{host: "own.test", path: "/", from: "127.0.0.2"}); r.status != http.StatusForbidden {
			t.Errorf("own.test from 127.0.0.2, outside its own allowlist: %d, want 403", r.status)
		}
	})
	t.Run("configmap_body_size_applies", func(t *testing.T) {
		c := call{method: http.MethodPost, host: "site.test", path: "/", from: "127.0.0.2", body: strings.NewReader(strings.Repeat("x", 2048))}
		if r := s.must(t, c); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("a 2 KiB body under the ConfigMap's 1k: %d, want 413", r.status)
		}
		c.body = strings.NewReader(strings.Repeat("x", 512))
		if r := s.must(t, c); r.status != http.StatusOK {
			t.Errorf("a 512-byte body under the ConfigMap's 1k: %d, want 200", r.status)
		}
	})
	t.Run("limit_req_status_code", func(t *testing.T) {
		counts := s.burst(t, 6, call{host: "limited.test", path: "/", from: "127.0.0.4"})
		if counts[http.StatusTooManyRequests] == 0 || counts[http.StatusServiceUnavailable] != 0 {
			t.Errorf("a burst of 6 over limit-rps 1 (burst 2): statuses %v, want some 429 and no 503", counts)
		}
	})
	t.Run("limit_conn_status_code", func(t *testing.T) {
		s.await(t, call{host: "conn.test", path: "/", from: "127.0.0.7"}, http.StatusOK, "held")
		// The limiter frees a connection's slot once Envoy tells it the
		// connection closed, which can come after the client saw its
		// answer: a burst that starts before then finds the slot taken
		// and gets only 429s. So up to three bursts, a moment apart.
		var counts map[int]int
		for range 3 {
			time.Sleep(200 * time.Millisecond)
			counts = s.burst(t, 3, call{host: "conn.test", path: "/?sleep=1s", from: "127.0.0.7"})
			if counts[http.StatusServiceUnavailable] != 0 || counts[http.StatusOK] != 0 {
				break
			}
		}
		if counts[http.StatusOK] == 0 || counts[http.StatusTooManyRequests] == 0 || counts[http.StatusServiceUnavailable] != 0 {
			t.Errorf("3 slow requests at once over limit-connections 1: statuses %v, want some served, some 429 and no 503", counts)
		}
	})
	t.Run("websocket_under_the_body_limit", func(t *testing.T) {
		s.await(t, call{host: "ws.test", path: "/"}, http.StatusOK, "")
		expectWebSocketEcho(t, s, "ws.test")
	})
	expectNoRejection(t, s.envoy)
}

// connections is a backend that answers 200 and counts the connections
// its requests came over.
type connections struct {
	mu    sync.Mutex
	peers map[string]bool
}

func (c *connections) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.peers[r.RemoteAddr] = true
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (c *connections) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.peers)
}

// TestConfigMapUpstreamKeepalive: Envoy keeps connections to a backend
// open for more requests, as ingress-nginx does by default; with
// upstream-keepalive-connections: "0", written while rukou runs, every
// request opens its own, within seconds (the cluster changes in place).
func TestConfigMapUpstreamKeepalive(t *testing.T) {
	s := startConfigMapStack(t)
	backend := &connections{peers: map[string]bool{}}
	s.apply(t, "site", join(echoService(t, "conns", backend, nil), objs(ingress("site", rule("conns.test", path(prefix, "/", "conns")))))...)
	s.await(t, call{host: "conns.test", path: "/"}, http.StatusOK, "")
	sendTen := func() int {
		before := backend.count()
		for range 10 {
			if r := s.must(t, call{host: "conns.test", path: "/"}); r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
		}
		return backend.count() - before
	}
	// One connection per Envoy worker at most (this machine has 2 cores).
	if n := sendTen(); n > 2 {
		t.Errorf("by default 10 requests one after the other opened %d connections, want them reused", n)
	}
	s.applyConfigMap(t, map[string]string{"upstream-keepalive-connections": "0"})
	applied := time.Now()
	harness.Eventually(t, 10*time.Second, "a connection per request", func() error {
		if n := sendTen(); n != 10 {
			return fmt.Errorf("10 requests opened %d connections", n)
		}
		return nil
	})
	t.Logf("a connection per request %v after the ConfigMap changed", time.Since(applied).Round(100*time.Millisecond))
	expectNoRejection(t, s.envoy)
}
