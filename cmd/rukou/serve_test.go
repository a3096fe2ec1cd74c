package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
	"github.com/rukou/rukou/xds"
)

func TestServeRefusesHalfATLSConfiguration(t *testing.T) {
	for _, args := range [][]string{
		{"--xds-tls-cert", "cert.pem"},
		{"--xds-tls-key", "key.pem"},
		{"--xds-tls-ca", "ca.pem"},
		{"--xds-tls-ca", "ca.pem", "--xds-tls-cert", "cert.pem"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), append([]string{"serve", "--watch-dir", t.TempDir(), "--xds-address", "127.0.0.1:0", "--ops-address", "127.0.0.1:0"}, args...), &bytes.Buffer{}, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), "--xds-tls-cert and --xds-tls-key go together") {
				t.Errorf("exit %d, stderr %q; want 1 and a message naming both flags", code, stderr.String())
			}
		})
	}
}

// TestServeExitsOnStartupErrors: a startup error after the ports are open
// ends the process with the error; it must not keep serving /healthz as if
// all were well.
func TestServeExitsOnStartupErrors(t *testing.T) {
	for _, c := range []struct{ name, flag, value, want string }{
		{"missing_watch_dir", "--watch-dir", "/nonexistent/manifests", "watch dir"},
		{"missing_kubeconfig", "--kubeconfig", "/nonexistent/kubeconfig", "kubeconfig"},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan int, 1)
			var stderr bytes.Buffer
			go func() {
				done <- run(context.Background(), []string{"serve", c.flag, c.value,
					"--xds-address", "127.0.0.1:0", "--ops-address", "127.0.0.1:0", "--debug-address", "127.0.0.1:0"}, io.Discard, &stderr)
			}()
			select {
			case code := <-done:
				if code != 1 || !strings.Contains(stderr.String(), c.want) {
					t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("rukou serve still runs 10 s after a startup error")
			}
		})
	}
}

// TestDebugPagesOffTheOpsAddress: the ops address, which the cluster network
// reaches, serves health and metrics but neither the configuration nor
// profiles; those are on the debug address, on loopback by default.
func TestDebugPagesOffTheOpsAddress(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	o := newOps(&state{log: log}, xds.New(log, xds.Options{}), watcher.NewStore(), translator.DefaultOptions())
	get := func(h http.Handler, path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	for path, want := range map[string][2]int{
		"/healthz":         {http.StatusOK, http.StatusNotFound},
		"/metrics":         {http.StatusOK, http.StatusNotFound},
		"/debug/xds":       {http.StatusNotFound, http.StatusOK},
		"/debug/config":    {http.StatusNotFound, http.StatusServiceUnavailable}, // nothing built yet
		"/debug/ingresses": {http.StatusNotFound, http.StatusServiceUnavailable},
		"/debug/pprof/":    {http.StatusNotFound, http.StatusOK},
	} {
		if got := get(o.handler(), path); got != want[0] {
			t.Errorf("ops address: GET %s = %d, want %d", path, got, want[0])
		}
		if got := get(o.debugHandler(), path); got != want[1] {
			t.Errorf("debug address: GET %s = %d, want %d", path, got, want[1])
		}
	}

	host, _, err := net.SplitHostPort(defaultDebugAddress)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("default --debug-address %q is not on loopback", defaultDebugAddress)
	}
	if f := newServeCmd().Flags().Lookup("debug-address"); f == nil || f.DefValue != defaultDebugAddress {
		t.Errorf("serve's --debug-address flag: %+v, want default %q", f, defaultDebugAddress)
	}
}

// TestServeWatchesTheStreamConfigMaps: --tcp-services-configmap and
// --udp-services-configmap, on serve and translate alike, name
// NAMESPACE/NAME ConfigMaps whose namespaces rukou watches, each once.
func TestServeWatchesTheStreamConfigMaps(t *testing.T) {
	cfg := serveConfig{opts: translator.DefaultOptions()}
	cfg.opts.ConfigMap, cfg.opts.TCPServices, cfg.opts.UDPServices = "rukou-system/rukou", "rukou-system/tcp", "dns/udp"
	if got, want := cfg.opts.ConfigMapNamespaces(), []string{"rukou-system", "dns"}; !slices.Equal(got, want) {
		t.Errorf("watched ConfigMap namespaces %v, want %v", got, want)
	}
	for _, c := range []*cobra.Command{newServeCmd(), newTranslateCmd()} {
		for _, name := range []string{"tcp-services-configmap", "udp-services-configmap"} {
			if err := c.Flags().Set(name, "tcp-services"); err == nil {
				t.Errorf("%s --%s accepted a value without a namespace", c.Name(), name)
			}
			if err := c.Flags().Set(name, "ns/tcp-services"); err != nil {
				t.Errorf("%s --%s ns/tcp-services: %v", c.Name(), name, err)
			}
		}
	}
}

// TestStateSignalsTheStatusWriterForNewStatuses: the status writer goes
// through every Ingress each time it is signalled, so an endpoint change,
// whose result carries the statuses and diagnostics of the one before, does
// not signal it; a translation does. A diagnostic is logged once.
func TestStateSignalsTheStatusWriterForNewStatuses(t *testing.T) {
	var logged bytes.Buffer
	st := &state{log: slog.New(slog.NewTextHandler(&logged, nil))}
	kicks := st.kicks()
	signalled := func() bool {
		select {
		case <-kicks:
			return true
		default:
			return false
		}
	}
	in := statusInput(8080)
	first, err := translator.Translate(in, translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Diagnostics) != 1 {
		t.Fatalf("diagnostics %v, want the one of the Ingress of a missing Service", first.Diagnostics)
	}
	st.set(first)
	if !signalled() {
		t.Error("the first result did not signal the status writer")
	}

	moved := statusInput(8081)
	next, err := translator.UpdateServiceEndpoints(first, map[types.NamespacedName]bool{{Namespace: "default", Name: "web"}: true}, translator.Input{EndpointSlices: moved.EndpointSlices})
	if err != nil {
		t.Fatal(err)
	}
	if next.Resources.Endpoints[0] == first.Resources.Endpoints[0] {
		t.Fatal("the endpoint change changed no assignment")
	}
	st.set(next)
	if signalled() {
		t.Error("an endpoint change signalled the status writer")
	}

	again, err := translator.TranslateAfter(next, moved, translator.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	st.set(again)
	if !signalled() {
		t.Error("a translation did not signal the status writer")
	}
	if n := strings.Count(logged.String(), "rule not served as written"); n != 1 {
		t.Errorf("the diagnostic was logged %d times, want once:\n%s", n, logged.String())
	}
}

// statusInput is an Ingress of Service web, whose one endpoint listens on
// port, and one of a Service that does not exist.
func statusInput(port int32) translator.Input {
	class := "rukou"
	prefix := networkingv1.PathTypePrefix
	ingress := func(name, service string) *networkingv1.Ingress {
		backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}}}
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: networkingv1.IngressSpec{
				IngressClassName: &class,
				Rules: []networkingv1.IngressRule{{Host: name + ".example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: backend}},
				}}}},
			},
		}
	}
	ready := true
	return translator.Input{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: translator.DefaultOptions().ControllerName}}},
		Ingresses:      []*networkingv1.Ingress{ingress("web", "web"), ingress("broken", "missing")},
		Services: []*corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
			Ports:       []discoveryv1.EndpointPort{{Port: &port}},
		}},
	}
}
