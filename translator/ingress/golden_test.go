package ingress_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/internal/golden"
	"github.com/rukou/rukou/watcher"
)

// TestGolden is the frontend's step: each Kubernetes manifest in
// translator/testdata/in gives the routing model in testdata/ir, printed
// as YAML, with --configmap default/rukou, --tcp-services-configmap
// default/tcp-services, --udp-services-configmap default/udp-services and
// a fixed generated default certificate; a case holding the Secret
// default/default-ssl-certificate or the Service default/default-backend
// runs with the flag that names it, and a case whose name holds
// "passthrough" with --enable-ssl-passthrough, one whose name holds
// "global_rate_limit" with --global-rate-limit-service 127.0.0.1:8081.
// `go test ./translator/ingress -update`
// rewrites the models; review the diff as code. The Envoy backend's golden
// test reads them.
func TestGolden(t *testing.T) {
	golden.Run(t, filepath.Join("..", "testdata"), "in", "ir", func(t *testing.T, file string) []byte {
		in, opts := goldenInput(t, file)
		return printModel(t, in, opts)
	})
}

// goldenInput reads a golden case with the options TestGolden runs it with.
func goldenInput(t *testing.T, file string) (translator.Input, translator.Options) {
	t.Helper()
	const defaultSSL, defaultBackend = "default/default-ssl-certificate", "default/default-backend"
	objs, err := watcher.ReadPaths([]string{file})
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	opts := translator.DefaultOptions()
	// The controller's ConfigMap, in the cases that have one.
	opts.ConfigMap = "default/rukou"
	opts.TCPServices, opts.UDPServices = "default/tcp-services", "default/udp-services"
	chain, key := golden.GeneratedCertificate()
	opts.GeneratedCertificate = &ingress.KeyPair{Chain: chain, Key: key}
	in := store.Input()
	if slices.ContainsFunc(in.Secrets, func(s *corev1.Secret) bool { return s.Namespace+"/"+s.Name == defaultSSL }) {
		opts.DefaultSSLCertificate = defaultSSL
	}
	if slices.ContainsFunc(in.Services, func(s *corev1.Service) bool { return s.Namespace+"/"+s.Name == defaultBackend }) {
		opts.DefaultBackendService = defaultBackend
	}
	opts.EnableSSLPassthrough = strings.Contains(filepath.Base(file), "passthrough")
	if strings.Contains(filepath.Base(file), "global_rate_limit") {
		opts.GlobalRateLimitService = "127.0.0.1:8081"
	}
	return in, opts
}

// printModel translates in and prints its routing model (with its
// diagnostics) as YAML.
func printModel(t *testing.T, in translator.Input, opts translator.Options) []byte {
	t.Helper()
	res, err := translator.Translate(in, opts)
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	out, err := yaml.Marshal(res.Config)
	if err != nil {
		t.Fatalf("printing the model: %v", err)
	}
	return out
}
