package e2e

// End-to-end tests of the ConfigMap's HTTP settings: compression, client
// connections (keep-alive, HTTP/2, header limits and timeouts) and the
// Server header, through a real Envoy.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// pages serves /?size=N&type=T: N bytes of text of media type T
// (text/html by default), with their Content-Length and a Server header of
// the backend's own.
func pages() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("size"))
		typ := r.URL.Query().Get("type")
		if typ == "" {
			typ = "text/html"
		}
		body := pageBody(min(n, 1<<20))
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Server", "pages/1.0")
		_, _ = w.Write(body)
	})
}

// pageBody is n bytes of repetitive text, which compresses well.
func pageBody(n int) []byte {
	return bytes.Repeat([]byte("<p>rukou</p>\n"), n/13+1)[:n]
}

// encodedReply is a reply whose body is decoded, with the size it had on
// the wire.
type encodedReply struct {
	reply
	wire int
}

// encoded sends c with Accept-Encoding (none when empty) and returns the
// Content-Encoding of the reply with its body, decoded when gzip.
func (s *stack) encoded(t *testing.T, c call, accept string) (string, encodedReply) {
	t.Helper()
	c.header = c.header.Clone()
	if c.header == nil {
		c.header = http.Header{}
	}
	if accept != "" {
		c.header.Set("Accept-Encoding", accept)
	}
	r := encodedReply{reply: s.must(t, c)}
	r.wire = len(r.body)
	enc := r.header.Get("Content-Encoding")
	if enc == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(r.body))
		if err != nil {
			t.Fatalf("%s: a gzip body that does not read: %v", c.path, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: a gzip body that does not read: %v", c.path, err)
		}
		r.body = string(b)
	}
	return enc, r
}

// TestConfigMapCompression: no compressor runs by default (a client that
// accepts gzip gets the body as the backend sent it, and Envoy has no
// compressor statistics); use-gzip and enable-brotli, written while rukou
// runs, compress a large text/html response for clients that accept the
// method, not a small one, not a type that is not listed, not for a
// client that accepts neither, and not gzip for a user agent that
// gzip-disable names. Brotli wins where a client accepts both.
func TestConfigMapCompression(t *testing.T) {
	s := startConfigMapStack(t)
	s.apply(t, "pages", join(echoService(t, "pages", pages(), nil), objs(ingress("pages", rule("pages.test", path(prefix, "/", "pages")))))...)
	large := call{host: "pages.test", path: "/?size=4000"}
	s.await(t, large, http.StatusOK, "")
	if enc, r := s.encoded(t, large, "gzip"); enc != "" || len(r.body) != 4000 {
		t.Errorf("by default, a client accepting gzip: Content-Encoding %q, %d bytes; want none, 4000", enc, len(r.body))
	}
	if stats, err := s.envoy.Admin.Stats(t.Context(), "compressor"); err != nil || len(stats) != 0 {
		t.Errorf("by default Envoy has compressor statistics %v (%v), want no compressor at all", stats, err)
	}

	s.applyConfigMap(t, map[string]string{"use-gzip": "true", "enable-brotli": "true", "gzip-disable": "msie6"})
	harness.Eventually(t, 15*time.Second, "gzip applies", func() error {
		if enc, _ := s.encoded(t, large, "gzip"); enc != "gzip" {
			return fmt.Errorf("Content-Encoding %q", enc)
		}
		return nil
	})
	for _, c := range []struct {
		name, path, accept, userAgent, want string
	}{
		{"large_html_gzip", "/?size=4000", "gzip", "", "gzip"},
		{"large_html_brotli", "/?size=4000", "br", "", "br"},
		{"brotli_preferred_over_gzip", "/?size=4000", "gzip, deflate, br", "", "br"},
		{"quality_values_decide", "/?size=4000", "gzip;q=1.0, br;q=0.5", "", "gzip"},
		{"listed_type", "/?size=4000&type=text/css;+charset=utf-8", "gzip", "", "gzip"},
		{"small_under_gzip_min_length", "/?size=200", "gzip", "", ""},
		{"small_over_brotli_min_length", "/?size=200", "br", "", "br"},
		{"tiny_under_brotli_min_length", "/?size=10", "br", "", ""},
		{"type_not_listed", "/?size=4000&type=application/octet-stream", "gzip, br", "", ""},
		{"client_accepts_neither", "/?size=4000", "", "", ""},
		{"client_accepts_another", "/?size=4000", "deflate", "", ""},
		{"gzip_disable_user_agent", "/?size=4000", "gzip", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", ""},
		{"gzip_disable_other_user_agent", "/?size=4000", "gzip", "Mozilla/5.0 (X11; Linux x86_64)", "gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := call{host: "pages.test", path: c.path}
			if c.userAgent != "" {
				cl.header = headers("User-Agent", c.userAgent)
			}
			enc, r := s.encoded(t, cl, c.accept)
			if r.status != http.StatusOK || enc != c.want {
				t.Fatalf("%d with Content-Encoding %q, want 200 with %q", r.status, enc, c.want)
			}
			size, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(c.path, "&", 2)[0], "/?size="))
			switch {
			case enc == "gzip" && r.body != string(pageBody(size)):
				t.Errorf("the gunzipped body differs from the backend's %d bytes", size)
			case enc == "br" && len(r.body) >= size:
				t.Errorf("a brotli body of %d bytes for %d bytes of text", len(r.body), size)
			case enc == "" && len(r.body) != size:
				t.Errorf("an uncompressed body of %d bytes, want %d", len(r.body), size)
			}
			if enc != "" && !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Accept-Encoding") {
				t.Errorf("a compressed response with Vary %q, want Accept-Encoding", r.header.Values("Vary"))
			}
			if enc != "" {
				t.Logf("%d bytes sent as %d bytes of %s", size, r.wire, enc)
			}
		})
	}

	// nginx's "*" compresses every type.
	s.applyConfigMap(t, map[string]string{"use-gzip": "true", "gzip-types": "*"})
	harness.Eventually(t, 15*time.Second, "gzip-types * compresses application/octet-stream", func() error {
		if enc, _ := s.encoded(t, call{host: "pages.test", path: "/?size=4000&type=application/octet-stream"}, "gzip"); enc != "gzip" {
			return fmt.Errorf("Content-Encoding %q", enc)
		}
		return nil
	})
	expectNoRejection(t, s.envoy)
}

// connectionLife sends up to n requests for host one after the other on
// one connection to port, and returns the Connection header of each
// response, stopping when the connection closes; closed says whether
// Envoy closed it after the last response.
func connectionLife(port int, host string, n int) (connection []string, closed bool, err error) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, false, err
	}
	br := bufio.NewReader(conn)
	for range n {
		if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
			break
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// Go's reader takes Connection: close out of the header into
		// Close.
		if resp.Close {
			connection = append(connection, "close")
			break
		}
		connection = append(connection, resp.Header.Get("Connection"))
	}
	// A closed connection reads EOF at once; an open one waits.
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return nil, false, err
	}
	_, err = br.ReadByte()
	return connection, errors.Is(err, io.EOF), nil
}

// TestConfigMapClientConnections: keep-alive-requests: "2" closes a
// client's connection after its second request (Connection: close);
// keep-alive: "0" after each request; large-client-header-buffers
// "4 1k" refuses requests whose headers exceed 4 KiB with 431;
// client-header-timeout: "2" closes a connection whose headers do not end
// within about 2 s. Each applies while rukou runs, without a restart; an
// unusable keep-alive-requests is reported and its default applies.
func TestConfigMapClientConnections(t *testing.T) {
	s := startConfigMapStack(t)
	s.apply(t, "site", join(backend(t, "echo"), objs(ingress("site", rule("conn.test", path(prefix, "/", "echo")))))...)
	s.await(t, call{host: "conn.test", path: "/"}, http.StatusOK, "echo")
	if got, closed, err := connectionLife(s.rukou.HTTPPort, "conn.test", 3); err != nil || len(got) != 3 || closed {
		t.Errorf("by default, 3 requests on one connection: Connection headers %q, closed %v (%v); want 3 answers on an open connection", got, closed, err)
	}

	pid := s.rukou.PID()
	s.applyConfigMap(t, map[string]string{"keep-alive-requests": "2", "large-client-header-buffers": "4 1k", "client-header-timeout": "2"})
	harness.Eventually(t, 15*time.Second, "the connection closes after 2 requests", func() error {
		got, closed, err := connectionLife(s.rukou.HTTPPort, "conn.test", 3)
		if err != nil || len(got) != 2 || got[1] != "close" || !closed {
			return fmt.Errorf("Connection headers %q, closed %v (%v)", got, closed, err)
		}
		return nil
	})
	t.Run("large_client_header_buffers", func(t *testing.T) {
		for _, c := range []struct {
			size int
			want int
		}{{2048, http.StatusOK}, {3000, http.StatusOK}, {5000, http.StatusRequestHeaderFieldsTooLarge}} {
			r := s.must(t, call{host: "conn.test", path: "/", header: headers("X-Big", strings.Repeat("b", c.size))})
			if r.status != c.want {
				t.Errorf("a %d-byte header under \"4 1k\": %d, want %d", c.size, r.status, c.want)
			}
		}
	})
	t.Run("client_header_timeout", func(t *testing.T) {
		took, answer := unfinishedHeaders(t, s.rukou.HTTPPort)
		t.Logf("headers that never end: closed after %v, answered %q", took, answer)
		if took < 1500*time.Millisecond || took > 6*time.Second {
			t.Errorf("headers that never end: closed after %v (answer %q), want about 2 s", took, answer)
		}
	})

	s.applyConfigMap(t, map[string]string{"keep-alive": "0"})
	harness.Eventually(t, 15*time.Second, "every response closes its connection", func() error {
		got, closed, err := connectionLife(s.rukou.HTTPPort, "conn.test", 2)
		if err != nil || len(got) != 1 || got[0] != "close" || !closed {
			return fmt.Errorf("Connection headers %q, closed %v (%v)", got, closed, err)
		}
		return nil
	})

	// A value that cannot be used is reported on its key, and the default
	// (1000 requests) applies.
	s.applyConfigMap(t, map[string]string{"keep-alive-requests": "many"})
	expectConfigMapDiagnostic(t, s, "data[keep-alive-requests]", "InvalidConfigValue")
	harness.Eventually(t, 15*time.Second, "connections stay open again", func() error {
		got, closed, err := connectionLife(s.rukou.HTTPPort, "conn.test", 3)
		if err != nil || len(got) != 3 || closed {
			return fmt.Errorf("Connection headers %q, closed %v (%v)", got, closed, err)
		}
		return nil
	})
	if s.rukou.Exited() || s.rukou.PID() != pid {
		t.Error("rukou restarted to apply the ConfigMap")
	}
	expectNoRejection(t, s.envoy)
}

// unfinishedHeaders opens a connection, sends a request line and one
// header but never the blank line, and returns how long Envoy took to
// close it, with the first line of what it answered.
func unfinishedHeaders(t *testing.T, port int) (time.Duration, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if err := conn.SetDeadline(start.Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: conn.test\r\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(conn)
	line, _, _ := strings.Cut(string(b), "\r\n")
	return time.Since(start), line
}

// negotiated is the protocol a TLS client offering h2 and http/1.1 gets
// from the HTTPS listener for host.
func negotiated(port int, host string) (string, error) {
	conn, err := dialALPN(port, host)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().NegotiatedProtocol, nil
}

func dialALPN(port int, host string) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return tls.DialWithDialer(d, "tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{
		ServerName: host, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"},
	})
}

// maxConcurrentStreams is the SETTINGS_MAX_CONCURRENT_STREAMS that the
// HTTPS listener announces in its first SETTINGS frame over HTTP/2 (0 when
// it announces none).
func maxConcurrentStreams(port int, host string) (uint32, error) {
	conn, err := dialALPN(port, host)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return 0, err
	}
	// The client preface, then an empty SETTINGS frame.
	if _, err := io.WriteString(conn, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"); err != nil {
		return 0, err
	}
	var head [9]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return 0, err
	}
	if head[3] != 0x4 {
		return 0, fmt.Errorf("first frame of type %d, want SETTINGS", head[3])
	}
	payload := make([]byte, int(head[0])<<16|int(head[1])<<8|int(head[2]))
	if _, err := io.ReadFull(conn, payload); err != nil {
		return 0, err
	}
	for i := 0; i+6 <= len(payload); i += 6 {
		if id := uint16(payload[i])<<8 | uint16(payload[i+1]); id == 0x3 {
			return uint32(payload[i+2])<<24 | uint32(payload[i+3])<<16 | uint32(payload[i+4])<<8 | uint32(payload[i+5]), nil
		}
	}
	return 0, nil
}

// TestConfigMapHTTP2AndServerHeader: TLS clients get HTTP/2 by default,
// with 128 concurrent streams (16 with http2-max-concurrent-streams: "16"),
// and HTTP/1.1 with use-http2: "false". No response carries a Server header by
// default (as ingress-nginx's server-tokens: "false"), neither a backend's
// nor one of Envoy's own answers; server-tokens: "true" names the proxy
// (envoy) on both; allow-backend-server-header: "true" passes the
// backend's on.
func TestConfigMapHTTP2AndServerHeader(t *testing.T) {
	s := startConfigMapStack(t)
	ca := newTestCA(t)
	s.apply(t, "secure", join(echoService(t, "secure", pages(), nil), objs(
		ca.secret(t, "secure-tls", 1, "secure.test"),
		tlsIngress("secure", "secure.test", "secure-tls"),
	))...)
	page := call{host: "secure.test", path: "/?size=10", https: true}
	missing := call{host: "nothing.test", path: "/"}
	s.await(t, page, http.StatusOK, "")
	if p, err := negotiated(s.rukou.HTTPSPort, "secure.test"); err != nil || p != "h2" {
		t.Errorf("by default a TLS client negotiates %q (%v), want h2", p, err)
	}
	if n, err := maxConcurrentStreams(s.rukou.HTTPSPort, "secure.test"); err != nil || n != 128 {
		t.Errorf("by default HTTP/2 announces %d concurrent streams (%v), want 128", n, err)
	}
	s.applyConfigMap(t, map[string]string{"http2-max-concurrent-streams": "16"})
	harness.Eventually(t, 15*time.Second, "HTTP/2 announces 16 concurrent streams", func() error {
		if n, err := maxConcurrentStreams(s.rukou.HTTPSPort, "secure.test"); err != nil || n != 16 {
			return fmt.Errorf("%d (%v)", n, err)
		}
		return nil
	})
	servers := func() (string, string) {
		return strings.Join(s.must(t, page).header.Values("Server"), ","), strings.Join(s.must(t, missing).header.Values("Server"), ",")
	}
	if proxied, own := servers(); proxied != "" || own != "" {
		t.Errorf("by default: Server %q on a proxied response, %q on a 404 of Envoy's own; want none", proxied, own)
	}

	s.applyConfigMap(t, map[string]string{"use-http2": "false", "server-tokens": "true"})
	harness.Eventually(t, 15*time.Second, "TLS clients negotiate HTTP/1.1", func() error {
		if p, err := negotiated(s.rukou.HTTPSPort, "secure.test"); err != nil || p != "http/1.1" {
			return fmt.Errorf("negotiated %q (%v)", p, err)
		}
		return nil
	})
	if proxied, own := servers(); proxied != "envoy" || own != "envoy" {
		t.Errorf("server-tokens true: Server %q on a proxied response, %q on a 404; want envoy on both", proxied, own)
	}

	s.applyConfigMap(t, map[string]string{"allow-backend-server-header": "true"})
	harness.Eventually(t, 15*time.Second, "the backend's Server header passes", func() error {
		if proxied, own := servers(); proxied != "pages/1.0" || own != "" {
			return fmt.Errorf("Server %q on a proxied response, %q on a 404", proxied, own)
		}
		return nil
	})
	expectNoRejection(t, s.envoy)
}
