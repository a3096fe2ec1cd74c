package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/test/harness"
)

// startStreamStack is startStack with --tcp-services-configmap
// default/tcp-services, --udp-services-configmap default/udp-services and
// --configmap default/rukou: ConfigMaps of those names among the watched
// manifests.
func startStreamStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{dir: t.TempDir()}
	s.rukou = harness.StartRukou(t, "--watch-dir", s.dir, "--configmap", "default/rukou",
		"--tcp-services-configmap", "default/tcp-services", "--udp-services-configmap", "default/udp-services")
	s.envoy = harness.StartEnvoyWith(t, s.rukou.XDSAddress, harness.EnvoyOptions{Mode: "delta"})
	return s
}

// applyStreams writes the TCP and UDP services ConfigMaps (replacing them).
func (s *stack) applyStreams(t *testing.T, tcp, udp map[string]string) {
	t.Helper()
	s.apply(t, "streams",
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tcp-services"}, Data: tcp},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "udp-services"}, Data: udp})
}

// tcpEcho starts a TCP server on 127.0.0.1 that answers each line it reads
// with "name: line", and returns its port. A PROXY protocol header, being
// a line, comes back the same way.
func tcpEcho(t *testing.T, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := fmt.Fprintf(c, "%s: %s\n", name, strings.TrimSuffix(sc.Text(), "\r")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// udpEcho starts a UDP server on 127.0.0.1 that answers each datagram with
// "name: datagram", and returns its port.
func udpEcho(t *testing.T, name string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo([]byte(name+": "+string(buf[:n])), from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// streamService is a Service whose port 7000, named "echo", of protocol
// proto has its endpoint on 127.0.0.1:target.
func streamService(name string, proto corev1.Protocol, target int) []runtime.Object {
	return []runtime.Object{
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "echo", Port: 7000, Protocol: proto}}},
		},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-0", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("echo"), Port: ptr(int32(target)), Protocol: ptr(proto)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
		},
	}
}

// tcpExchange connects to Envoy's port, sends preamble and then "ping",
// and returns the lines received until the echo of "ping" (with the local
// address of the connection).
func tcpExchange(port int, preamble string) (lines []string, local *net.TCPAddr, err error) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(preamble + "ping\n")); err != nil {
		return nil, nil, err
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasSuffix(sc.Text(), ": ping") {
			return lines, c.LocalAddr().(*net.TCPAddr), nil
		}
	}
	return lines, nil, fmt.Errorf("connection ended after %q: %v", lines, sc.Err())
}

// awaitTCPEcho waits until Envoy's port passes "ping" to the backend name.
func awaitTCPEcho(t *testing.T, port int, name string) {
	t.Helper()
	harness.Eventually(t, 15*time.Second, fmt.Sprintf("TCP port %d echoes through %s", port, name), func() error {
		lines, _, err := tcpExchange(port, "")
		if err != nil {
			return err
		}
		if got := lines[len(lines)-1]; got != name+": ping" {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
}

// udpExchange sends one datagram to Envoy's UDP port and returns the
// answer.
func udpExchange(port int, msg string) (string, error) {
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// expectStreamDiagnostic waits until /debug/config reports reason on a key
// of the ConfigMap default/name.
func expectStreamDiagnostic(t *testing.T, s *stack, name, key, reason string) {
	t.Helper()
	expectDiagnosticOn(t, s, name, "data["+key+"]", reason)
}

// TestTCPServices: an entry of the TCP services ConfigMap makes Envoy
// listen on its port and pass the bytes to the Service port's endpoint
// and back; an entry added while rukou runs opens its port and a removed
// one closes it, without a restart; an endpoint change reaches the
// listener without rebuilding it; bad entries (a port number that is not
// one, the HTTP listener's port, a missing Service or port) are reported
// on the ConfigMap's key while the good ones work; and each connection
// writes ingress-nginx's stream log line.
func TestTCPServices(t *testing.T) {
	s := startStreamStack(t)
	first, second := harness.FreePort(t), harness.FreePort(t)
	s.apply(t, "backends", join(
		streamService("db", corev1.ProtocolTCP, tcpEcho(t, "db")),
		streamService("mqtt", corev1.ProtocolTCP, tcpEcho(t, "mqtt")),
	)...)
	bad := map[string]string{
		"not-a-port":                   "default/db:7000",
		strconv.Itoa(s.rukou.HTTPPort): "default/db:7000",
		"7001":                         "default/missing:7000",
		"7002":                         "default/db:7999",
	}
	tcp := map[string]string{strconv.Itoa(first): "default/db:7000"}
	for k, v := range bad {
		tcp[k] = v
	}
	s.applyStreams(t, tcp, nil)
	awaitTCPEcho(t, first, "db")
	for key, reason := range map[string]string{
		"not-a-port": "InvalidConfigValue", strconv.Itoa(s.rukou.HTTPPort): "PortConflict",
		"7001": "ServiceNotFound", "7002": "ServicePortNotFound",
	} {
		expectStreamDiagnostic(t, s, "tcp-services", key, reason)
	}
	if err := dial(s.rukou.HTTPPort); err != nil {
		t.Errorf("the HTTP listener's port no longer accepts connections: %v", err)
	}

	t.Run("configmap_change_adds_and_removes_a_port", func(t *testing.T) {
		pid := s.rukou.PID()
		tcp[strconv.Itoa(second)] = "default/mqtt:echo" // by the port's name
		start := time.Now()
		s.applyStreams(t, tcp, nil)
		awaitTCPEcho(t, second, "mqtt")
		t.Logf("a new entry's port echoed %v after the ConfigMap was written", time.Since(start).Round(time.Millisecond))
		delete(tcp, strconv.Itoa(second))
		s.applyStreams(t, tcp, nil)
		harness.Eventually(t, 15*time.Second, fmt.Sprintf("port %d closed", second), func() error {
			if _, _, err := tcpExchange(second, ""); err == nil {
				return errors.New("still echoes")
			}
			return nil
		})
		awaitTCPEcho(t, first, "db")
		if s.rukou.Exited() || s.rukou.PID() != pid {
			t.Error("rukou restarted to apply the TCP services ConfigMap")
		}
	})

	// Started here: a subtest's servers stop when it ends.
	dbV2, mqtt := tcpEcho(t, "db-v2"), tcpEcho(t, "mqtt")
	t.Run("endpoint_change_keeps_the_listener", func(t *testing.T) {
		before := envoyListenersVersion(t, s.envoy)
		s.apply(t, "backends", join(
			streamService("db", corev1.ProtocolTCP, dbV2),
			streamService("mqtt", corev1.ProtocolTCP, mqtt),
		)...)
		awaitTCPEcho(t, first, "db-v2")
		if after := envoyListenersVersion(t, s.envoy); after != before {
			t.Errorf("an endpoint change sent new listeners (version %s, then %s)", before, after)
		}
	})

	t.Run("stream_access_log", func(t *testing.T) {
		lines, local, err := tcpExchange(first, "")
		if err != nil {
			t.Fatal(err)
		}
		// "ping\n" is 5 bytes received; "db-v2: ping\n" 12 sent.
		want := regexp.MustCompile(`^\[127\.0\.0\.1\] \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] TCP 200 12 5 \d+\.\d{3}$`)
		harness.Eventually(t, 20*time.Second, "the stream log line", func() error {
			for _, l := range strings.Split(s.envoy.Log(), "\n") {
				if want.MatchString(l) {
					return nil
				}
			}
			return fmt.Errorf("no line matching %s in Envoy's output (connection from %v, got %q)", want, local, lines)
		})
	})

	t.Run("configmap_proxy_stream_timeout", func(t *testing.T) {
		s.applyConfigMap(t, map[string]string{"proxy-stream-timeout": "1s"})
		harness.Eventually(t, 20*time.Second, "an idle connection closed after 1 s", func() error {
			return idleClose(first, 2500*time.Millisecond)
		})
	})
	expectNoRejection(t, s.envoy)
}

// idleClose connects to Envoy's port, exchanges a line, then stays silent
// and checks that the connection is closed within limit.
func idleClose(port int, limit time.Duration) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(limit + 2*time.Second))
	r := bufio.NewReader(c)
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	if _, err := r.ReadString('\n'); err != nil {
		return fmt.Errorf("no echo: %v", err)
	}
	start := time.Now()
	_, err = r.ReadString('\n')
	if took := time.Since(start); !errors.Is(err, io.EOF) || took > limit {
		return fmt.Errorf("after %v idle: %v, want the connection closed within %v", took.Round(time.Millisecond), err, limit)
	}
	return nil
}

// dial checks that a TCP port of 127.0.0.1 accepts connections.
func dial(port int) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// TestTCPServicesProxyProtocol: "::PROXY" (the fourth field) makes Envoy
// start the connection to the backend with a PROXY protocol v1 header
// naming the client; ":PROXY:PROXY" also reads the client's own header,
// whose address then goes on to the backend; ":PROXY" alone closes a
// connection without one.
func TestTCPServicesProxyProtocol(t *testing.T) {
	s := startStreamStack(t)
	send, both, decode := harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)
	s.apply(t, "backends", streamService("db", corev1.ProtocolTCP, tcpEcho(t, "db"))...)
	s.applyStreams(t, map[string]string{
		strconv.Itoa(send):   "default/db:7000::PROXY",
		strconv.Itoa(both):   "default/db:echo:PROXY:PROXY",
		strconv.Itoa(decode): "default/db:7000:PROXY",
	}, nil)
	awaitTCPEcho(t, send, "db")

	lines, local, err := tcpExchange(send, "")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("db: PROXY TCP4 127.0.0.1 127.0.0.1 %d %d", local.Port, send)
	if len(lines) != 2 || lines[0] != want {
		t.Errorf("the backend of a ::PROXY entry got %q, want %q then the data", lines, want)
	}

	header := fmt.Sprintf("PROXY TCP4 203.0.113.7 127.0.0.1 40000 %d\r\n", both)
	harness.Eventually(t, 15*time.Second, "the client's PROXY header reaches the backend's", func() error {
		lines, _, err := tcpExchange(both, header)
		if err != nil {
			return err
		}
		if want := "db: " + strings.TrimSuffix(header, "\r\n"); len(lines) != 2 || lines[0] != want {
			return fmt.Errorf("got %q, want %q then the data", lines, want)
		}
		return nil
	})

	// The same Envoy update brought the three listeners.
	if lines, _, err := tcpExchange(decode, ""); err == nil {
		t.Errorf("a :PROXY entry served a client that sent no PROXY header: %q", lines)
	}
	lines, _, err = tcpExchange(decode, header)
	if err != nil || len(lines) != 1 {
		t.Errorf("a :PROXY entry, with the client's header: %q, %v; want only the echo (nothing sent to the backend)", lines, err)
	}
	expectNoRejection(t, s.envoy)
}

// TestUDPServices: an entry of the UDP services ConfigMap passes a
// datagram to the Service's UDP port and the answer back, beside a TCP
// service on the same port number; PROXY fields on UDP are reported and
// ignored.
func TestUDPServices(t *testing.T) {
	s := startStreamStack(t)
	port, ignored := harness.FreePort(t), strconv.Itoa(harness.FreePort(t))
	s.apply(t, "backends", join(
		streamService("dns", corev1.ProtocolUDP, udpEcho(t, "dns")),
		streamService("db", corev1.ProtocolTCP, tcpEcho(t, "db")),
	)...)
	s.applyStreams(t,
		map[string]string{strconv.Itoa(port): "default/db:7000"},
		map[string]string{strconv.Itoa(port): "default/dns:7000", ignored: "default/dns:echo:PROXY"})
	harness.Eventually(t, 15*time.Second, "a datagram echoes through Envoy", func() error {
		got, err := udpExchange(port, "ping")
		if err != nil {
			return err
		}
		if got != "dns: ping" {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
	awaitTCPEcho(t, port, "db")
	expectStreamDiagnostic(t, s, "udp-services", ignored, "InvalidConfigValue")
	if got, err := udpExchange(mustAtoi(t, ignored), "pong"); err != nil || got != "dns: pong" {
		t.Errorf("the UDP entry with ignored PROXY fields: %q, %v; want it served", got, err)
	}
	expectNoRejection(t, s.envoy)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestClusterModeTCPServices: against a real kube-apiserver, a TCP
// services ConfigMap created while rukou runs, in the namespace its flag
// names, opens its port to the Service port it names (by name; the API
// server made the port TCP), whose endpoint is a backend in another
// network namespace; deleting the ConfigMap closes the port.
func TestClusterModeTCPServices(t *testing.T) {
	cluster := harness.StartCluster(t)
	netns := harness.StartNetns(t)
	netns.StartBackend(t, "shop", 8080)
	ctx := harness.Context(t)
	kc := cluster.Client
	for _, n := range []string{"shop", "rukou-system"} {
		must(t, func() error {
			_, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
			return err
		})
	}
	must(t, func() error {
		_, err := kc.CoreV1().Services("shop").Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}, metav1.CreateOptions{})
		return err
	})
	must(t, func() error {
		_, err := kc.DiscoveryV1().EndpointSlices("shop").Create(ctx, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{netns.IP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
		}, metav1.CreateOptions{})
		return err
	})
	rukou := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--tcp-services-configmap", "rukou-system/tcp-services")
	envoy := harness.StartEnvoy(t, rukou.XDSAddress, "delta")
	port := harness.FreePort(t)

	// HTTP/1.0 over the TCP service: the backend answers and closes.
	get := func() (string, error) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write([]byte("GET /over-tcp HTTP/1.0\r\nHost: db.example\r\n\r\n")); err != nil {
			return "", err
		}
		b, err := io.ReadAll(c)
		return string(b), err
	}
	must(t, func() error {
		_, err := kc.CoreV1().ConfigMaps("rukou-system").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "tcp-services"},
			Data:       map[string]string{strconv.Itoa(port): "shop/web:http"},
		}, metav1.CreateOptions{})
		return err
	})
	harness.Eventually(t, 15*time.Second, "the backend answers over the TCP service", func() error {
		got, err := get()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(got, "HTTP/1.0 200") || !strings.Contains(got, "\r\nX-Backend: shop\r\n") || !strings.Contains(got, `"path": "/over-tcp"`) {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
	must(t, func() error {
		return kc.CoreV1().ConfigMaps("rukou-system").Delete(ctx, "tcp-services", metav1.DeleteOptions{})
	})
	harness.Eventually(t, 15*time.Second, "the port closed", func() error {
		if got, err := get(); err == nil {
			return fmt.Errorf("still answers %q", got)
		}
		return nil
	})
	expectNoRejection(t, envoy)
}
