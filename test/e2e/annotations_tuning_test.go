package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/examples/backend/echo"
)

// tuningBackend serves the proxy tuning case: /big?kib=N answers N KiB,
// /upload reports the moment its request reached it on arrivals (before
// it reads the body) and answers with the body's length, /big-header
// answers with a 10 KiB header; any other path
// is the echo backend "tuning".
func tuningBackend(arrivals chan<- time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			n, err := strconv.Atoi(r.URL.Query().Get("kib"))
			if err != nil || n > 4096 {
				http.Error(w, "bad kib", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(n<<10))
			chunk := []byte(strings.Repeat("x", 1<<10))
			for range n {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/big-header":
			w.Header().Set("X-Big", strings.Repeat("h", 10<<10))
			fmt.Fprint(w, "big header")
		case "/upload":
			select {
			case arrivals <- time.Now():
			default:
			}
			n, _ := bufio.NewReader(r.Body).Discard(1 << 30)
			fmt.Fprintf(w, "%d bytes", n)
		default:
			echo.Handler("tuning").ServeHTTP(w, r)
		}
	})
}

// TestAnnotationLimitRate: limit-rate "50" sends a 200 KiB response at
// 50 KiB/s, so it takes about 4 s;
// without it the same response takes a moment, and two responses at once
// share the route's rate (a difference from nginx). limit-rate-after is
// reported (Envoy cannot start a limit late). The Ingresses are
// translator/testdata/in/e2e_proxy_tuning.yaml.
func TestAnnotationLimitRate(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_proxy_tuning.yaml", echoService(t, "tuning", tuningBackend(nil), nil))
	s.await(t, call{host: "rate.example.com", path: "/"}, http.StatusOK, "tuning")
	s.await(t, call{host: "plain.example.com", path: "/"}, http.StatusOK, "tuning")

	download := func(host string) time.Duration {
		t.Helper()
		began := time.Now()
		r := s.must(t, call{host: host, path: "/big?kib=200"})
		took := time.Since(began)
		t.Logf("%s: 200 KiB in %v", host, took.Round(time.Millisecond))
		if r.status != http.StatusOK || len(r.body) != 200<<10 {
			t.Fatalf("%s: status %d with %d bytes, want 200 with %d", host, r.status, len(r.body), 200<<10)
		}
		return took
	}
	if took := download("plain.example.com"); took > 2*time.Second {
		t.Errorf("without limit-rate 200 KiB took %v, want well under 2 s", took)
	}
	// 200 KiB at 50 KiB/s: 4 s, with room for a burst at the start and the
	// bucket's 50 ms refills.
	if took := download("rate.example.com"); took < 2500*time.Millisecond {
		t.Errorf("with limit-rate 50 (KiB/s) 200 KiB took %v, want about 4 s", took)
	}
	// Two responses at once share the route's rate: 200 KiB in about 4 s
	// (nginx paces each on its own: about 2 s each for 100 KiB).
	var wg sync.WaitGroup
	took := make([]time.Duration, 2)
	for i := range took {
		wg.Go(func() {
			began := time.Now()
			r, err := s.do(call{host: "rate.example.com", path: "/big?kib=100"})
			if err != nil || len(r.body) != 100<<10 {
				t.Errorf("concurrent download: %v, %d bytes", err, len(r.body))
			}
			took[i] = time.Since(began)
		})
	}
	wg.Wait()
	t.Logf("two 100 KiB downloads at once: %v", took)
	if slices.Max(took) < 3*time.Second {
		t.Errorf("two 100 KiB downloads at once took %v: want the route's 50 KiB/s shared, about 4 s for the slower", took)
	}
	waitDiagnostic(t, s, "default/rate", "AnnotationIgnored", "from the first byte")
	expectNoRejection(t, s.envoy)
}

// TestAnnotationProxyRequestBuffering: by default, and with
// proxy-request-buffering "on", the backend gets a request only once its
// whole body has arrived, and a body over the 1m limit gets 413; with
// "off" the request reaches the backend before its body, which streams
// after it, and the limit no longer holds (reported).
func TestAnnotationProxyRequestBuffering(t *testing.T) {
	arrivals := make(chan time.Time, 4)
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_proxy_tuning.yaml", echoService(t, "tuning", tuningBackend(arrivals), nil))
	s.await(t, call{host: "stream.example.com", path: "/"}, http.StatusOK, "tuning")
	s.await(t, call{host: "buffer.example.com", path: "/"}, http.StatusOK, "tuning")

	s.expectStreamed(t, arrivals, "stream.example.com", true)
	s.expectStreamed(t, arrivals, "buffer.example.com", false)
	s.expectStreamed(t, arrivals, "plain.example.com", false)

	large := strings.Repeat("y", 2<<20)
	if r := s.must(t, call{method: http.MethodPost, host: "stream.example.com", path: "/upload", body: strings.NewReader(large)}); r.status != http.StatusOK || r.body != "2097152 bytes" {
		t.Errorf("streamed 2 MiB body: %d %q, want 200 \"2097152 bytes\"", r.status, r.body)
	}
	if r := s.must(t, call{method: http.MethodPost, host: "buffer.example.com", path: "/upload", body: strings.NewReader(large)}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("buffered 2 MiB body: status %d, want 413 (proxy-body-size 1m)", r.status)
	}
	waitDiagnostic(t, s, "default/stream", "AnnotationIgnored", "not enforced")
	expectNoRejection(t, s.envoy)
}

// expectStreamed sends a slow upload to host and checks whether the
// request reached the backend (its moment on arrivals) before the body was
// sent, as when the body streams, or after it, as when Envoy holds it.
func (s *stack) expectStreamed(t *testing.T, arrivals <-chan time.Time, host string, streamed bool) {
	t.Helper()
	bodySent := s.slowUpload(t, host)
	select {
	case arrived := <-arrivals:
		if got := arrived.Before(bodySent); got != streamed {
			t.Errorf("%s: the request reached the backend %v after the body was sent; want streamed (before it) = %v",
				host, arrived.Sub(bodySent).Round(time.Millisecond), streamed)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the backend never got the upload", host)
	}
}

// slowUpload posts a 5-byte body to host's /upload, sending it a second
// after the headers, and returns when the body was sent.
func (s *stack) slowUpload(t *testing.T, host string) time.Time {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.rukou.HTTPPort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", host); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	bodySent := time.Now()
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: upload answered %d", host, resp.StatusCode)
	}
	return bodySent
}

// TestAnnotationConnectionProxyHeader: connection-proxy-header
// "keep-alive" is the Connection header the backend gets, as in
// ingress-nginx's e2e test; proxy-buffer-size bounds the backend's response
// headers; proxy-http-version "1.0" is reported, as is
// enable-rewrite-log (refused), and the rest of the Ingress is served.
func TestAnnotationConnectionProxyHeader(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_proxy_tuning.yaml", echoService(t, "tuning", tuningBackend(nil), nil))
	r := s.await(t, call{host: "conn.example.com", path: "/"}, http.StatusOK, "tuning")
	if got := r.echo.Headers["Connection"]; len(got) != 1 || got[0] != "keep-alive" {
		t.Errorf("with connection-proxy-header the backend saw Connection %q, want [keep-alive]", got)
	}
	r = s.await(t, call{host: "plain.example.com", path: "/"}, http.StatusOK, "tuning")
	if got := r.echo.Headers["Connection"]; len(got) != 0 {
		t.Errorf("without connection-proxy-header the backend saw Connection %q, want none", got)
	}
	// proxy-buffer-size 8k bounds the backend's response headers: a
	// 10 KiB header is a 502, as with nginx's "too big header"; Envoy's
	// own bound (60 KiB) lets it through elsewhere.
	if r := s.must(t, call{host: "conn.example.com", path: "/big-header"}); r.status != http.StatusBadGateway {
		t.Errorf("a 10 KiB response header with proxy-buffer-size 8k: status %d, want 502", r.status)
	}
	if r := s.must(t, call{host: "plain.example.com", path: "/big-header"}); r.status != http.StatusOK || r.body != "big header" {
		t.Errorf("a 10 KiB response header without proxy-buffer-size: %d %q, want 200", r.status, r.body)
	}
	waitDiagnostic(t, s, "default/conn", "AnnotationIgnored", "HTTP/1.1")
	waitDiagnostic(t, s, "default/conn", "AnnotationIgnored", "rewrite")
	expectNoRejection(t, s.envoy)
}

// TestConfigMapProxyTuning: the ConfigMap's proxy-request-buffering "off"
// and limit-rate "50" apply to every Ingress that sets neither: plain
// streams request bodies and is paced; buffer.example.com, with
// proxy-request-buffering "on", still holds bodies whole.
func TestConfigMapProxyTuning(t *testing.T) {
	arrivals := make(chan time.Time, 4)
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"proxy-request-buffering": "off", "limit-rate": "50"})
	s.applyCase(t, "e2e_proxy_tuning.yaml", echoService(t, "tuning", tuningBackend(arrivals), nil))
	s.await(t, call{host: "plain.example.com", path: "/"}, http.StatusOK, "tuning")
	s.await(t, call{host: "buffer.example.com", path: "/"}, http.StatusOK, "tuning")

	s.expectStreamed(t, arrivals, "plain.example.com", true)
	s.expectStreamed(t, arrivals, "buffer.example.com", false)
	began := time.Now()
	r := s.must(t, call{host: "plain.example.com", path: "/big?kib=200"})
	if took := time.Since(began); r.status != http.StatusOK || len(r.body) != 200<<10 || took < 2500*time.Millisecond {
		t.Errorf("200 KiB under the ConfigMap's limit-rate 50: status %d, %d bytes in %v; want all of it in about 4 s", r.status, len(r.body), took)
	}
	expectNoRejection(t, s.envoy)
}
