package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkMigrateCluster1k puts ingress-nginx (migrate/testdata's
// Deployment, ConfigMap and IngressClass) and 1,000 of its Ingresses, with
// their Services, into a real kube-apiserver, and measures `rukou migrate
// --kubeconfig` on it, end to end: the process, the lists, the
// translation and the JSON report. The goal is under 5 s.
func BenchmarkMigrateCluster1k(b *testing.B) {
	const n = 1000
	binaries(b)
	cluster := harness.StartCluster(b)
	cluster.Config.QPS, cluster.Config.Burst = 500, 1000
	client := kubernetes.NewForConfigOrDie(cluster.Config)
	ctx := harness.Context(b)
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	controller := filepath.Join(harness.Root(b), "migrate", "testdata", "cluster", "controller.yaml")
	if out, err := harness.Kubectl(b, cluster.Kubeconfig, "apply", "-f", controller); err != nil {
		b.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	createFleet(b, n, func(i int) error { return createNginxApp(ctx, client, i) })
	rukou := filepath.Join(harness.Root(b), "bin", "rukou")
	for b.Loop() {
		start := time.Now()
		out, err := exec.Command(rukou, "migrate", "--kubeconfig", cluster.Kubeconfig, "-o", "json").Output()
		elapsed := time.Since(start)
		var report struct {
			Summary struct{ Ingresses, ExitCode int }
		}
		if jerr := json.Unmarshal(out, &report); jerr != nil || report.Summary.Ingresses != n {
			b.Fatalf("rukou migrate: %v, %v; %d Ingresses reported, want %d", err, jerr, report.Summary.Ingresses, n)
		}
		b.Logf("rukou migrate on %d Ingresses in a real API server: %v (exit status %d)", n, elapsed.Round(time.Millisecond), report.Summary.ExitCode)
	}
}

// createNginxApp creates the i-th Service and its Ingress, of ingress-nginx's
// class, with a few annotations (every third has a snippet).
func createNginxApp(ctx context.Context, client kubernetes.Interface, i int) error {
	name := fmt.Sprintf("app-%d", i)
	if _, err := client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	annotations := map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "8m", "nginx.ingress.kubernetes.io/ssl-redirect": "false"}
	if i%3 == 0 {
		annotations["nginx.ingress.kubernetes.io/configuration-snippet"] = `more_set_headers "X-App: ` + name + `";`
	}
	class, prefix := "nginx", networkingv1.PathTypePrefix
	_, err := client.NetworkingV1().Ingresses("default").Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: host(i), IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Name: "http"}},
				}}},
			}}}},
		},
	}, metav1.CreateOptions{})
	return err
}
