package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// accessLine is ingress-nginx's default log-format-upstream, one group per
// variable:
// $remote_addr - $remote_user [$time_local] "$request" $status
// $body_bytes_sent "$http_referer" "$http_user_agent" $request_length
// $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name]
// $upstream_addr $upstream_response_length $upstream_response_time
// $upstream_status $req_id
var accessLine = regexp.MustCompile(`^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d+) (\d+) "([^"]*)" "([^"]*)" (\d+) (\d+\.\d{3}) \[([^\]]*)\] \[([^\]]*)\] (\S+) (\S+) (\S+) (\S+) (\S+)$`)

// logFields are the variables of one line, by name.
type logFields map[string]string

var logNames = []string{"remote_addr", "remote_user", "time_local", "request", "status", "body_bytes_sent", "http_referer",
	"http_user_agent", "request_length", "request_time", "proxy_upstream_name", "proxy_alternative_upstream_name",
	"upstream_addr", "upstream_response_length", "upstream_response_time", "upstream_status", "req_id"}

// TestAccessLog: every request, proxied, redirected or unrouted (with
// enable-access-log-for-default-backend, which logs the requests no rule
// serves), leaves exactly one line on Envoy's standard output in
// ingress-nginx's default format, and each field is what nginx would log
// for the same request (docs/edge.md lists the differences that remain).
func TestAccessLog(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{"enable-access-log-for-default-backend": "true"})
	webPort, nextPort, silentPort := harnessBackend(t, "web"), harnessBackend(t, "next"), silentBackend(t)
	s.apply(t, "accesslog", join(
		serviceWith("web", endpoint(webPort, true, nil)),
		serviceWith("next", endpoint(nextPort, true, nil)),
		serviceWith("silent", endpoint(silentPort, true, nil)),
		objs(
			ingress("site", rule("log.test", path(prefix, "/", "web"))),
			ingress("silent", rule("silent.test", path(prefix, "/", "silent"))),
			annotated("beta", map[string]string{"canary": "true", "canary-by-header": "x-canary"}, rule("log.test", path(prefix, "/", "next"))),
			annotated("moved", map[string]string{"permanent-redirect": "https://elsewhere.test/new"}, rule("moved.test", path(prefix, "/", "web"))),
		),
	)...)
	s.await(t, call{host: "log.test", path: "/", header: headers("X-Canary", "always")}, http.StatusOK, "next")
	s.await(t, call{host: "moved.test", path: "/"}, http.StatusMovedPermanently, "")

	web := "127.0.0.1:" + strconv.Itoa(webPort)
	next := "127.0.0.1:" + strconv.Itoa(nextPort)
	cases := []struct {
		name    string
		from    string
		request string // the request line
		host    string
		extra   string // more header lines
		body    string
		status  int
		// want are the fields that do not depend on the answer; the
		// body sizes, upstream status and times are checked against the
		// response below.
		want logFields
	}{
		{
			name: "proxied", from: "127.0.0.5", request: "GET /shop/items?page=2 HTTP/1.1", host: "log.test", status: 200,
			want: logFields{"proxy_upstream_name": "default-web-80", "proxy_alternative_upstream_name": "", "upstream_addr": web},
		},
		{
			name: "proxied_post_with_body", from: "127.0.0.6", request: "POST /form HTTP/1.1", host: "log.test", status: 200,
			extra: "Content-Type: text/plain\r\n", body: "hello, log",
			want: logFields{"proxy_upstream_name": "default-web-80", "proxy_alternative_upstream_name": "", "upstream_addr": web},
		},
		{
			name: "canary_answers", from: "127.0.0.7", request: "GET / HTTP/1.1", host: "log.test", status: 200, extra: "X-Canary: always\r\n",
			want: logFields{"proxy_upstream_name": "default-web-80", "proxy_alternative_upstream_name": "default-next-80", "upstream_addr": next},
		},
		{
			name: "redirect", from: "127.0.0.8", request: "GET /old?x=1 HTTP/1.1", host: "moved.test", status: 301,
			want: logFields{"proxy_upstream_name": "default-web-80", "proxy_alternative_upstream_name": "", "upstream_addr": "-",
				"upstream_response_length": "-", "upstream_response_time": "-", "upstream_status": "-"},
		},
		{
			name: "no_route", from: "127.0.0.9", request: "GET /nothing HTTP/1.1", host: "nobody.test", status: 404,
			want: logFields{"proxy_upstream_name": "-", "proxy_alternative_upstream_name": "", "upstream_addr": "-",
				"upstream_response_length": "-", "upstream_response_time": "-", "upstream_status": "-"},
		},
	}
	// Envoy flushes its standard output every few seconds: the requests
	// are all sent first, then their lines awaited together.
	type sent struct {
		id, raw, body string
		start         time.Time
	}
	var done []sent
	ids := map[string]bool{}
	for i, c := range cases {
		id := fmt.Sprintf("accesslog-%d-%d", i, time.Now().UnixNano())
		ids[id] = true
		raw := c.request + "\r\nHost: " + c.host + "\r\nUser-Agent: rukou-e2e/1.0 (access log)\r\nReferer: http://ref.test/from?a=b\r\n" +
			"X-Request-ID: " + id + "\r\nConnection: close\r\n" + c.extra
		if c.body != "" {
			raw += "Content-Length: " + strconv.Itoa(len(c.body)) + "\r\n"
		}
		raw += "\r\n" + c.body
		start := time.Now()
		status, body := rawRequest(t, s.rukou.HTTPPort, c.from, raw)
		if status != c.status {
			t.Fatalf("%s: %s: status %d, want %d", c.name, c.request, status, c.status)
		}
		done = append(done, sent{id: id, raw: raw, body: body, start: start})
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := done[i]
			got := awaitLogLine(t, s.envoy, d.id)
			want := logFields{
				"remote_addr": c.from, "remote_user": "-", "request": c.request, "status": strconv.Itoa(c.status),
				"body_bytes_sent": strconv.Itoa(len(d.body)), "http_referer": "http://ref.test/from?a=b",
				"http_user_agent": "rukou-e2e/1.0 (access log)", "request_length": strconv.Itoa(len(d.raw)), "req_id": d.id,
				"upstream_response_length": strconv.Itoa(len(d.body)), "upstream_status": strconv.Itoa(c.status),
			}
			for k, v := range c.want {
				want[k] = v
			}
			for _, name := range logNames {
				if w, ok := want[name]; ok && got[name] != w {
					t.Errorf("$%s = %q, want %q", name, got[name], w)
				}
			}
			when, err := time.Parse("02/Jan/2006:15:04:05 -0700", got["time_local"])
			if err != nil || when.Before(d.start.Add(-2*time.Second)) || when.After(d.start.Add(5*time.Second)) {
				t.Errorf("$time_local = %q (%v), want the time of the request, %s", got["time_local"], err, d.start.Format(time.RFC3339))
			}
			if got["upstream_addr"] != "-" && !regexp.MustCompile(`^\d+\.\d{3}$`).MatchString(got["upstream_response_time"]) {
				t.Errorf("$upstream_response_time = %q, want seconds with milliseconds", got["upstream_response_time"])
			}
			t.Logf("line: %s", got["line"])
		})
	}
	// nginx prints times as seconds with milliseconds: a request of more
	// than a second is one whose body comes 1.1 s after its headers.
	t.Run("a_request_of_more_than_a_second", func(t *testing.T) {
		id := fmt.Sprintf("accesslog-slow-%d", time.Now().UnixNano())
		conn := dialEnvoy(t, s.rukou.HTTPPort)
		writeAll(t, conn, "POST / HTTP/1.1\r\nHost: log.test\r\nX-Request-ID: "+id+"\r\nContent-Length: 4\r\nConnection: close\r\n\r\n")
		time.Sleep(1100 * time.Millisecond)
		writeAll(t, conn, "ping")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("slow POST: %v, %v", resp, err)
		}
		got := awaitLogLine(t, s.envoy, id)
		for _, name := range []string{"request_time", "upstream_response_time"} {
			if v, err := strconv.ParseFloat(got[name], 64); err != nil || v < 1.1 || v > 10 {
				t.Errorf("$%s = %q, want the request's 1.1 s or more, in seconds", name, got[name])
			}
		}
		t.Logf("line: %s", got["line"])
	})
	// A client that leaves before the endpoint answers: nginx's 499. The
	// endpoint was chosen, so the upstream fields are there, but no
	// status came back.
	t.Run("a_client_gone_before_the_answer", func(t *testing.T) {
		id := fmt.Sprintf("accesslog-gone-%d", time.Now().UnixNano())
		harness.Eventually(t, 15*time.Second, "silent.test routed to the silent endpoint", func() error {
			conn := dialEnvoy(t, s.rukou.HTTPPort)
			defer conn.Close()
			writeAll(t, conn, "GET / HTTP/1.1\r\nHost: silent.test\r\n\r\n")
			conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
				return fmt.Errorf("answered %d", resp.StatusCode)
			}
			return nil
		})
		conn := dialEnvoy(t, s.rukou.HTTPPort)
		writeAll(t, conn, "GET /wait HTTP/1.1\r\nHost: silent.test\r\nX-Request-ID: "+id+"\r\n\r\n")
		time.Sleep(1200 * time.Millisecond)
		conn.Close()
		got := awaitLogLine(t, s.envoy, id)
		want := logFields{"upstream_addr": "127.0.0.1:" + strconv.Itoa(silentPort), "upstream_status": "-", "upstream_response_length": "0"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("$%s = %q, want %q", k, got[k], v)
			}
		}
		if v, err := strconv.ParseFloat(got["upstream_response_time"], 64); err != nil || v < 1 {
			t.Errorf("$upstream_response_time = %q, want the 1.2 s the client waited", got["upstream_response_time"])
		}
		t.Logf("line: %s", got["line"])
	})
	// Every line of the requests above has been written by now (the last
	// one was awaited, and Envoy writes in order): each request left one.
	lines := accessLines(s.envoy)
	for id := range ids {
		n := 0
		for _, l := range lines {
			if l["req_id"] == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("request %s left %d access-log lines, want 1", id, n)
		}
	}
	expectNoRejection(t, s.envoy)
}

// silentBackend is an endpoint that takes connections and requests and
// never answers.
func silentBackend(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// dialEnvoy connects to Envoy's port, for a request written by hand; the
// connection is closed when the test ends.
func dialEnvoy(t *testing.T, port int) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn
}

// writeAll writes s to conn.
func writeAll(t *testing.T, conn net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(conn, s); err != nil {
		t.Fatal(err)
	}
}

// rawRequest sends raw, as written, from the address from, and returns the
// response's status and body.
func rawRequest(t *testing.T, port int, from, raw string) (int, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// accessLines are the access-log lines Envoy has written so far, parsed.
func accessLines(e *harness.Envoy) []logFields {
	var out []logFields
	for _, line := range strings.Split(e.Log(), "\n") {
		m := accessLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := logFields{"line": line}
		for i, name := range logNames {
			f[name] = m[i+1]
		}
		out = append(out, f)
	}
	return out
}

// awaitLogLine waits until Envoy has written the line of the request id
// (Envoy flushes its standard output about once a second) and returns it.
func awaitLogLine(t *testing.T, e *harness.Envoy, id string) logFields {
	t.Helper()
	var found logFields
	harness.Eventually(t, 15*time.Second, "the access-log line of request "+id, func() error {
		for _, l := range accessLines(e) {
			if l["req_id"] == id {
				found = l
				return nil
			}
		}
		return fmt.Errorf("no line with request ID %s in Envoy's output", id)
	})
	return found
}
