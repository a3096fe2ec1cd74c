package ingress_test

import (
	"crypto/x509/pkix"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/selfsigned"
	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/ingress"
)

// withDefaultBackend runs a case with --default-backend-service default/fallback.
func withDefaultBackend(o *translator.Options) { o.DefaultBackendService = "default/fallback" }

// fallback is the Service default/fallback with a ready endpoint.
func fallback() []runtime.Object {
	return objects(service("fallback", servicePort("http", 8080), servicePort("metrics", 9090)),
		endpointSlice("fallback-1", "fallback", "http", 8080, endpoint(ready, "10.0.0.9")))
}

func TestBuildControllerDefaultBackend(t *testing.T) {
	const ctrl = "  Prefix / -> default/fallback/8080 (--default-backend-service) default"
	runBuildCases(t, []buildCase{
		{
			name: "unmatched_paths_and_unknown_hosts_go_to_the_first_port",
			objs: objects(services("a"), fallback(), ing("x", rule("example.com", path(prefix, "/api", svc("a", 80))))),
			opts: withDefaultBackend,
			model: []string{
				"example.com", "  Prefix /api -> default/a/80 (default/x)", ctrl,
				"*", ctrl,
			},
			backends: []string{"default/a/80 -> none", "default/fallback/8080 -> 10.0.0.9:8080"},
		},
		{
			name: "ingress_default_backends_come_first",
			objs: objects(services("a", "own", "catch"), fallback(),
				ing("x", rule("example.com", path(prefix, "/api", svc("a", 80))), defaultBackend(svc("own", 80))),
				ing("catch-all", defaultBackend(svc("catch", 80)))),
			opts: withDefaultBackend,
			model: []string{
				"example.com", "  Prefix /api -> default/a/80 (default/x)", "  Prefix / -> default/own/80 (default/x) default",
				"*", "  Prefix / -> default/catch/80 (default/catch-all) default",
			},
		},
		{
			name: "a_wildcard_hosts_own_names_stop_at_the_default_backend",
			objs: objects(services("a", "b"), fallback(),
				ing("w", rule("*.example.com", path(prefix, "/w", svc("a", 80)))),
				ing("h", rule("", path(prefix, "/h", svc("b", 80))))),
			opts: withDefaultBackend,
			model: []string{
				"*.example.com", "  Prefix /w -> default/a/80 (default/w)", ctrl,
				"  Prefix /h -> default/b/80 (default/h) hostless", ctrl,
				"*", "  Prefix /h -> default/b/80 (default/h) hostless", ctrl,
			},
		},
		{
			name:  "without_ready_endpoints_requests_get_404",
			objs:  objects(services("a"), service("fallback", servicePort("http", 8080)), ing("x", rule("example.com", path(prefix, "/api", svc("a", 80))))),
			opts:  withDefaultBackend,
			model: []string{"example.com", "  Prefix /api -> default/a/80 (default/x)"},
		},
		{
			name:     "missing_service_is_reported_and_requests_get_404",
			objs:     objects(services("a"), ing("x", rule("example.com", path(prefix, "/api", svc("a", 80))))),
			opts:     withDefaultBackend,
			model:    []string{"example.com", "  Prefix /api -> default/a/80 (default/x)"},
			diags:    []string{"ServiceNotFound default/fallback"},
			messages: []string{"--default-backend-service"},
		},
	})
}

// TestUpdateEndpointsTranslatesWhenTheDefaultBackendEmptiesOrFills: routes
// reach the default backend only while it has endpoints, so the fast path
// hands over to a whole translation when its last endpoint goes or its
// first comes, and keeps to endpoints otherwise.
func TestUpdateEndpointsTranslatesWhenTheDefaultBackendEmptiesOrFills(t *testing.T) {
	objs := objects(ingressClass("rukou", ourController, false), services("a"), fallback(), ing("x", rule("example.com", path(prefix, "/", svc("a", 80)))))
	opts := translator.DefaultOptions()
	withDefaultBackend(&opts)
	prev, err := translator.Translate(input(objs...), opts)
	if err != nil {
		t.Fatal(err)
	}
	moved := endpointSlice("fallback-1", "fallback", "http", 8080, endpoint(ready, "10.0.0.10"))
	if _, err := translator.UpdateEndpoints(prev, input(moved)); err != nil {
		t.Errorf("another endpoint: %v, want the fast path", err)
	}
	empty := endpointSlice("fallback-1", "fallback", "http", 8080, endpoint(notReady, "10.0.0.9"))
	if _, err := translator.UpdateEndpoints(prev, input(empty)); !errors.Is(err, translator.ErrNeedsTranslate) {
		t.Errorf("last endpoint gone: %v, want ErrNeedsTranslate", err)
	}
}

// selfSigned makes a certificate and key for hosts (none: for the
// common name only).
func selfSigned(t *testing.T, cn string, hosts ...string) *ingress.KeyPair {
	t.Helper()
	chain, key, err := selfsigned.New(pkix.Name{CommonName: cn}, hosts, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &ingress.KeyPair{Chain: chain, Key: key}
}

func tlsSecret(name string, kp *ingress.KeyPair) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: kp.Chain, corev1.TLSPrivateKeyKey: kp.Key},
	}
}

// certLines renders the model's certificates as "secret: host host", with
// "(default)" for the default chain, and the hosts with TLS.
func certLines(m *ingress.Model) []string {
	var out []string
	for _, c := range m.Certificates {
		hosts := strings.Join(c.Hosts, " ")
		if hosts == "" {
			hosts = "(default)"
		}
		out = append(out, c.Secret+": "+hosts)
	}
	for _, vh := range m.VirtualHosts {
		if vh.TLS {
			out = append(out, "tls "+vh.Host)
		}
	}
	return out
}

// TestBuildDefaultCertificate: which certificate each TLS host gets, with
// the generated default certificate and --default-ssl-certificate.
func TestBuildDefaultCertificate(t *testing.T) {
	generated := selfSigned(t, "Kubernetes Ingress Controller Fake Certificate", "ingress.local")
	shop := selfSigned(t, "shop.example.com", "shop.example.com")
	legacy := selfSigned(t, "old.example.com") // a common name and no DNS names
	wild := selfSigned(t, "*.example.com", "*.example.com")
	withTLS := func(name, host, secret string) runtime.Object {
		return modified(ing(name, rule(host, path(prefix, "/", svc("a", 80)))), func(i *networkingv1.Ingress) {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secret}}
		})
	}
	for _, c := range []struct {
		name  string
		objs  []runtime.Object
		flag  string
		gen   *ingress.KeyPair
		want  []string
		diags []string
	}{
		{
			name: "missing_secret_takes_the_generated_certificate",
			objs: objects(services("a"), withTLS("x", "x.example.com", "nope")), gen: generated,
			want:  []string{"default-fake-certificate: x.example.com", "default-fake-certificate: (default)", "tls x.example.com"},
			diags: []string{"SecretNotFound default/x"},
		},
		{
			name: "certificate_for_another_host_takes_the_default",
			objs: objects(services("a"), tlsSecret("shop", shop), withTLS("x", "x.example.com", "shop")), gen: generated,
			want:  []string{"default-fake-certificate: x.example.com", "default-fake-certificate: (default)", "tls x.example.com"},
			diags: []string{"CertificateMismatch default/x"},
		},
		{
			name: "common_name_covers_a_host_without_dns_names",
			objs: objects(services("a"), tlsSecret("old", legacy), withTLS("x", "old.example.com", "old")), gen: generated,
			want: []string{"default-fake-certificate: (default)", "default/old: old.example.com", "tls old.example.com"},
		},
		{
			name: "flag_names_the_default_certificate",
			objs: objects(services("a"), tlsSecret("shop", shop), withTLS("x", "x.example.com", "nope")), gen: generated, flag: "default/shop",
			want:  []string{"default/shop: x.example.com", "default/shop: (default)", "tls x.example.com"},
			diags: []string{"SecretNotFound default/x"},
		},
		{
			name: "flag_naming_a_missing_secret_falls_back_to_the_generated_one",
			objs: objects(services("a"), withTLS("x", "shop.example.com", "nope")), gen: generated, flag: "default/gone",
			want:  []string{"default-fake-certificate: shop.example.com", "default-fake-certificate: (default)", "tls shop.example.com"},
			diags: []string{"SecretNotFound default/gone", "SecretNotFound default/x"},
		},
		{
			name:  "without_any_default_the_host_goes_without_tls",
			objs:  objects(services("a"), withTLS("x", "x.example.com", "nope")),
			diags: []string{"SecretNotFound default/x"},
		},
		{
			name: "rule_host_of_a_tls_ingress_that_no_certificate_covers_takes_the_default",
			objs: objects(services("a"), tlsSecret("shop", shop), modified(ing("x",
				rule("shop.example.com", path(prefix, "/", svc("a", 80))), rule("blog.example.com", path(prefix, "/", svc("a", 80)))),
				func(i *networkingv1.Ingress) {
					i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop"}}
				})),
			gen:   generated,
			want:  []string{"default-fake-certificate: blog.example.com", "default-fake-certificate: (default)", "default/shop: shop.example.com", "tls blog.example.com", "tls shop.example.com"},
			diags: []string{"CertificateMismatch default/x"},
		},
		{
			// As ingress-nginx documents: a tls section without secretName
			// asks for the default certificate and the redirect.
			name: "entry_without_secret_name_asks_for_the_default_certificate",
			objs: objects(services("a"), modified(ing("x", rule("x.example.com", path(prefix, "/", svc("a", 80))), rule("y.example.com", path(prefix, "/", svc("a", 80)))),
				func(i *networkingv1.Ingress) {
					i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"x.example.com"}}}
				})),
			gen:  generated,
			want: []string{"default-fake-certificate: x.example.com y.example.com", "default-fake-certificate: (default)", "tls x.example.com", "tls y.example.com"},
		},
		{
			name: "default_certificate_valid_for_an_uncovered_host_is_not_reported",
			objs: objects(services("a"), tlsSecret("shop", shop), tlsSecret("wild", wild), modified(ing("x",
				rule("shop.example.com", path(prefix, "/", svc("a", 80))), rule("blog.example.com", path(prefix, "/", svc("a", 80)))),
				func(i *networkingv1.Ingress) {
					i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop"}}
				})),
			gen: generated, flag: "default/wild",
			want: []string{"default/shop: shop.example.com", "default/wild: blog.example.com", "default/wild: (default)", "tls blog.example.com", "tls shop.example.com"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := translator.DefaultOptions()
			opts.GeneratedCertificate, opts.DefaultSSLCertificate = c.gen, c.flag
			objs := append([]runtime.Object{ingressClass("rukou", ourController, false)}, c.objs...)
			m, diags := ingress.Build(input(objs...), opts)
			if got := certLines(m); !slices.Equal(got, c.want) {
				t.Errorf("certificates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if got := diagLines(diags); !slices.Equal(got, c.diags) {
				t.Errorf("diagnostics %q, want %q\n%v", got, c.diags, diags)
			}
			if _, err := translator.Translate(input(objs...), opts); err != nil {
				t.Errorf("Translate: %v", err)
			}
		})
	}
}
