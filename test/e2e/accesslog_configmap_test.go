package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// logLine waits until Envoy has written a line holding id (Envoy flushes
// its standard output every few seconds) and returns it.
func logLine(t *testing.T, s *stack, id string) string {
	t.Helper()
	var found string
	harness.Eventually(t, 20*time.Second, "the access-log line of request "+id, func() error {
		for _, line := range strings.Split(s.envoy.Log(), "\n") {
			if strings.Contains(line, id) {
				found = line
				return nil
			}
		}
		return fmt.Errorf("no line with %s in Envoy's output", id)
	})
	return found
}

// awaitFormat waits until a request like c, with its own request ID, is
// logged in a line that holds mark: the format the test set has reached
// the listener that serves c.
func awaitFormat(t *testing.T, s *stack, c call, mark string) {
	t.Helper()
	harness.Eventually(t, 20*time.Second, c.host+" requests logged with "+mark, func() error {
		probe := id("probe")
		c.header = headers("X-Request-ID", probe)
		if _, err := s.do(c); err != nil {
			return err
		}
		for range 100 { // Envoy writes the line just after the answer
			for _, line := range strings.Split(s.envoy.Log(), "\n") {
				if !strings.Contains(line, probe) {
					continue
				}
				if !strings.Contains(line, mark) {
					return fmt.Errorf("logged in another format: %s", line)
				}
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("no line with %s in Envoy's output", probe)
	})
}

// unlogged fails the test for each id that some line of Envoy's output
// holds. Call it after awaiting the line of a later request: Envoy writes
// its lines in order.
func unlogged(t *testing.T, s *stack, why string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		// By its number, so that no change to the rest of the ID (Envoy
		// once wrote its tracing decision into IDs it took for UUIDs)
		// could hide a line.
		if strings.Contains(s.envoy.Log(), id[strings.LastIndex(id, "-"):]) {
			t.Errorf("%s: request %s was logged, want no line", why, id)
		}
	}
}

// fence writes an Ingress for host after the ConfigMap and waits until it
// answers: the translation that served it read the ConfigMap as written
// before, so Envoy has that ConfigMap's settings.
func (s *stack) fence(t *testing.T, host string) {
	t.Helper()
	s.apply(t, "fence", join(backend(t, "fence"), objs(ingress("fence", rule(host, path(prefix, "/", "fence")))))...)
	s.await(t, call{host: host, path: "/"}, http.StatusOK, "fence")
}

// id is a request ID unique to the test run.
func id(name string) string { return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()) }

// TestConfigMapAccessLogFormat: log-format-upstream writes exactly the
// operator's line, with $namespace, $ingress_name, $service_name and
// $service_port of the Ingress path; enable-access-log: "false" on one
// Ingress silences its requests only; a request that no rule serves is
// not logged (enable-access-log-for-default-backend is off by default), nor
// are the URIs of skip-access-log-urls (a string in any letter case, or a
// regular expression). A
// format with a variable rukou cannot print is reported on the ConfigMap
// and ingress-nginx's default format applies.
func TestConfigMapAccessLogFormat(t *testing.T) {
	s := startConfigMapStack(t)
	s.applyConfigMap(t, map[string]string{
		"log-format-upstream":  `$remote_addr "$request" $status $http_x_tag [$namespace/$ingress_name/$service_name:$service_port] $upstream_status $req_id`,
		"skip-access-log-urls": "/health?probe=1, ~^/metrics",
	})
	s.apply(t, "sites", join(backend(t, "echo"), objs(
		ingress("loud", rule("loud.test", path(prefix, "/", "echo"))),
		annotated("quiet", map[string]string{"enable-access-log": "false"}, rule("quiet.test", path(prefix, "/q", "echo"))),
	))...)
	s.await(t, call{host: "loud.test", path: "/"}, http.StatusOK, "echo")
	s.await(t, call{host: "quiet.test", path: "/q"}, http.StatusOK, "echo")

	loud, quiet, quietMiss, nobody, health, metrics := id("loud"), id("quiet"), id("quiet-miss"), id("nobody"), id("health"), id("metrics")
	s.must(t, call{host: "quiet.test", path: "/q", header: headers("X-Request-ID", quiet)})
	if r := s.must(t, call{host: "quiet.test", path: "/elsewhere", header: headers("X-Request-ID", quietMiss)}); r.status != http.StatusNotFound {
		t.Errorf("an unmatched path of quiet.test: %d, want 404", r.status)
	}
	s.must(t, call{host: "loud.test", path: "/HEALTH?probe=1", header: headers("X-Request-ID", health)})
	s.must(t, call{host: "loud.test", path: "/metrics/x", header: headers("X-Request-ID", metrics)})
	if r := s.must(t, call{host: "nobody.test", path: "/", header: headers("X-Request-ID", nobody)}); r.status != http.StatusNotFound {
		t.Errorf("a host no rule names: %d, want 404", r.status)
	}
	s.must(t, call{host: "loud.test", path: "/a?b=1", from: "127.0.0.5", header: headers("X-Request-ID", loud, "X-Tag", "t1")})
	want := `127.0.0.5 "GET /a?b=1 HTTP/1.1" 200 t1 [default/loud/echo:80] 200 ` + loud
	if got := logLine(t, s, loud); got != want {
		t.Errorf("line\n got %s\nwant %s", got, want)
	}
	unlogged(t, s, "enable-access-log: \"false\" (its path, and its host's unmatched paths)", quiet, quietMiss)
	unlogged(t, s, "a request no rule serves, by default", nobody)
	unlogged(t, s, "skip-access-log-urls", health, metrics)

	s.applyConfigMap(t, map[string]string{"log-format-upstream": `$status $geoip_city $upstream_connect_time`})
	s.fence(t, "fence-default.test")
	expectConfigMapDiagnostic(t, s, "data[log-format-upstream]", "InvalidConfigValue")
	again := id("again")
	s.must(t, call{host: "loud.test", path: "/", header: headers("X-Request-ID", again)})
	if got := awaitLogLine(t, s.envoy, again); got["status"] != "200" || got["proxy_upstream_name"] != "default-echo-80" {
		t.Errorf("with a format rukou cannot write, the default format's line %q, want status 200 and upstream default-echo-80", got["line"])
	}
	expectNoRejection(t, s.envoy)
}

// TestConfigMapAccessLogLeftOut: without skip-access-log-urls, Envoy
// decides most requests natively (the routes left out mark their requests)
// and the rest by an expression; with it, by the expression alone. Both
// ways must leave out every request of an Ingress with enable-access-log:
// "false", whatever answers it (the backend, with any status; a redirect,
// its route's or Envoy's own for an escaped slash; a gRPC request; no
// route of its host; an error page of custom-http-errors), and a request
// no rule serves; and log every request of the other Ingresses, errors and
// gRPC included.
func TestConfigMapAccessLogLeftOut(t *testing.T) {
	s := startConfigMapStack(t)
	quietly := map[string]string{"enable-access-log": "false"}
	s.apply(t, "sites", join(backend(t, "echo"), objs(
		ingress("loud", rule("loud.test", path(prefix, "/", "echo"))),
		annotated("quiet", quietly, rule("quiet.test", path(prefix, "/q", "echo"))),
		annotated("quiet-moved", map[string]string{"enable-access-log": "false", "permanent-redirect": "https://elsewhere.test/"},
			rule("moved.test", path(prefix, "/", "echo"))),
		annotated("quiet-pages", map[string]string{"enable-access-log": "false", "custom-http-errors": "418", "default-backend": "echo"},
			rule("pages.test", path(prefix, "/", "echo"))),
	))...)
	s.await(t, call{host: "loud.test", path: "/"}, http.StatusOK, "echo")
	s.await(t, call{host: "quiet.test", path: "/q"}, http.StatusOK, "echo")
	s.await(t, call{host: "moved.test", path: "/"}, http.StatusMovedPermanently, "")

	// send sends c with its own request ID, a POST as gRPC, and returns
	// that ID and the reply.
	send := func(name string, c call) (string, reply) {
		t.Helper()
		rid := id(name)
		c.header = headers("X-Request-ID", rid)
		if c.method == http.MethodPost {
			c.header.Set("Content-Type", "application/grpc")
		}
		return rid, s.must(t, c)
	}
	round := func(t *testing.T) {
		var silent []string
		quiet := func(name string, c call, want int) {
			t.Helper()
			rid, r := send(name, c)
			if r.status != want {
				t.Errorf("%s%s: %d, want %d", c.host, c.path, r.status, want)
			}
			silent = append(silent, rid)
		}
		quiet("quiet-ok", call{host: "quiet.test", path: "/q"}, http.StatusOK)
		quiet("quiet-404", call{host: "quiet.test", path: "/q?status=404"}, http.StatusNotFound)
		quiet("quiet-503", call{host: "quiet.test", path: "/q?status=503"}, http.StatusServiceUnavailable)
		quiet("quiet-grpc", call{method: http.MethodPost, host: "quiet.test", path: "/q"}, http.StatusOK)
		quiet("quiet-miss", call{host: "quiet.test", path: "/elsewhere"}, http.StatusNotFound)
		quiet("quiet-redirect", call{host: "moved.test", path: "/"}, http.StatusMovedPermanently)
		quiet("nobody", call{host: "nobody.test", path: "/"}, http.StatusNotFound)
		// An error page's request ends with the internal one that
		// fetches the page.
		rid, page := send("quiet-error-page", call{host: "pages.test", path: "/?status=418"})
		if code, _ := echoHeader(page, "X-Code"); page.status != http.StatusTeapot || code != "418" {
			t.Errorf("pages.test: %d with X-Code %q at the backend, want the error page of a 418", page.status, code)
		}
		silent = append(silent, rid)
		// Envoy redirects a path with an escaped slash itself, before
		// any filter or route.
		quiet("quiet-escaped", call{host: "quiet.test", path: "/q%2Fx"}, http.StatusTemporaryRedirect)
		quiet("nobody-escaped", call{host: "nobody.test", path: "/a%2Fb"}, http.StatusTemporaryRedirect)

		for _, c := range []struct {
			name string
			call call
		}{
			{"loud-ok", call{host: "loud.test", path: "/"}},
			{"loud-404", call{host: "loud.test", path: "/?status=404"}},
			{"loud-grpc", call{method: http.MethodPost, host: "loud.test", path: "/"}},
			{"loud-escaped", call{host: "loud.test", path: "/a%2Fb"}},
		} {
			rid, _ := send(c.name, c.call)
			logLine(t, s, rid) // it fails the test when no line comes
		}
		unlogged(t, s, `enable-access-log: "false", and a request no rule serves`, silent...)
	}
	t.Run("decided_natively", round)
	s.applyConfigMap(t, map[string]string{"skip-access-log-urls": "/not-a-path-of-this-test"})
	s.fence(t, "fence.leftout.test")
	t.Run("decided_by_the_expression", round)
	expectNoRejection(t, s.envoy)
}

// TestConfigMapAccessLogJSONAndOff: with log-format-escape-json, a JSON
// format gives lines that parse as JSON, with a header holding quotes and
// a backslash kept as sent; disable-access-log then writes nothing.
func TestConfigMapAccessLogJSONAndOff(t *testing.T) {
	s := startConfigMapStack(t)
	jsonFormat := map[string]string{
		"log-format-escape-json": "true",
		"log-format-upstream":    `{"time": "$time_iso8601", "status": $status, "agent": "$http_user_agent", "upstream": "$proxy_upstream_name", "id": "$req_id", "request": {"method": "$request_method", "uri": "$request_uri"}}`,
	}
	s.applyConfigMap(t, jsonFormat)
	s.apply(t, "site", join(backend(t, "echo"), objs(ingress("site", rule("json.test", path(prefix, "/", "echo")))))...)
	s.await(t, call{host: "json.test", path: "/"}, http.StatusOK, "echo")

	first := id("json")
	agent := `say "hi" \ and {"x": 1}`
	s.must(t, call{host: "json.test", path: "/p?q=1", header: headers("X-Request-ID", first, "User-Agent", agent)})
	var got struct {
		Time, Agent, Upstream, ID string
		Status                    int
		Request                   struct{ Method, URI string }
	}
	line := logLine(t, s, first)
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("line %s is not JSON: %v", line, err)
	}
	if got.Agent != agent || got.Status != 200 || got.Upstream != "default-echo-80" || got.ID != first ||
		got.Request.Method != "GET" || got.Request.URI != "/p?q=1" {
		t.Errorf("line %s: got %+v", line, got)
	}
	if _, err := time.Parse(time.RFC3339, got.Time); err != nil {
		t.Errorf("time %q: %v", got.Time, err)
	}

	s.applyConfigMap(t, map[string]string{"disable-access-log": "true"})
	s.fence(t, "fence-off.test")
	off := id("off")
	s.must(t, call{host: "json.test", path: "/", header: headers("X-Request-ID", off)})
	s.applyConfigMap(t, jsonFormat)
	s.fence(t, "fence-on.test")
	on := id("on")
	s.must(t, call{host: "json.test", path: "/", header: headers("X-Request-ID", on)})
	logLine(t, s, on)
	unlogged(t, s, "disable-access-log", off)
	expectNoRejection(t, s.envoy)
}

// TestConfigMapAccessLogEveryVariable: a format with every variable rukou
// prints is accepted by Envoy (no rejection) and each prints what nginx
// would, over plain HTTP, over TLS and over HTTP/2 (docs/edge.md lists the
// differences).
func TestConfigMapAccessLogEveryVariable(t *testing.T) {
	s := startConfigMapStack(t)
	names := []string{
		"remote_addr", "remote_user", "time_local", "time_iso8601", "msec", "request", "request_method", "request_uri",
		"uri", "args", "query_string", "server_protocol", "scheme", "host", "http_x_tag", "sent_http_content_type",
		"content_type", "status", "body_bytes_sent", "bytes_sent", "request_length", "request_time", "upstream_addr",
		"upstream_status", "upstream_response_time", "upstream_response_length", "proxy_upstream_name",
		"proxy_alternative_upstream_name", "req_id", "request_id", "namespace", "ingress_name", "service_name", "service_port",
		"server_name", "server_port", "remote_port", "ssl_protocol", "ssl_cipher", "http2", "hostname",
	}
	var format strings.Builder
	for _, n := range names {
		format.WriteString(n + "=<$" + n + "> ")
	}
	s.applyConfigMap(t, map[string]string{"log-format-upstream": format.String()})
	ca := newTestCA(t)
	s.apply(t, "site", join(backend(t, "vars"), objs(
		ca.secret(t, "vars-tls", 1, "vars.test"),
		tlsIngress("vars", "vars.test", "vars-tls"),
	))...)
	s.await(t, call{host: "vars.test", path: "/", https: true}, http.StatusOK, "vars")
	// The routes can reach Envoy a moment before the listeners that carry
	// the new format are warm: wait until both listeners log in it.
	awaitFormat(t, s, call{host: "vars.test", path: "/"}, "status=<")
	awaitFormat(t, s, call{host: "vars.test", path: "/", https: true}, "status=<")

	plainID, tlsID := id("plain"), id("tls")
	s.must(t, call{host: "vars.test", path: "/a/b?x=1", from: "127.0.0.9", header: headers("X-Request-ID", plainID, "X-Tag", "t", "Content-Type", "text/plain")})
	s.must(t, call{host: "vars.test", path: "/c", https: true, header: headers("X-Request-ID", tlsID)})
	fields := func(line string) map[string]string {
		out := map[string]string{}
		for _, m := range regexp.MustCompile(`(\w+)=<([^>]*)>`).FindAllStringSubmatch(line, -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	check := func(id string, want map[string]string, shapes map[string]string) {
		t.Helper()
		got := fields(logLine(t, s, id))
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: $%s = %q, want %q", id, k, got[k], v)
			}
		}
		for k, re := range shapes {
			if !regexp.MustCompile(`^` + re + `$`).MatchString(got[k]) {
				t.Errorf("%s: $%s = %q, want %s", id, k, got[k], re)
			}
		}
	}
	// TLS hosts redirect plain HTTP: the plain request is answered 308 by
	// rukou, with the Ingress path's names.
	check(plainID, map[string]string{
		"remote_addr": "127.0.0.9", "remote_user": "-", "request": "GET /a/b?x=1 HTTP/1.1", "request_method": "GET",
		"request_uri": "/a/b?x=1", "uri": "/a/b", "args": "x=1", "query_string": "x=1", "server_protocol": "HTTP/1.1",
		"scheme": "http", "host": "vars.test", "http_x_tag": "t", "content_type": "text/plain", "status": "308",
		"upstream_addr": "-", "upstream_status": "-", "proxy_upstream_name": "default-vars-80", "req_id": plainID, "request_id": plainID,
		"namespace": "default", "ingress_name": "vars", "service_name": "vars", "service_port": "80",
		"server_name": "vars.test", "server_port": strconv.Itoa(s.rukou.HTTPPort), "ssl_protocol": "-", "http2": "",
	}, map[string]string{
		"time_iso8601": `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00`, "msec": `\d{10}\.\d{3}`, "bytes_sent": `[1-9]\d*`,
		"remote_port": `[1-9]\d*`, "hostname": `\S+`, "request_time": `\d+\.\d{3}`,
	})
	check(tlsID, map[string]string{
		"request": "GET /c HTTP/1.1", "scheme": "https", "status": "200", "upstream_status": "200", "http2": "",
		"ssl_protocol": "TLSv1.3", "sent_http_content_type": "application/json", "server_port": strconv.Itoa(s.rukou.HTTPSPort),
		"args": "",
	}, map[string]string{"ssl_cipher": `TLS_\w+`, "upstream_addr": `127\.0\.0\.1:\d+`, "upstream_response_time": `\d+\.\d{3}`})
	// Over HTTP/2, as browsers speak to TLS hosts.
	h2ID := id("h2")
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{ServerName: "vars.test", InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, "https://127.0.0.1:"+strconv.Itoa(s.rukou.HTTPSPort)+"/h2", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "vars.test"
	req.Header.Set("X-Request-ID", h2ID)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check(h2ID, map[string]string{"request": "GET /h2 HTTP/2", "server_protocol": "HTTP/2", "http2": "h2", "status": "200"}, nil)
	expectNoRejection(t, s.envoy)
}

// TestConfigMapAccessLogLongRuns: a format with many variables in a row
// that Envoy has no single operator for (each a CEL expression, which
// rukou joins) is accepted by Envoy and prints every one of them.
func TestConfigMapAccessLogLongRuns(t *testing.T) {
	s := startConfigMapStack(t)
	repeat := func(v string, n int) string { return strings.TrimSpace(strings.Repeat(v+" ", n)) }
	s.applyConfigMap(t, map[string]string{"log-format-upstream": "long " + repeat("$request_time", 9) + " | " +
		repeat("$args", 17) + " | " + repeat("$upstream_status", 9) + " | " + repeat("$server_name", 9) + " $req_id"})
	s.apply(t, "sites", join(backend(t, "echo"), objs(ingress("long", rule("long.test", path(prefix, "/", "echo")))))...)
	s.await(t, call{host: "long.test", path: "/"}, http.StatusOK, "echo")
	awaitFormat(t, s, call{host: "long.test", path: "/"}, "long ")
	req := id("long")
	s.must(t, call{host: "long.test", path: "/?a=1", header: headers("X-Request-ID", req)})
	line := logLine(t, s, req)
	groups := strings.Split(strings.TrimPrefix(strings.TrimSuffix(line, " "+req), "long "), " | ")
	if len(groups) != 4 {
		t.Fatalf("line %q: want four groups", line)
	}
	times := strings.Fields(groups[0])
	for i, want := range []struct {
		n    int
		each string
	}{{9, times[0]}, {17, "a=1"}, {9, "200"}, {9, "long.test"}} {
		got := strings.Fields(groups[i])
		if len(got) != want.n || strings.Count(groups[i], want.each) != want.n {
			t.Errorf("group %d %q: want %q %d times", i, groups[i], want.each, want.n)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d{3}$`).MatchString(times[0]) {
		t.Errorf("$request_time = %q, want seconds with milliseconds", times[0])
	}
	expectNoRejection(t, s.envoy)
}
