package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// mirrored is one request a mirror received.
type mirrored struct {
	method, uri, host, body string
}

// recordingMirror is a server that records what it receives and answers
// 500, an answer the client must never see. A request whose path starts
// with /slow is held until hold ends or the test does.
type recordingMirror struct {
	mu   sync.Mutex
	got  []mirrored
	hold time.Duration
	done chan struct{}
}

func (m *recordingMirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.got = append(m.got, mirrored{r.Method, r.RequestURI, r.Host, string(body)})
	m.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/slow") {
		select {
		case <-time.After(m.hold):
		case <-m.done:
		}
	}
	http.Error(w, "the mirror's answer", http.StatusInternalServerError)
}

// await waits until the mirror has received a request for uri.
func (m *recordingMirror) await(t *testing.T, uri string) mirrored {
	t.Helper()
	var found mirrored
	harness.Eventually(t, 10*time.Second, "the mirror receives "+uri, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, g := range m.got {
			if g.uri == uri {
				found = g
				return nil
			}
		}
		return fmt.Errorf("received %+v", m.got)
	})
	return found
}

// startMirror serves a recordingMirror on 127.0.0.1, over TLS when cert
// is set, and returns it with its port.
func startMirror(t *testing.T, hold time.Duration, cert *tls.Certificate) (*recordingMirror, int) {
	t.Helper()
	m := &recordingMirror{hold: hold, done: make(chan struct{})}
	port := serve(t, m, cert)
	t.Cleanup(func() { close(m.done) })
	return m, port
}

// TestAnnotationMirror: mirror-target sends a copy of each request (method,
// path and query, body) to the mirror, with the target's host as Host or
// mirror-host's; the client gets the primary backend's answer, also when
// the mirror is slow or does not answer at all. A target Envoy cannot
// honour (a path of its own) is reported and nothing is mirrored.
// mirror-request-body "on" sends the body; "off", which Envoy cannot
// honour, is reported and nothing of that Ingress is mirrored.
func TestAnnotationMirror(t *testing.T) {
	const hold = 6 * time.Second
	mirror, port := startMirror(t, hold, nil)
	target := "http://127.0.0.1:" + strconv.Itoa(port) + "$request_uri"
	down := "http://127.0.0.1:" + strconv.Itoa(unansweredPort(t)) + "$request_uri"
	s := startStack(t, "delta")
	s.apply(t, "mirror", join(backend(t, "primary"), objs(
		annotated("copied", map[string]string{"mirror-target": target, "mirror-host": "copy.test"},
			rule("copied.test", path(prefix, "/", "primary"))),
		annotated("target-host", map[string]string{"mirror-target": target}, rule("target-host.test", path(prefix, "/", "primary"))),
		annotated("down", map[string]string{"mirror-target": down}, rule("down.test", path(prefix, "/", "primary"))),
		annotated("fixed", map[string]string{"mirror-target": "http://127.0.0.1:" + strconv.Itoa(port) + "/fixed"},
			rule("fixed.test", path(prefix, "/", "primary"))),
		annotated("body-on", map[string]string{"mirror-target": target, "mirror-request-body": "on"}, rule("body-on.test", path(prefix, "/", "primary"))),
		annotated("body-off", map[string]string{"mirror-target": target, "mirror-request-body": "off"}, rule("body-off.test", path(prefix, "/", "primary"))),
	))...)

	t.Run("the_mirror_gets_method_path_host_and_body", func(t *testing.T) {
		s.await(t, call{host: "copied.test", path: "/ready"}, http.StatusOK, "primary")
		// Sent once: a body reader is spent by the first try.
		r := s.must(t, call{method: http.MethodPost, host: "copied.test", path: "/orders/7?q=1", body: strings.NewReader("the body")})
		if r.status != http.StatusOK || r.backend != "primary" || r.echo.Path != "/orders/7" {
			t.Errorf("the client got %d from %q (path %s), want 200 from the primary", r.status, r.backend, r.echo.Path)
		}
		got := mirror.await(t, "/orders/7?q=1")
		if got.method != http.MethodPost || got.host != "copy.test" || got.body != "the body" {
			t.Errorf("the mirror got %+v, want POST with Host copy.test and the body", got)
		}
	})
	t.Run("without_mirror_host_the_copy_has_the_targets_host", func(t *testing.T) {
		s.await(t, call{host: "target-host.test", path: "/th"}, http.StatusOK, "primary")
		if got := mirror.await(t, "/th"); got.host != "127.0.0.1" || got.method != http.MethodGet {
			t.Errorf("the mirror got %+v, want GET with Host 127.0.0.1 (the target's host, without its port)", got)
		}
	})
	t.Run("a_slow_mirror_does_not_delay_the_answer", func(t *testing.T) {
		start := time.Now()
		s.await(t, call{host: "copied.test", path: "/slow"}, http.StatusOK, "primary")
		if took := time.Since(start); took > hold/2 {
			t.Errorf("the answer took %s while the mirror held the copy for %s", took, hold)
		}
		mirror.await(t, "/slow")
	})
	t.Run("a_mirror_that_does_not_answer_does_not_matter", func(t *testing.T) {
		start := time.Now()
		s.await(t, call{host: "down.test", path: "/x"}, http.StatusOK, "primary")
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("the answer took %s", took)
		}
	})
	t.Run("a_target_with_a_path_of_its_own_is_reported_and_mirrors_nothing", func(t *testing.T) {
		waitDiagnostic(t, s, "default/fixed", "InvalidAnnotation", "$request_uri")
		s.await(t, call{host: "fixed.test", path: "/never-mirrored"}, http.StatusOK, "primary")
		// Give a copy, were one sent, the time the others took.
		time.Sleep(500 * time.Millisecond)
		mirror.mu.Lock()
		defer mirror.mu.Unlock()
		for _, g := range mirror.got {
			if strings.Contains(g.uri, "never-mirrored") {
				t.Errorf("the mirror got %+v", g)
			}
		}
	})
	mirrorRequestBody(t, s, mirror)
	expectNoRejection(t, s.envoy)
}

// mirrorRequestBody: with mirror-request-body on the copy carries the
// body; off cannot be honoured (Envoy always sends the body), so it is
// reported and the Ingress mirrors nothing.
func mirrorRequestBody(t *testing.T, s *stack, mirror *recordingMirror) {
	t.Run("mirror_request_body_on_sends_the_body", func(t *testing.T) {
		s.await(t, call{host: "body-on.test", path: "/ready-on"}, http.StatusOK, "primary")
		s.must(t, call{method: http.MethodPost, host: "body-on.test", path: "/with-body", body: strings.NewReader("kept")})
		if got := mirror.await(t, "/with-body"); got.body != "kept" {
			t.Errorf("the mirror got %+v, want the body \"kept\"", got)
		}
	})
	t.Run("mirror_request_body_off_is_reported_and_mirrors_nothing", func(t *testing.T) {
		// Envoy cannot mirror without the body: the Ingress mirrors
		// nothing rather than send bodies it keeps from the mirror.
		waitDiagnostic(t, s, "default/body-off", "AnnotationIgnored", "cannot be honoured")
		s.await(t, call{host: "body-off.test", path: "/ready-body-off"}, http.StatusOK, "primary")
		r := s.must(t, call{method: http.MethodPost, host: "body-off.test", path: "/body-off", body: strings.NewReader("secret")})
		if r.status != http.StatusOK || r.backend != "primary" {
			t.Errorf("the client got %d from %q, want 200 from the primary", r.status, r.backend)
		}
		// A fence: a copy sent after this one's would have been is awaited.
		s.must(t, call{host: "body-on.test", path: "/after-body-off"})
		mirror.await(t, "/after-body-off")
		mirror.mu.Lock()
		defer mirror.mu.Unlock()
		for _, g := range mirror.got {
			if strings.Contains(g.uri, "body-off") && g.uri != "/after-body-off" {
				t.Errorf("the mirror got %+v from an Ingress with mirror-request-body off", g)
			}
		}
	})
}

// TestAnnotationMirrorByNameOverTLS: an https target named by DNS gets
// its copies over TLS, from the addresses Envoy resolves the name to,
// with the name as Host.
func TestAnnotationMirrorByNameOverTLS(t *testing.T) {
	cert := keyPair(t, "mirror.partner.test")
	mirror, port := startMirror(t, time.Second, &cert)
	dns := harness.StartDNS(t)
	dns.Set("mirror.partner.test", netip.MustParseAddr("127.0.0.1"))
	s := startStackWith(t, harness.EnvoyOptions{Mode: "delta", BootstrapArgs: []string{"--dns-resolvers", dns.Address}})
	s.apply(t, "mirror", join(backend(t, "primary"), objs(
		annotated("copied", map[string]string{"mirror-target": "https://mirror.partner.test:" + strconv.Itoa(port) + "$request_uri"},
			rule("copied.test", path(prefix, "/", "primary"))),
	))...)
	s.await(t, call{host: "copied.test", path: "/ready"}, http.StatusOK, "primary")
	s.must(t, call{host: "copied.test", path: "/tls?x=1"})
	if got := mirror.await(t, "/tls?x=1"); got.host != "mirror.partner.test" {
		t.Errorf("the mirror got %+v, want Host mirror.partner.test", got)
	}
	if dns.Queries("mirror.partner.test") == 0 {
		t.Error("Envoy never asked the test's name server")
	}
	expectNoRejection(t, s.envoy)
}
