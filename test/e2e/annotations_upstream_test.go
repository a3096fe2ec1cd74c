package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// TestAnnotationUpstreamVhostAndForwardedPrefix: upstream-vhost replaces
// the Host header the backend sees; x-forwarded-prefix adds the
// X-Forwarded-Prefix header (replacing one the client sent) where
// rewrite-target rewrites the path, and only there, as in ingress-nginx.
func TestAnnotationUpstreamVhostAndForwardedPrefix(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "upstream", join(backend(t, "internal"), objs(
		annotated("vhost", map[string]string{"upstream-vhost": "internal.svc.local", "x-forwarded-prefix": "/public"},
			rule("vhost.test", path(prefix, "/", "internal"))),
		annotated("prefixed", map[string]string{"use-regex": "true", "rewrite-target": "/$2", "x-forwarded-prefix": "/public"},
			rule("prefixed.test", path(implSp, "/public(/|$)(.*)", "internal"))),
		ingress("plain", rule("plain.test", path(prefix, "/", "internal"))),
	))...)
	r := s.await(t, call{host: "vhost.test", path: "/x", header: headers("X-Forwarded-Prefix", "/spoofed")}, http.StatusOK, "internal")
	if r.echo.Host != "internal.svc.local" {
		t.Errorf("backend saw Host %q, want internal.svc.local", r.echo.Host)
	}
	if got := r.echo.Headers["X-Forwarded-Prefix"]; len(got) != 1 || got[0] != "/spoofed" {
		t.Errorf("without rewrite-target, X-Forwarded-Prefix = %q, want the client's [/spoofed] untouched", got)
	}
	waitDiagnostic(t, s, "default/vhost", "AnnotationIgnored", "rewrite-target")
	r = s.await(t, call{host: "prefixed.test", path: "/public/x", header: headers("X-Forwarded-Prefix", "/spoofed")}, http.StatusOK, "internal")
	if got := r.echo.Headers["X-Forwarded-Prefix"]; len(got) != 1 || got[0] != "/public" || r.echo.Path != "/x" {
		t.Errorf("rewritten to %q with X-Forwarded-Prefix = %q, want /x with [/public]", r.echo.Path, got)
	}
	r = s.await(t, call{host: "plain.test", path: "/x"}, http.StatusOK, "internal")
	if r.echo.Host != "plain.test" || r.echo.Headers["X-Forwarded-Prefix"] != nil {
		t.Errorf("without annotations the backend saw Host %q and X-Forwarded-Prefix %q", r.echo.Host, r.echo.Headers["X-Forwarded-Prefix"])
	}
}

// TestAnnotationBackendProtocol: HTTPS speaks TLS to the backend without
// verifying its certificate, GRPC speaks HTTP/2 in clear text, GRPCS HTTP/2
// over TLS; FCGI is reported and its paths answer 503.
func TestAnnotationBackendProtocol(t *testing.T) {
	cert := keyPair(t, "backend.internal")
	tlsEcho := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("X-Backend-TLS", r.TLS.ServerName+"|"+strconv.Itoa(int(r.TLS.Version)))
		}
		echo.Handler("tls-backend").ServeHTTP(w, r)
	})
	s := startStack(t, "delta")
	s.apply(t, "protocols", join(
		echoService(t, "https-backend", tlsEcho, &cert),
		serviceWith("grpc-backend", endpoint(grpcServer(t, nil), true, nil)),
		serviceWith("grpcs-backend", endpoint(grpcServer(t, &cert), true, nil)),
		backend(t, "fcgi-backend"),
		objs(
			annotated("https", map[string]string{"backend-protocol": "HTTPS"}, rule("https.test", path(prefix, "/", "https-backend"))),
			// The same Service without the annotation is spoken to in
			// clear text, which its TLS port refuses.
			ingress("https-as-http", rule("cleartext.test", path(prefix, "/", "https-backend"))),
			annotated("grpc", map[string]string{"backend-protocol": "GRPC"}, rule("grpc.test", path(prefix, "/", "grpc-backend"))),
			annotated("grpcs", map[string]string{"backend-protocol": "grpcs"}, rule("grpcs.test", path(prefix, "/", "grpcs-backend"))),
			annotated("fcgi", map[string]string{"backend-protocol": "FCGI"}, rule("fcgi.test", path(prefix, "/", "fcgi-backend"))),
		),
	)...)

	t.Run("https_speaks_tls_to_the_backend_without_verifying_it", func(t *testing.T) {
		r := s.await(t, call{host: "https.test", path: "/secure"}, http.StatusOK, "tls-backend")
		if got := r.header.Get("X-Backend-TLS"); got == "" {
			t.Error("the backend did not receive the request over TLS")
		} else if sni, _, _ := strings.Cut(got, "|"); sni != "" {
			t.Errorf("Envoy sent SNI %q; ingress-nginx sends none by default", sni)
		}
		if r := s.must(t, call{host: "cleartext.test", path: "/"}); r.status == http.StatusOK {
			t.Errorf("clear text to a TLS port answered %d", r.status)
		}
	})
	for _, c := range []struct{ name, host string }{
		{"grpc_speaks_h2c_to_the_backend", "grpc.test"},
		{"grpcs_speaks_h2_over_tls_to_the_backend", "grpcs.test"},
	} {
		t.Run(c.name, func(t *testing.T) {
			harness.Eventually(t, 15*time.Second, "gRPC health check through Envoy", func() error {
				return grpcHealth(s, c.host)
			})
		})
	}
	t.Run("fcgi_is_reported_and_answers_503", func(t *testing.T) {
		waitDiagnostic(t, s, "default/fcgi", "BackendProtocolUnsupported", "FCGI")
		s.await(t, call{host: "fcgi.test", path: "/"}, http.StatusServiceUnavailable, "")
	})
	expectNoRejection(t, s.envoy)
}

// grpcServer serves the gRPC health service on 127.0.0.1, over TLS when
// cert is set, and returns its port.
func grpcServer(t *testing.T, cert *tls.Certificate) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if cert != nil {
		opts = append(opts, grpc.Creds(credentials.NewServerTLSFromCert(cert)))
	}
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().(*net.TCPAddr).Port
}

// grpcHealth calls the health service through Envoy's plain listener over
// h2c, with authority host.
func grpcHealth(s *stack, host string) error {
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(s.rukou.HTTPPort),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(host))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health status %s", resp.Status)
	}
	return nil
}

// TestAnnotationProxyTimeouts: proxy-read-timeout bounds each silence of
// the backend, as nginx's does: 504 when the response has not started in
// time, while a response that keeps coming runs longer than the timeout;
// proxy-send-timeout alone never cuts a response that arrives within the
// read timeout.
func TestAnnotationProxyTimeouts(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "timeouts", join(echoService(t, "slow", sleepy("slow"), nil), objs(
		// One try: nginx's default "error timeout" would try a silent
		// backend three times, a second each (TestProxyNextUpstream).
		annotated("read", map[string]string{"proxy-read-timeout": "1", "proxy-next-upstream-tries": "1"}, rule("read.test", path(prefix, "/", "slow"))),
		annotated("send", map[string]string{"proxy-send-timeout": "1"}, rule("send.test", path(prefix, "/", "slow"))),
		annotated("connect", map[string]string{"proxy-connect-timeout": "2"}, rule("connect.test", path(prefix, "/", "slow"))),
	))...)
	s.await(t, call{host: "read.test", path: "/"}, http.StatusOK, "slow")

	t.Run("read_timeout_answers_504", func(t *testing.T) {
		start := time.Now()
		r := s.must(t, call{host: "read.test", path: "/?sleep=3s"})
		if took := time.Since(start); r.status != http.StatusGatewayTimeout || took > 2500*time.Millisecond {
			t.Errorf("a 3 s backend behind a 1 s read timeout: %d after %v, want 504 after about 1 s", r.status, took)
		}
	})
	t.Run("streaming_response_outlives_read_timeout", func(t *testing.T) {
		// 8 lines, 300 ms apart: 2.4 s in all, behind a 1 s read timeout.
		r, err := s.do(call{host: "read.test", path: "/?trickle=8"})
		if err != nil || r.status != http.StatusOK || strings.Count(r.body, "line ") != 8 {
			t.Errorf("a response streaming for 2.4 s behind a 1 s read timeout: %d with %d of 8 lines (%v)", r.status, strings.Count(r.body, "line "), err)
		}
	})
	t.Run("response_within_read_timeout_is_served", func(t *testing.T) {
		s.await(t, call{host: "read.test", path: "/?sleep=200ms"}, http.StatusOK, "slow")
	})
	t.Run("send_timeout_does_not_cut_a_slow_response", func(t *testing.T) {
		s.await(t, call{host: "send.test", path: "/?sleep=2s"}, http.StatusOK, "slow")
	})
	t.Run("connect_timeout_keeps_the_backend_reachable", func(t *testing.T) {
		s.await(t, call{host: "connect.test", path: "/"}, http.StatusOK, "slow")
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationProxyConnectTimeout: a backend that never completes the
// TCP handshake gets 503 once proxy-connect-timeout has passed, and Envoy
// counts it as a connect timeout. A connect timeout is an error that
// ingress-nginx's default proxy-next-upstream retries (3 tries in all,
// each waiting the timeout out), so the ConfigMap's
// proxy-next-upstream-tries: "1" leaves one try, whose time is measured.
func TestAnnotationProxyConnectTimeout(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"proxy-next-upstream-tries": "1"})
	s.apply(t, "connect", join(serviceWith("silent", endpoint(unansweredPort(t), true, nil)), backend(t, "ready"), objs(
		annotated("one", map[string]string{"proxy-connect-timeout": "1"},
			rule("one.test", path(prefix, "/", "silent"), path(prefix, "/ready", "ready"))),
		annotated("three", map[string]string{"proxy-connect-timeout": "3"},
			rule("three.test", path(prefix, "/", "silent"), path(prefix, "/ready", "ready"))),
	))...)
	// Envoy has a route's clusters before the route, so once /ready is
	// served, so is /.
	s.await(t, call{host: "one.test", path: "/ready"}, http.StatusOK, "ready")
	s.await(t, call{host: "three.test", path: "/ready"}, http.StatusOK, "ready")
	for _, c := range []struct {
		host     string
		min, max time.Duration
	}{
		{"one.test", 800 * time.Millisecond, 2500 * time.Millisecond},
		{"three.test", 2800 * time.Millisecond, 4500 * time.Millisecond},
	} {
		start := time.Now()
		r := s.must(t, call{host: c.host, path: "/"})
		if took := time.Since(start); r.status != http.StatusServiceUnavailable || took < c.min || took > c.max {
			t.Errorf("%s: %d after %v, want 503 after %v to %v", c.host, r.status, took.Round(time.Millisecond), c.min, c.max)
		}
	}
	stats, err := s.envoy.Admin.Stats(t.Context(), "upstream_cx_connect_timeout")
	if err != nil {
		t.Fatal(err)
	}
	for _, cluster := range []string{"default_silent_80_connect-1s", "default_silent_80_connect-3s"} { // stat names of the clusters
		if n := stats["cluster."+cluster+".upstream_cx_connect_timeout"]; n == 0 {
			t.Errorf("Envoy counted no connect timeout for %s: %v", cluster, stats)
		}
	}
	expectNoRejection(t, s.envoy)
}

// unansweredPort is a port on 127.0.0.1 whose accept queue is full and
// never drained: the kernel drops every further SYN, so a connection to it
// neither succeeds nor fails until the client gives up, as with a backend
// behind a dead network path.
func unansweredPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	// A backlog of 0 holds one connection.
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break // full: this SYN was dropped
		}
		t.Cleanup(func() { c.Close() })
		if i == 8 {
			t.Fatalf("127.0.0.1:%d still accepts connections after %d; cannot make a port that never answers", port, i+1)
		}
	}
	return port
}

// TestAnnotationProxyBodySize: a body over proxy-body-size gets 413, with a
// Content-Length or chunked; "0" means no limit, and without the
// annotation the limit is ingress-nginx's default, 1m.
func TestAnnotationProxyBodySize(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "body", join(backend(t, "upload"), objs(
		annotated("small", map[string]string{"proxy-body-size": "1k"}, rule("small.test", path(prefix, "/", "upload"))),
		annotated("unlimited", map[string]string{"proxy-body-size": "0"}, rule("unlimited.test", path(prefix, "/", "upload"))),
		annotated("large", map[string]string{"proxy-body-size": "8m"}, rule("large.test", path(prefix, "/", "upload"))),
		ingress("default", rule("default.test", path(prefix, "/", "upload"))),
	))...)
	post := func(host string, size int, chunked bool) reply {
		var body io.Reader = strings.NewReader(strings.Repeat("x", size))
		if chunked {
			body = io.MultiReader(body) // no length: sent chunked
		}
		return s.must(t, call{method: http.MethodPost, host: host, path: "/upload", body: body})
	}
	s.await(t, call{host: "small.test", path: "/"}, http.StatusOK, "upload")
	for _, c := range []struct {
		name    string
		host    string
		size    int
		chunked bool
		status  int
	}{
		{"at_the_limit_is_served", "small.test", 1024, false, http.StatusOK},
		{"over_the_limit_answers_413", "small.test", 1025, false, http.StatusRequestEntityTooLarge},
		{"chunked_over_the_limit_answers_413", "small.test", 4096, true, http.StatusRequestEntityTooLarge},
		{"zero_means_no_limit", "unlimited.test", 2 << 20, false, http.StatusOK},
		{"no_annotation_serves_1m", "default.test", 1 << 20, false, http.StatusOK},
		{"no_annotation_answers_413_over_1m", "default.test", 2 << 20, false, http.StatusRequestEntityTooLarge},
		{"no_annotation_answers_413_over_1m_chunked", "default.test", 2 << 20, true, http.StatusRequestEntityTooLarge},
		{"8m_serves_2m", "large.test", 2 << 20, true, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := post(c.host, c.size, c.chunked)
			if r.status != c.status {
				t.Fatalf("POST of %d bytes to %s: %d, want %d", c.size, c.host, r.status, c.status)
			}
			if r.status == http.StatusOK && r.echo.BodyBytes != int64(c.size) {
				t.Errorf("the backend received %d bytes of %d", r.echo.BodyBytes, c.size)
			}
		})
	}
	expectNoRejection(t, s.envoy)
}
