package e2e

// Helpers of the annotation suites: Ingresses with annotations, requests
// with a chosen method, headers, body and client address, and backends
// that the echo backend cannot stand in for (slow, TLS, gRPC).

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

const nginx = "nginx.ingress.kubernetes.io/"

// annotated is an Ingress of class rukou with nginx.ingress.kubernetes.io
// annotations, given as short name and value pairs.
func annotated(name string, annotations map[string]string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	ing := ingress(name, rules...)
	for k, v := range annotations {
		ing.Annotations[nginx+k] = v
	}
	return ing
}

// call is one request through the stack's Envoy.
type call struct {
	method string
	host   string
	path   string
	header http.Header
	body   io.Reader
	// from is the client's source address (127.0.0.1 when empty); any
	// address of 127.0.0.0/8 is on loopback.
	from string
	// https sends the request to the HTTPS listener, with SNI host.
	https bool
	// proxy, when set, is written first on the connection, before TLS:
	// a PROXY protocol header.
	proxy []byte
	// sni, when set, is the TLS server name instead of host; clientCert,
	// when set, is presented when the server asks for one.
	sni        string
	clientCert *tls.Certificate
}

// reply is what a call got back.
type reply struct {
	status int
	header http.Header
	// echo is the echo backend's report, when one answered.
	echo    *echo.Request
	backend string
	body    string
}

// do sends c once and never follows a redirect.
func (s *stack) do(c call) (reply, error) {
	port, scheme := s.rukou.HTTPPort, "http"
	if c.https {
		port, scheme = s.rukou.HTTPSPort, "https"
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if c.from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(c.from)}
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(port))
			if err != nil || c.proxy == nil {
				return conn, err
			}
			if _, err := conn.Write(c.proxy); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		},
		TLSClientConfig:   clientTLS(c),
		DisableKeepAlives: true,
		// The call's own headers say which encodings it accepts, and the
		// reply is what Envoy sent, not decompressed.
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	host := c.host
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	req, err := http.NewRequest(method, scheme+"://"+host+c.path, c.body)
	if err != nil {
		return reply{}, err
	}
	req.Host = c.host
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	return readReply(resp)
}

// readReply reads a response whole, and the echo backend's report when
// one answered.
func readReply(resp *http.Response) (reply, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if resp.Header.Get("X-Backend") != "" {
		r.echo = &echo.Request{}
		if err := json.Unmarshal(b, r.echo); err != nil {
			return r, fmt.Errorf("echo backend answer: %w", err)
		}
		r.backend = r.echo.Backend
	}
	return r, nil
}

// clientTLS is the TLS configuration of a call: any server certificate,
// and the call's client certificate whatever CAs the server names.
func clientTLS(c call) *tls.Config {
	conf := &tls.Config{ServerName: c.host, InsecureSkipVerify: true}
	if c.sni != "" {
		conf.ServerName = c.sni
	}
	if c.clientCert != nil {
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c.clientCert, nil }
	}
	return conf
}

// must sends c once and fails the test when it gets no answer.
func (s *stack) must(t *testing.T, c call) reply {
	t.Helper()
	r, err := s.do(c)
	if err != nil {
		t.Fatalf("%s %s%s: %v", c.method, c.host, c.path, err)
	}
	return r
}

// await waits until c answers with status (and from backend, when not
// empty): the configuration has reached Envoy.
func (s *stack) await(t *testing.T, c call, status int, backend string) reply {
	t.Helper()
	var last reply
	harness.Eventually(t, 15*time.Second, fmt.Sprintf("%s%s answers %d from %q", c.host, c.path, status, backend), func() error {
		r, err := s.do(c)
		if err != nil {
			return err
		}
		last = r
		if r.status != status || (backend != "" && r.backend != backend) {
			return fmt.Errorf("got %d from %q", r.status, r.backend)
		}
		return nil
	})
	return last
}

// headers builds an http.Header from name, value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// serve runs handler on 127.0.0.1 until the test ends, over TLS when cert
// is not nil, and returns its port.
func serve(t *testing.T, handler http.Handler, cert *tls.Certificate) int {
	t.Helper()
	var conf *tls.Config
	if cert != nil {
		conf = &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}}
	}
	return serveTLS(t, handler, conf)
}

// serveTLS runs handler on 127.0.0.1 until the test ends, over TLS with
// conf when it is not nil, and returns its port.
func serveTLS(t *testing.T, handler http.Handler, conf *tls.Config) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	if conf != nil {
		l = tls.NewListener(l, conf)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// keyPair is a certificate and key for host, signed by a throwaway CA.
func keyPair(t *testing.T, host string) tls.Certificate {
	t.Helper()
	secret := newTestCA(t).secret(t, "unused", 1, host)
	pair, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// echoService is a Service named name whose one endpoint serves handler.
func echoService(t *testing.T, name string, handler http.Handler, cert *tls.Certificate) []runtime.Object {
	t.Helper()
	return serviceWith(name, endpoint(serve(t, handler, cert), true, nil))
}

// sleepy is the echo backend name that first sleeps for the query's
// sleep duration (at most 5 s). With trickle=N it instead streams N lines,
// one every 300 ms, after its headers.
func sleepy(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, err := strconv.Atoi(r.URL.Query().Get("trickle")); err == nil && n <= 20 {
			for i := range n {
				fmt.Fprintf(w, "line %d\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(300 * time.Millisecond)
			}
			return
		}
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil && d <= 5*time.Second {
			time.Sleep(d)
		}
		echo.Handler(name).ServeHTTP(w, r)
	})
}

// expectNoRejection fails the test when Envoy rejected any configuration.
func expectNoRejection(t *testing.T, e *harness.Envoy) {
	t.Helper()
	stats, err := e.Admin.Stats(t.Context(), "update_rejected")
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range stats {
		if n != 0 {
			t.Errorf("Envoy rejected configuration: %s = %d", name, n)
		}
	}
}
