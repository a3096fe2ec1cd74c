package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/examples/backend/echo"
	"github.com/rukou/rukou/test/harness"
)

// TestClusterMode runs rukou against a real kube-apiserver: objects created
// through the API reach a backend through Envoy, the controller's ConfigMap
// (--configmap) applies when created, and deleting the Ingress takes its
// route away.
func TestClusterMode(t *testing.T) {
	cluster := harness.StartCluster(t)
	netns := harness.StartNetns(t)
	netns.StartBackend(t, "shop", 8080)
	ctx := harness.Context(t)
	kc := cluster.Client

	ns := "shop"
	k := newKube(t, cluster)
	k.namespace(ns)
	k.ingressClass("rukou")
	// No controller-manager runs, so the test writes the EndpointSlice that
	// would point at the Service's pods: the backend in the netns.
	k.service(ns, "web", netns.IP)

	rukou := harness.StartRukou(t, "--kubeconfig", cluster.Kubeconfig, "--configmap", "rukou-system/rukou")
	envoy := harness.StartEnvoy(t, rukou.XDSAddress, "delta")
	port := rukou.HTTPPort

	// Nothing routes before the Ingress exists.
	harness.ExpectRoute(t, port, "shop.example", "/", http.StatusNotFound, "")

	must(t, func() error {
		_, err := kc.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr("rukou"),
				Rules: []networkingv1.IngressRule{{
					Host: "shop.example",
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{{
							Path:     "/cart",
							PathType: ptr(networkingv1.PathTypePrefix),
							Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
								Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"},
							}},
						}},
					}},
				}},
			},
		}, metav1.CreateOptions{})
		return err
	})
	start := time.Now()
	r := harness.ExpectRoute(t, port, "shop.example", "/cart/items", http.StatusOK, "shop")
	t.Logf("Ingress served %v after it was created", time.Since(start).Round(time.Millisecond))
	if r.Echo.Path != "/cart/items" {
		t.Errorf("backend saw path %q, want /cart/items", r.Echo.Path)
	}
	harness.ExpectRoute(t, port, "shop.example", "/cartography", http.StatusNotFound, "")

	// The controller's ConfigMap, created while rukou runs, applies
	// without a restart; one of the same name elsewhere is not read.
	// A new connection each time: the setting changes the listener, and a
	// kept-alive connection stays on the old one while it drains.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	underscored := func() (string, error) {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/cart", port), nil)
		if err != nil {
			return "", err
		}
		req.Host = "shop.example"
		req.Header["X_Tenant"] = []string{"blue"}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var e echo.Request
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return "", fmt.Errorf("%d, not an echo answer: %w", resp.StatusCode, err)
		}
		for k, v := range e.Headers {
			if strings.EqualFold(k, "X_Tenant") {
				return strings.Join(v, ","), nil
			}
		}
		return "", nil
	}
	if v, err := underscored(); err != nil || v != "" {
		t.Errorf("without the ConfigMap, X_Tenant reached the backend as %q (%v), want dropped", v, err)
	}
	for _, n := range []string{"rukou-system", ns} {
		must(t, func() error {
			if n != ns {
				if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
					return err
				}
			}
			_, err := kc.CoreV1().ConfigMaps(n).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "rukou"},
				Data:       map[string]string{"enable-underscores-in-headers": strconv.FormatBool(n == "rukou-system"), "hsts": "maybe"},
			}, metav1.CreateOptions{})
			return err
		})
	}
	harness.Eventually(t, 15*time.Second, "X_Tenant reaches the backend", func() error {
		if v, err := underscored(); err != nil || v != "blue" {
			return fmt.Errorf("backend saw X_Tenant %q (%v)", v, err)
		}
		return nil
	})
	harness.Eventually(t, 10*time.Second, "the ConfigMap's invalid hsts reported on it", func() error {
		body, err := rukou.Debug("/debug/config")
		if err != nil {
			return err
		}
		var dump struct {
			Diagnostics []struct{ Kind, Namespace, Name, Field, Reason string }
		}
		if err := json.Unmarshal([]byte(body), &dump); err != nil {
			return err
		}
		var got []string
		for _, d := range dump.Diagnostics {
			if d.Kind == "ConfigMap" {
				got = append(got, d.Namespace+"/"+d.Name+" "+d.Field+" "+d.Reason)
			}
		}
		if want := "rukou-system/rukou data[hsts] InvalidConfigValue"; len(got) != 1 || got[0] != want {
			return fmt.Errorf("ConfigMap diagnostics %q, want only %q", got, want)
		}
		return nil
	})

	must(t, func() error { return kc.NetworkingV1().Ingresses(ns).Delete(ctx, "web", metav1.DeleteOptions{}) })
	harness.ExpectRoute(t, port, "shop.example", "/cart/items", http.StatusNotFound, "")

	expectNoRejection(t, envoy)
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
