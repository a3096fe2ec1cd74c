package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/envoy"
	"github.com/rukou/rukou/test/harness"
)

// applyManifest runs `kubectl apply -f deploy/rukou.yaml` as a cluster admin
// and returns kubectl's lines, one per object.
func applyManifest(t *testing.T, cluster *harness.Cluster, path string) []string {
	t.Helper()
	start := time.Now()
	out, err := harness.Kubectl(t, cluster.Kubeconfig, "apply", "-f", path)
	if err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", path, err, out)
	}
	t.Logf("kubectl apply -f %s: %v", filepath.Base(path), time.Since(start).Round(time.Millisecond))
	return strings.Split(strings.TrimSpace(out), "\n")
}

// TestDeployApply: deploy/rukou.yaml applies to a fresh API server (every
// object passes the server's own validation), a second apply changes
// nothing, every pod template passes the namespace's "restricted" Pod
// Security level, the documented switch to an Envoy Deployment applies, and
// each ServiceAccount can do what it needs and nothing else.
func TestDeployApply(t *testing.T) {
	cluster := harness.StartCluster(t)
	m := harness.LoadManifest(t)

	first := applyManifest(t, cluster, m.Path)
	if len(first) != len(m.Objects) {
		t.Errorf("kubectl apply printed %d lines for %d objects:\n%s", len(first), len(m.Objects), strings.Join(first, "\n"))
	}
	for _, line := range first {
		if !strings.HasSuffix(line, " created") {
			t.Errorf("first apply: %q, want every object created", line)
		}
	}
	second := applyManifest(t, cluster, m.Path)
	for _, line := range second {
		if !strings.HasSuffix(line, " unchanged") {
			t.Errorf("second apply: %q, want every object unchanged", line)
		}
	}
	if len(second) != len(m.Objects) {
		t.Errorf("second apply printed %d lines for %d objects", len(second), len(m.Objects))
	}

	t.Run("pod_templates_pass_restricted_pod_security", func(t *testing.T) {
		// No controller-manager runs, so nothing makes these pods: the
		// test does, as the controllers would, and the namespace's
		// PodSecurity admission judges them.
		ctx := harness.Context(t)
		pods := cluster.Client.CoreV1().Pods("rukou-system")
		for name, spec := range map[string]corev1.PodSpec{
			"rukou":         m.Deployment(t, "rukou").Spec.Template.Spec,
			"rukou-envoy":   m.DaemonSet(t, "rukou-envoy").Spec.Template.Spec,
			"rukou-certgen": m.Job(t, "rukou-certgen").Spec.Template.Spec,
		} {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name + "-template"}, Spec: spec}
			if _, err := pods.Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("a pod of %s's template is refused: %v", name, err)
			}
		}
		// The control: the namespace does refuse a pod that may run as root.
		loose := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "loose"},
			Spec: corev1.PodSpec{
				ServiceAccountName: "rukou-envoy",
				Containers:         []corev1.Container{{Name: "c", Image: "envoyproxy/envoy:v1.40.0"}},
			},
		}
		_, err := pods.Create(ctx, loose, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "restricted") {
			t.Errorf("a pod without a securityContext was not refused by Pod Security: %v", err)
		}
	})

	t.Run("service_accounts_can_do_what_they_need_and_no_more", func(t *testing.T) {
		checkCanI(t, cluster, canIRukou)
		checkCanI(t, cluster, canICertgen)
		checkCanI(t, cluster, canIEnvoy)
	})

	t.Run("envoy_as_a_deployment_applies", func(t *testing.T) {
		// The switch docs/install.md describes.
		out, err := harness.Kubectl(t, cluster.Kubeconfig, "-n", "rukou-system", "delete", "daemonset", "rukou-envoy")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		path := filepath.Join(t.TempDir(), "rukou-deployment.yaml")
		writeManifest(t, path, envoyAsDeployment(t, m))
		lines := applyManifest(t, cluster, path)
		want := map[string]string{
			"deployment.apps/rukou-envoy": "created",
			"service/rukou-envoy":         "configured",
		}
		for _, line := range lines {
			name, verb, _ := strings.Cut(line, " ")
			if w, ok := want[name]; ok && verb != w || !ok && verb != "unchanged" {
				t.Errorf("apply of the Deployment variant: %q", line)
			}
		}
		svc, err := cluster.Client.CoreV1().Services("rukou-system").Get(harness.Context(t), "rukou-envoy", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
			t.Errorf("externalTrafficPolicy %q after the switch, want Cluster", svc.Spec.ExternalTrafficPolicy)
		}
	})
}

// envoyAsDeployment applies, to the text of deploy/rukou.yaml, the edits
// docs/install.md lists for running Envoy as a Deployment.
func envoyAsDeployment(t *testing.T, m *harness.Manifest) string {
	t.Helper()
	text := readFile(t, m.Path)
	for _, edit := range []struct{ old, new string }{
		{"kind: DaemonSet\n", "kind: Deployment\n"},
		{"  updateStrategy:\n    type: RollingUpdate\n", "  replicas: 2\n  strategy:\n    type: RollingUpdate\n"},
		{"\n  externalTrafficPolicy: Local\n", "\n  externalTrafficPolicy: Cluster\n"},
	} {
		if strings.Count(text, edit.old) != 1 {
			t.Fatalf("deploy/rukou.yaml holds %q %d times; docs/install.md's edit needs it once", edit.old, strings.Count(text, edit.old))
		}
		text = strings.Replace(text, edit.old, edit.new, 1)
	}
	return text
}

// canI is what one ServiceAccount may and may not do, as `kubectl auth
// can-i` arguments.
type canI struct {
	account string
	yes, no [][]string
}

var canIRukou = canI{
	account: "rukou",
	yes: [][]string{
		{"list", "ingresses.networking.k8s.io", "-A"},
		{"watch", "ingresses.networking.k8s.io", "-A"},
		{"get", "ingresses.networking.k8s.io", "-n", "shop"},
		{"list", "ingressclasses.networking.k8s.io"},
		{"watch", "ingressclasses.networking.k8s.io"},
		{"list", "services", "-A"},
		{"watch", "services", "-A"},
		{"list", "endpointslices.discovery.k8s.io", "-A"},
		{"watch", "endpointslices.discovery.k8s.io", "-A"},
		{"list", "secrets", "-A"},
		{"watch", "secrets", "-A"},
		{"update", "ingresses.networking.k8s.io", "--subresource=status", "-n", "shop"},
		{"list", "nodes"},
		{"watch", "nodes"},
		{"create", "events", "-n", "shop"},
		{"patch", "events", "-n", "shop"},
		{"list", "services/rukou-envoy", "-n", "rukou-system"},
		{"watch", "services/rukou-envoy", "-n", "rukou-system"},
		{"list", "configmaps/rukou", "-n", "rukou-system"},
		{"watch", "configmaps/rukou", "-n", "rukou-system"},
		{"list", "configmaps", "-n", "rukou-system"},
		{"watch", "configmaps", "-n", "rukou-system"},
		{"list", "pods", "-n", "rukou-system"},
		{"watch", "pods", "-n", "rukou-system"},
		{"create", "leases.coordination.k8s.io", "-n", "rukou-system"},
		{"get", "leases.coordination.k8s.io/rukou-leader", "-n", "rukou-system"},
		{"update", "leases.coordination.k8s.io/rukou-leader", "-n", "rukou-system"},
	},
	no: [][]string{
		{"create", "ingresses.networking.k8s.io", "-n", "shop"},
		{"update", "ingresses.networking.k8s.io", "-n", "shop"},
		{"patch", "ingresses.networking.k8s.io", "-n", "shop"},
		{"delete", "ingresses.networking.k8s.io", "-n", "shop"},
		{"patch", "ingresses.networking.k8s.io", "--subresource=status", "-n", "shop"},
		{"update", "ingressclasses.networking.k8s.io"},
		{"delete", "ingressclasses.networking.k8s.io"},
		{"update", "services", "-n", "shop"},
		{"update", "services/rukou-envoy", "-n", "rukou-system"},
		{"delete", "services", "-n", "rukou-system"},
		{"update", "services", "--subresource=status", "-n", "rukou-system"},
		{"create", "endpointslices.discovery.k8s.io", "-n", "shop"},
		{"update", "endpointslices.discovery.k8s.io", "-n", "shop"},
		{"get", "secrets", "-n", "shop"},
		{"create", "secrets", "-n", "shop"},
		{"update", "secrets", "-n", "rukou-system"},
		{"delete", "secrets", "-n", "rukou-system"},
		{"get", "nodes/node-1"},
		{"update", "nodes"},
		{"patch", "nodes", "--subresource=status"},
		{"list", "pods", "-A"},
		{"get", "pods", "-n", "shop"},
		{"create", "pods", "-n", "rukou-system"},
		{"delete", "pods", "-n", "rukou-system"},
		{"create", "pods", "--subresource=exec", "-n", "rukou-system"},
		{"update", "leases.coordination.k8s.io/kube-controller-manager", "-n", "kube-system"},
		{"update", "leases.coordination.k8s.io/another-lease", "-n", "rukou-system"},
		{"create", "leases.coordination.k8s.io", "-n", "shop"},
		{"delete", "leases.coordination.k8s.io/rukou-leader", "-n", "rukou-system"},
		{"delete", "events", "-n", "shop"},
		{"list", "configmaps", "-A"},
		{"get", "configmaps/other", "-n", "rukou-system"},
		{"update", "configmaps/rukou", "-n", "rukou-system"},
		{"list", "configmaps/rukou", "-n", "shop"},
		{"create", "serviceaccounts/token", "-n", "rukou-system"},
		{"create", "deployments.apps", "-n", "rukou-system"},
		{"escalate", "clusterroles.rbac.authorization.k8s.io"},
		{"*", "*"},
	},
}

var canICertgen = canI{
	account: "rukou-certgen",
	yes: [][]string{
		{"create", "secrets", "-n", "rukou-system"},
		{"get", "secrets/rukou-xds-ca", "-n", "rukou-system"},
		{"update", "secrets/rukou-xds-server", "-n", "rukou-system"},
		{"update", "secrets/rukou-xds-client", "-n", "rukou-system"},
	},
	no: [][]string{
		{"list", "secrets", "-n", "rukou-system"},
		{"watch", "secrets", "-n", "rukou-system"},
		{"get", "secrets/other", "-n", "rukou-system"},
		{"update", "secrets/other", "-n", "rukou-system"},
		{"delete", "secrets/rukou-xds-ca", "-n", "rukou-system"},
		{"create", "secrets", "-n", "shop"},
		{"get", "secrets/rukou-xds-ca", "-n", "shop"},
		{"list", "ingresses.networking.k8s.io", "-A"},
	},
}

var canIEnvoy = canI{
	account: "rukou-envoy",
	no: [][]string{
		{"get", "secrets/rukou-xds-client", "-n", "rukou-system"},
		{"list", "secrets", "-A"},
		{"list", "services", "-A"},
		{"list", "pods", "-n", "rukou-system"},
		{"list", "ingresses.networking.k8s.io", "-A"},
		{"create", "events", "-n", "rukou-system"},
	},
}

// checkCanI asks `kubectl auth can-i --as` the ServiceAccount's questions,
// a few at a time.
func checkCanI(t *testing.T, cluster *harness.Cluster, c canI) {
	t.Helper()
	as := "--as=system:serviceaccount:rukou-system:" + c.account
	type question struct {
		args []string
		want string
	}
	var qs []question
	for _, a := range c.yes {
		qs = append(qs, question{a, "yes"})
	}
	for _, a := range c.no {
		qs = append(qs, question{a, "no"})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, q := range qs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// can-i exits 1 for "no": the answer is the output's last
			// line (warnings come first, for cluster-scoped resources).
			out, _ := harness.Kubectl(t, cluster.Kubeconfig, append([]string{"auth", "can-i", as}, q.args...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := lines[len(lines)-1]; got != q.want {
				t.Errorf("kubectl auth can-i %s %s: %q, want %q", as, strings.Join(q.args, " "), got, q.want)
			}
		})
	}
	wg.Wait()
}

// TestDeployServe runs the control plane and Envoy of deploy/rukou.yaml as
// their pods would, with their own ServiceAccounts' tokens: `rukou certgen`
// from the Job makes the mTLS Secrets (and a second run leaves them alone),
// rukou serves from the Deployment's command line with those certificates,
// Envoy starts from the bootstrap its init container writes and connects
// over mutual TLS; then traffic flows, Ingress status and Events are
// written, the Lease is held, nothing was forbidden, and every request rukou
// made for Secrets asked for TLS Secrets only.
func TestDeployServe(t *testing.T) {
	cluster := harness.StartCluster(t)
	netns := harness.StartNetns(t)
	netns.StartBackend(t, "web", 8080)
	m := harness.LoadManifest(t)
	applyManifest(t, cluster, m.Path)
	k := newKube(t, cluster)
	secrets := cluster.Client.CoreV1().Secrets("rukou-system")

	// certgen, from the Job, with the Job's ServiceAccount.
	jobSpec := &m.Job(t, "rukou-certgen").Spec.Template.Spec
	certgenKubeconfig := cluster.ServiceAccountKubeconfig(t, "rukou-system", jobSpec.ServiceAccountName, "")
	certgenPod := harness.NewLocalPod(t, "rukou-certgen-x7k2p", jobSpec, nil)
	runCertgen := func() string {
		cmd := certgenPod.Command(harness.Container(t, jobSpec, "certgen"))
		// In a pod: the in-cluster config. Here: the same token.
		cmd.Env = append(cmd.Env, "KUBECONFIG="+certgenKubeconfig)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("rukou certgen: %v\n%s", err, out)
		}
		t.Logf("rukou certgen: %v\n%s", time.Since(start).Round(time.Millisecond), out)
		return string(out)
	}
	names := []string{"rukou-xds-ca", "rukou-xds-server", "rukou-xds-client"}
	out := runCertgen()
	data := map[string]map[string][]byte{}
	versions := map[string]string{}
	for _, name := range names {
		if !strings.Contains(out, "secret rukou-system/"+name+" created") {
			t.Errorf("certgen did not say it created %s", name)
		}
		s, err := secrets.Get(k.cx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data[name], versions[name] = s.Data, s.ResourceVersion
	}
	t.Run("certgen_again_changes_nothing", func(t *testing.T) {
		out := runCertgen()
		for _, name := range names {
			if !strings.Contains(out, "secret rukou-system/"+name+" unchanged") {
				t.Errorf("second certgen run did not leave %s unchanged", name)
			}
			s, err := secrets.Get(k.cx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if s.ResourceVersion != versions[name] {
				t.Errorf("secret %s was written again: resourceVersion %s, then %s", name, versions[name], s.ResourceVersion)
			}
		}
	})

	// What the pods would find: a Node, the Envoy pod on it (for
	// --publish-service), an application with a TLS Secret and an Opaque one.
	k.create("Node node-1", func() error {
		n, err := k.c.CoreV1().Nodes().Create(k.cx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.21"}}
		_, err = k.c.CoreV1().Nodes().UpdateStatus(k.cx, n, metav1.UpdateOptions{})
		return err
	})
	ds := m.DaemonSet(t, "rukou-envoy")
	k.create("Envoy pod", func() error {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "rukou-envoy-q8v4c", Labels: ds.Spec.Template.Labels}, Spec: *ds.Spec.Template.Spec.DeepCopy()}
		pod.Spec.NodeName = "node-1"
		_, err := k.c.CoreV1().Pods("rukou-system").Create(k.cx, pod, metav1.CreateOptions{})
		return err
	})
	k.namespace("shop")
	k.service("shop", "web", netns.IP)
	k.ingress("shop", "web", "rukou", "web.example", "web")
	ca := newTestCA(t)
	tlsSecret := ca.secret(t, "web-tls", 2, "web.example")
	tlsSecret.Namespace = "shop"
	opaque := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: "shop"}, StringData: map[string]string{"password": "hunter2"}}
	for _, s := range []*corev1.Secret{tlsSecret, opaque} {
		k.create("Secret "+s.Name, func() error {
			_, err := k.c.CoreV1().Secrets("shop").Create(k.cx, s, metav1.CreateOptions{})
			return err
		})
	}
	k.create("Ingress web-tls", func() error {
		_, err := k.c.NetworkingV1().Ingresses("shop").Create(k.cx, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "web-tls", Namespace: "shop"},
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr("rukou"),
				TLS:              []networkingv1.IngressTLS{{Hosts: []string{"secure.example"}, SecretName: "web-tls"}},
				Rules:            []networkingv1.IngressRule{rule("secure.example", path(prefix, "/", "web"))},
			},
		}, metav1.CreateOptions{})
		return err
	})

	// rukou, from the Deployment, with its ServiceAccount's token, through
	// a proxy that records what it asks the API server.
	recorder := cluster.StartAPIRecorder(t)
	rukouKubeconfig := cluster.ServiceAccountKubeconfig(t, "rukou-system", "rukou", recorder.URL)
	deploySpec := &m.Deployment(t, "rukou").Spec.Template.Spec
	rukouPod := harness.NewLocalPod(t, "rukou-6d5f7c9b8-kx2mp", deploySpec, data)
	serveCmd := rukouPod.Command(harness.Container(t, deploySpec, "rukou"))
	if serveCmd.Args[1] != "serve" {
		t.Fatalf("the rukou container runs %q, want serve", serveCmd.Args[1:])
	}
	started := time.Now()
	r := harness.StartRukou(t, append(slices.Clone(serveCmd.Args[2:]), "--kubeconfig", rukouKubeconfig)...)

	// Envoy, from the DaemonSet: the init container, then Envoy itself.
	envoy := startEnvoyPod(t, "rukou-envoy-q8v4c", &ds.Spec.Template.Spec, data, r.XDSAddress, nil)
	t.Logf("Envoy ready over mTLS %v after rukou started", time.Since(started).Round(time.Millisecond))

	t.Run("traffic_flows", func(t *testing.T) {
		harness.ExpectRoute(t, r.HTTPPort, "web.example", "/", http.StatusOK, "web")
		harness.ExpectRoute(t, r.HTTPPort, "secure.example", "/", http.StatusPermanentRedirect, "")
	})
	t.Run("limit_connections_counts_beside_envoy", func(t *testing.T) {
		k := newKube(t, cluster)
		k.create("Ingress limited", func() error {
			ing := &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "limited", Namespace: "shop", Annotations: map[string]string{
					"nginx.ingress.kubernetes.io/limit-connections": "5",
				}},
				Spec: networkingv1.IngressSpec{
					IngressClassName: ptr("rukou"),
					Rules:            []networkingv1.IngressRule{rule("limited.example", path(prefix, "/", "web"))},
				},
			}
			_, err := k.c.NetworkingV1().Ingresses("shop").Create(k.cx, ing, metav1.CreateOptions{})
			return err
		})
		harness.ExpectRoute(t, r.HTTPPort, "limited.example", "/", http.StatusOK, "web")
		body, err := harness.GetOK("http://" + envoy.LimiterOps + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, err := harness.ParseMetrics(body)
		if err != nil {
			t.Fatal(err)
		}
		if n := m.Sum("rukou_limit_connections_requests_total", "result", "counted"); n < 1 {
			t.Errorf("the limiter sidecar counted %v requests; Envoy should ask it about limited.example", n)
		}
	})
	t.Run("envoy_is_connected_as_its_pod", func(t *testing.T) {
		st, err := r.XDSStatus()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range st.Nodes {
			ids = append(ids, n.ID)
			if n.ID == envoy.Name && n.NACKs != 0 {
				t.Errorf("%s NACKed %d times", n.ID, n.NACKs)
			}
		}
		if !slices.Contains(ids, envoy.Name) {
			t.Errorf("/debug/xds shows nodes %q, not the pod %s", ids, envoy.Name)
		}
	})
	// Each subtest checks with its own t, so that one failure does not
	// hide the others.
	t.Run("status_is_written", func(t *testing.T) {
		newKube(t, cluster).expectStatus("shop", "web", "192.0.2.21")
	})
	t.Run("events_are_created", func(t *testing.T) {
		k := newKube(t, cluster)
		harness.Eventually(t, 20*time.Second, "Accepted Event on shop/web", func() error {
			for _, e := range k.events("shop", "web") {
				if e.Type == corev1.EventTypeNormal && e.Reason == "Accepted" {
					return nil
				}
			}
			return fmt.Errorf("no Accepted Event")
		})
	})
	t.Run("leader_holds_the_lease", func(t *testing.T) {
		lease, err := cluster.Client.CoordinationV1().Leases("rukou-system").Get(harness.Context(t), "rukou-leader", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			t.Error("the Lease rukou-leader has no holder")
		}
	})
	t.Run("nothing_was_forbidden", func(t *testing.T) {
		if log := strings.ToLower(r.Log()); strings.Contains(log, "forbidden") {
			t.Errorf("rukou's log mentions forbidden requests:\n%s", r.Log())
		}
	})
	t.Run("secrets_are_requested_by_type_only", func(t *testing.T) {
		n := 0
		seen := map[string]bool{}
		for _, req := range recorder.Requests() {
			seen[req.Method+" "+req.Path] = true
			if !strings.HasSuffix(req.Path, "/secrets") && !strings.Contains(req.Path, "/secrets/") {
				continue
			}
			n++
			if sel := req.Query.Get("fieldSelector"); req.Method != http.MethodGet || sel != "type=kubernetes.io/tls" && sel != "type=Opaque" {
				t.Errorf("rukou asked for Secrets with %s %s?%s", req.Method, req.Path, req.Query.Encode())
			}
		}
		if n == 0 {
			t.Error("rukou made no request for Secrets at all")
		}
		var all []string
		for s := range seen {
			all = append(all, s)
		}
		slices.Sort(all)
		t.Logf("rukou's %d kinds of API request:\n%s", len(all), strings.Join(all, "\n"))
	})
}

// envoyPod is the Envoy pod of deploy/rukou.yaml's DaemonSet, run here.
type envoyPod struct {
	*harness.LocalPod
	Envoy, Limiter *harness.Process
	// ReadyURL is where the kubelet's readiness probe asks.
	ReadyURL string
	// LimiterOps is the address of the limiter's /healthz and /metrics.
	LimiterOps string
}

// startEnvoyPod runs the DaemonSet's pod here: its init container (`rukou
// bootstrap`), the limiter sidecar, then Envoy, connected to rukou at
// xdsAddress, with the admin API, the readiness listener and the limiter
// on free ports and flags overriding more of the manifest's values. It
// returns once the readiness probe's URL answers 200.
func startEnvoyPod(t *testing.T, name string, spec *corev1.PodSpec, secrets map[string]map[string][]byte, xdsAddress string, flags map[string]string) *envoyPod {
	t.Helper()
	pod := harness.NewLocalPod(t, name, spec, secrets)
	ready, limiter, limiterOps := harness.Addr(t), harness.Addr(t), harness.Addr(t)
	pod.Flags = map[string]string{
		"--xds-address": xdsAddress, "--admin-address": harness.Addr(t), "--ready-address": ready,
		"--limiter-address": limiter, "--address": limiter, "--ops-address": limiterOps,
	}
	for k, v := range flags {
		pod.Flags[k] = v
	}
	pod.Run(harness.Container(t, spec, "bootstrap"))
	limiterC := harness.Container(t, spec, "limiter")
	p := &envoyPod{LocalPod: pod, Limiter: pod.Start(limiterC), LimiterOps: limiterOps}
	// The kubelet starts Envoy once the sidecar's startup probe passes.
	harness.Eventually(t, 10*time.Second, name+"'s limiter passes its startup probe", func() error {
		if p.Limiter.Exited() {
			t.Fatalf("limiter exited:\n%s", p.Limiter.Log())
		}
		return expectStatusCode("http://"+limiterOps+limiterC.StartupProbe.HTTPGet.Path, http.StatusOK)
	})
	envoyC := harness.Container(t, spec, "envoy")
	p.Envoy, p.ReadyURL = pod.Start(envoyC), "http://"+ready+envoyC.ReadinessProbe.HTTPGet.Path
	harness.Eventually(t, 30*time.Second, name+"'s readiness endpoint answers 200", func() error {
		if p.Envoy.Exited() {
			t.Fatalf("envoy exited:\n%s", p.Envoy.Log())
		}
		return expectStatusCode(p.ReadyURL, http.StatusOK)
	})
	return p
}

// waitInFlight waits until the pod's Envoy has a request open to the slow
// backend, as a drain must find it.
func (p *envoyPod) waitInFlight(t *testing.T) {
	t.Helper()
	admin := &envoy.Admin{Address: p.Flags["--admin-address"]}
	const active = "cluster.default_slow_80.upstream_rq_active"
	harness.Eventually(t, 2*time.Second, "the request reaches the backend", func() error {
		stats, err := admin.Stats(t.Context(), active)
		if err != nil {
			return err
		}
		if stats[active] < 1 {
			return fmt.Errorf("%s = %d", active, stats[active])
		}
		return nil
	})
}

func expectStatusCode(url string, want int) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEnvoyDrain: the Envoy pod of deploy/rukou.yaml, run here, and its
// preStop hook (`rukou drain`, copied by the init container). The readiness
// endpoint turns 503 at once, a request in flight completes (told to close
// its connection), an idle keep-alive connection does not hold the drain,
// and the hook returns once the request is done; a request that outlasts
// --timeout makes the hook give up at the deadline and say so.
func TestEnvoyDrain(t *testing.T) {
	slow := startSlowBackend(t)
	dir := t.TempDir()
	writeManifest(t, filepath.Join(dir, "slow.yaml"), manifest("slow.example", "slow", slow))
	certs := harness.WriteCerts(t, t.TempDir())
	r := harness.StartRukou(t, "--watch-dir", dir,
		"--xds-tls-cert", certs.ServerCert, "--xds-tls-key", certs.ServerKey, "--xds-tls-ca", certs.CA)
	m := harness.LoadManifest(t)
	spec := &m.DaemonSet(t, "rukou-envoy").Spec.Template.Spec
	clientSecret := map[string]map[string][]byte{"rukou-xds-client": {
		"tls.crt": []byte(readFile(t, certs.ClientCert)), "tls.key": []byte(readFile(t, certs.ClientKey)), "ca.crt": []byte(readFile(t, certs.CA)),
	}}
	envoyC := harness.Container(t, spec, "envoy")
	minWait, _ := harness.Flag(envoyC.Lifecycle.PreStop.Exec.Command, "--min-wait")
	wantMin, err := time.ParseDuration(minWait)
	if err != nil {
		t.Fatalf("preStop --min-wait %q: %v", minWait, err)
	}

	// Two Envoys here share their listeners' ports (SO_REUSEPORT): each
	// subtest stops its Envoy after the hook, as the kubelet would.
	start := func(name string, flags map[string]string) *envoyPod {
		pod := startEnvoyPod(t, name, spec, clientSecret, r.XDSAddress, flags)
		harness.ExpectRoute(t, r.HTTPPort, "slow.example", "/", http.StatusOK, "")
		return pod
	}

	t.Run("requests_in_flight_complete", func(t *testing.T) {
		pod := start("rukou-envoy-drain1", nil)
		defer pod.Envoy.Stop(10 * time.Second)
		idle := openIdleConnection(t, r.HTTPPort, "slow.example")
		inFlight := make(chan slowResult, 1)
		go func() { inFlight <- slowGet(r.HTTPPort, "slow.example", 3*time.Second) }()
		pod.waitInFlight(t)

		hook := pod.PreStop(envoyC)
		var hookOut strings.Builder
		hook.Stdout, hook.Stderr = &hookOut, &hookOut
		begun := time.Now()
		if err := hook.Start(); err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, 2*time.Second, "the readiness endpoint answers 503", func() error {
			return expectStatusCode(pod.ReadyURL, http.StatusServiceUnavailable)
		})
		t.Logf("readiness 503 %v after the hook started", time.Since(begun).Round(time.Millisecond))
		res := <-inFlight
		if res.err != nil || res.status != http.StatusOK {
			t.Errorf("the request in flight: %d, %v; want 200", res.status, res.err)
		}
		if !strings.EqualFold(res.connection, "close") {
			t.Errorf("the request in flight was not told to close its connection (Connection: %q)", res.connection)
		}
		if err := waitCmd(hook, 20*time.Second); err != nil {
			t.Fatalf("preStop hook: %v\n%s", err, hookOut.String())
		}
		took := time.Since(begun)
		t.Logf("preStop hook returned after %v:\n%s", took.Round(time.Millisecond), hookOut.String())
		if took < wantMin || took < 2500*time.Millisecond {
			t.Errorf("the hook returned after %v, before the request in flight (3 s) or --min-wait (%v)", took, wantMin)
		}
		if took > wantMin+5*time.Second {
			t.Errorf("the hook took %v: the idle connection held it", took)
		}
		if !idle.open() {
			t.Log("(Envoy closed the idle connection during the drain)")
		}
	})

	t.Run("gives_up_at_the_deadline", func(t *testing.T) {
		pod := start("rukou-envoy-drain2", map[string]string{"--timeout": "2s"})
		defer pod.Envoy.Stop(10 * time.Second)
		inFlight := make(chan slowResult, 1)
		go func() { inFlight <- slowGet(r.HTTPPort, "slow.example", 3500*time.Millisecond) }()
		pod.waitInFlight(t)
		begun := time.Now()
		out, err := pod.PreStop(envoyC).CombinedOutput()
		took := time.Since(begun)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("hook: %v, want exit status 1\n%s", err, out)
		}
		if !strings.Contains(string(out), "1 requests still open") {
			t.Errorf("the hook does not say what is still open:\n%s", out)
		}
		if took < 1900*time.Millisecond || took > 4*time.Second {
			t.Errorf("the hook gave up after %v, want about 2 s", took)
		}
		<-inFlight
	})
}

// startSlowBackend serves on 127.0.0.1 a backend whose /slow?d=DURATION
// answers after that long, and returns its port.
func startSlowBackend(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if d, err := time.ParseDuration(req.URL.Query().Get("d")); err == nil && d < time.Minute {
			select {
			case <-time.After(d):
			case <-req.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "done\n")
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

type slowResult struct {
	status     int
	connection string
	err        error
}

func slowGet(port int, host string, d time.Duration) slowResult {
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/slow?d="+d.String(), nil)
	if err != nil {
		return slowResult{err: err}
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: d + 10*time.Second}).Do(req)
	if err != nil {
		return slowResult{err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	// Go's client takes "Connection: close" into resp.Close.
	conn := resp.Header.Get("Connection")
	if resp.Close {
		conn = "close"
	}
	return slowResult{status: resp.StatusCode, connection: conn}
}

// idleConn is a keep-alive connection that sent one request and then waits.
type idleConn struct {
	mu     sync.Mutex
	closed bool
}

func (c *idleConn) open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed
}

func openIdleConnection(t *testing.T, port int, host string) *idleConn {
	t.Helper()
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c := &idleConn{}
	go func() {
		_, _ = br.ReadByte() // returns when Envoy closes the connection
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	}()
	return c
}

// waitCmd waits for a started command, at most d.
func waitCmd(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("still running after %v", d)
	}
}
