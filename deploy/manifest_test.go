// Package deploy_test checks deploy/rukou.yaml, the one file users apply,
// and the image its pods run. The end-to-end tests in test/e2e apply it to
// a real API server and run its command lines.
package deploy_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rukou/rukou/test/harness"
)

const (
	envoyImage = "envoyproxy/envoy:v1.40.0"
	namespace  = "rukou-system"
)

// rukouImage is the image `make image` builds, as the Makefile names it.
func rukouImage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.Root(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^IMAGE\s*\?=\s*(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Makefile sets no IMAGE ?= default")
	}
	return string(m[1])
}

func TestManifestObjects(t *testing.T) {
	m := harness.LoadManifest(t)
	var got []string
	for _, o := range m.Objects {
		got = append(got, fmt.Sprintf("%T", o))
	}
	want := []string{
		"*v1.Namespace", "*v1.ServiceAccount", "*v1.ServiceAccount", "*v1.ServiceAccount",
		"*v1.ClusterRole", "*v1.ClusterRoleBinding", "*v1.Role", "*v1.RoleBinding", "*v1.Role", "*v1.RoleBinding",
		"*v1.IngressClass", "*v1.ConfigMap", "*v1.Job", "*v1.Service", "*v1.Deployment", "*v1.Service", "*v1.DaemonSet",
	}
	if !slices.Equal(got, want) {
		t.Errorf("objects in order:\n got %v\nwant %v", got, want)
	}
	ns := harness.Find[*corev1.Namespace](t, m, namespace)
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %s does not enforce the restricted Pod Security level: %v", namespace, ns.Labels)
	}
	ic := harness.Find[*networkingv1.IngressClass](t, m, "rukou")
	if ic.Spec.Controller != "rukou.io/ingress-controller" {
		t.Errorf("IngressClass rukou has controller %q", ic.Spec.Controller)
	}
	if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] != "" {
		t.Error("IngressClass rukou makes itself the default: that is the user's choice")
	}
}

func TestManifestEnvoyService(t *testing.T) {
	m := harness.LoadManifest(t)
	svc := m.Service(t, "rukou-envoy")
	ds := m.DaemonSet(t, "rukou-envoy")
	if svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("rukou-envoy is a %s Service, want NodePort", svc.Spec.Type)
	}
	if svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		t.Errorf("externalTrafficPolicy %q, want Local (one Envoy per node)", svc.Spec.ExternalTrafficPolicy)
	}
	envoy := harness.Container(t, &ds.Spec.Template.Spec, "envoy")
	want := map[int32]struct{ target, node int32 }{80: {8080, 30080}, 443: {8443, 30443}}
	if len(svc.Spec.Ports) != len(want) {
		t.Errorf("rukou-envoy has %d ports, want %d", len(svc.Spec.Ports), len(want))
	}
	for _, p := range svc.Spec.Ports {
		w, ok := want[p.Port]
		if !ok {
			t.Errorf("unexpected port %d", p.Port)
			continue
		}
		if target := resolvePort(t, envoy, p.TargetPort); target != w.target || p.NodePort != w.node {
			t.Errorf("port %d → %d on nodePort %d, want → %d on %d", p.Port, target, p.NodePort, w.target, w.node)
		}
	}
	if !selects(svc.Spec.Selector, ds.Spec.Template.Labels) {
		t.Errorf("Service rukou-envoy (selector %v) does not select the Envoy pods (%v)", svc.Spec.Selector, ds.Spec.Template.Labels)
	}
	// A TCP or UDP service may listen below 1024 (DNS on 53), which Envoy,
	// without root or capabilities, may do only with this sysctl.
	if sc := ds.Spec.Template.Spec.SecurityContext; sc == nil || !slices.Contains(sc.Sysctls, corev1.Sysctl{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}) {
		t.Error("the Envoy pods cannot bind ports below 1024: no net.ipv4.ip_unprivileged_port_start=0")
	}
}

func TestManifestControlPlane(t *testing.T) {
	m := harness.LoadManifest(t)
	d := m.Deployment(t, "rukou")
	spec := &d.Spec.Template.Spec
	c := harness.Container(t, spec, "rukou")
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	if c.Image != rukouImage(t) {
		t.Errorf("image %s, want the Makefile's %s", c.Image, rukouImage(t))
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %q, want serve first", c.Args)
	}
	if !harness.HasFlag(c.Args, "--leader-elect") {
		t.Error("no --leader-elect")
	}
	if v, _ := harness.Flag(c.Args, "--publish-service"); v != namespace+"/rukou-envoy" {
		t.Errorf("--publish-service %q, want %s/rukou-envoy", v, namespace)
	}
	if v, _ := harness.Flag(c.Args, "--configmap"); v != namespace+"/rukou" {
		t.Errorf("--configmap %q, want %s/rukou", v, namespace)
	} else if cm := m.ConfigMap(t, "rukou"); len(cm.Data) != 0 {
		t.Errorf("ConfigMap rukou ships with data %v, want none: every key has its default", cm.Data)
	}
	// In rukou's own namespace, whose ConfigMaps its Role lets it watch,
	// and not shipped: users create them (docs/tcp-udp.md).
	for flag, name := range map[string]string{"--tcp-services-configmap": "tcp-services", "--udp-services-configmap": "udp-services"} {
		if v, _ := harness.Flag(c.Args, flag); v != namespace+"/"+name {
			t.Errorf("%s %q, want %s/%s", flag, v, namespace, name)
		}
	}
	for flag, key := range map[string]string{"--xds-tls-cert": "tls.crt", "--xds-tls-key": "tls.key", "--xds-tls-ca": "ca.crt"} {
		v, _ := harness.Flag(c.Args, flag)
		if secret, file := secretFile(t, spec, c, v); secret != "rukou-xds-server" || file != key {
			t.Errorf("%s=%s is %q of Secret %q, want %q of rukou-xds-server", flag, v, file, secret, key)
		}
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || resolvePort(t, c, p.probe.HTTPGet.Port) != 18001 {
			t.Errorf("%s probe on %s port %s, want %s on the ops port 18001", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}
	// The /debug/ pages show the whole configuration and pprof: they stay
	// on the pod's loopback (the default) unless a user opens them.
	if v, ok := harness.Flag(c.Args, "--debug-address"); ok {
		if host, _, err := net.SplitHostPort(v); v != "" && (err != nil || !net.ParseIP(host).IsLoopback()) {
			t.Errorf("--debug-address=%s puts /debug/ and pprof on the pod network; keep it on loopback", v)
		}
	}
	for _, p := range c.Ports {
		if p.ContainerPort == 18002 {
			t.Errorf("container port %s 18002: the debug address is loopback only, reached with kubectl port-forward", p.Name)
		}
	}
	svc := m.Service(t, "rukou")
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 18000 ||
		resolvePort(t, c, svc.Spec.Ports[0].TargetPort) != 18000 {
		t.Errorf("Service rukou: %s %+v, want ClusterIP 18000 → 18000", svc.Spec.Type, svc.Spec.Ports)
	}
	if !selects(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Service rukou does not select the rukou pods")
	}
	if spec.ServiceAccountName != "rukou" {
		t.Errorf("serviceAccountName %q", spec.ServiceAccountName)
	}
}

func TestManifestEnvoy(t *testing.T) {
	m := harness.LoadManifest(t)
	ds := m.DaemonSet(t, "rukou-envoy")
	spec := &ds.Spec.Template.Spec
	initC := harness.Container(t, spec, "bootstrap")
	envoy := harness.Container(t, spec, "envoy")
	if envoy.Image != envoyImage {
		t.Errorf("Envoy image %s, want %s", envoy.Image, envoyImage)
	}
	if initC.Image != rukouImage(t) || len(initC.Args) == 0 || initC.Args[0] != "bootstrap" {
		t.Errorf("init container: %s", harness.CommandLine(initC))
	}
	if spec.ServiceAccountName != "rukou-envoy" || spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("Envoy pods run as %q with token automount %v; want rukou-envoy without a token", spec.ServiceAccountName, spec.AutomountServiceAccountToken)
	}

	// The bootstrap points at the xDS Service, keeps admin on loopback,
	// and serves readiness where the probe looks.
	svc := m.Service(t, "rukou")
	if v, _ := harness.Flag(initC.Args, "--xds-address"); v != fmt.Sprintf("%s.%s.svc:%d", svc.Name, namespace, svc.Spec.Ports[0].Port) {
		t.Errorf("--xds-address %q does not name the Service rukou", v)
	}
	admin, _ := harness.Flag(initC.Args, "--admin-address")
	if admin != "127.0.0.1:9901" {
		t.Errorf("--admin-address %q, want 127.0.0.1:9901", admin)
	}
	ready, _ := harness.Flag(initC.Args, "--ready-address")
	rp := envoy.ReadinessProbe
	if rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Path != "/ready" || !strings.HasSuffix(ready, ":"+strconv.Itoa(int(resolvePort(t, envoy, rp.HTTPGet.Port)))) {
		t.Errorf("readiness probe %+v does not ask --ready-address %q for /ready", rp, ready)
	}
	if envoy.LivenessProbe != nil {
		t.Error("a liveness probe would restart an Envoy that waits for rukou")
	}
	for flag, key := range map[string]string{"--xds-cert": "tls.crt", "--xds-key": "tls.key", "--xds-ca": "ca.crt"} {
		v, _ := harness.Flag(initC.Args, flag)
		if secret, file := secretFile(t, spec, envoy, v); secret != "rukou-xds-client" || file != key {
			t.Errorf("%s=%s is, in the Envoy container, %q of Secret %q; want %q of rukou-xds-client", flag, v, file, secret, key)
		}
	}
	out, _ := harness.Flag(initC.Args, "-o")
	if c, _ := harness.Flag(envoy.Args, "-c"); c != out || !sharedEmptyDir(spec, initC, envoy, out) {
		t.Errorf("Envoy reads -c %q; the init container writes -o %q; want the same file in a shared emptyDir", c, out)
	}
	var ports []int32
	for _, p := range envoy.Ports {
		ports = append(ports, p.ContainerPort)
	}
	if !slices.Contains(ports, 8080) || !slices.Contains(ports, 8443) {
		t.Errorf("Envoy's ports %v lack 8080 or 8443", ports)
	}

	// Drain: the preStop hook runs the rukou the init container copied,
	// against the same admin API, within the grace period.
	copied, _ := harness.Flag(initC.Args, "--copy-binary")
	hook := envoy.Lifecycle.PreStop.Exec.Command
	if len(hook) < 2 || hook[0] != copied || hook[1] != "drain" || !sharedEmptyDir(spec, initC, envoy, copied) {
		t.Errorf("preStop %q does not run `drain` from --copy-binary %q in a shared emptyDir", hook, copied)
	}
	if v, _ := harness.Flag(hook, "--admin-address"); v != admin {
		t.Errorf("preStop drains admin %q, the bootstrap says %q", v, admin)
	}
	timeout := duration(t, hook, "--timeout", "")
	minWait := duration(t, hook, "--min-wait", "")
	grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	drainTime := duration(t, envoy.Args, "--drain-time-s", "s")
	if !(minWait < drainTime && drainTime < timeout && timeout < grace) {
		t.Errorf("want --min-wait (%v) < Envoy's --drain-time-s (%v) < drain --timeout (%v) < terminationGracePeriodSeconds (%v)", minWait, drainTime, timeout, grace)
	}
	if minWait < time.Duration(rp.PeriodSeconds*rp.FailureThreshold)*time.Second {
		t.Errorf("--min-wait %v is shorter than the readiness probe takes to notice (%ds × %d)", minWait, rp.PeriodSeconds, rp.FailureThreshold)
	}
	// limit-connections: Envoy asks the limiter beside it, on loopback; a
	// native sidecar, so that it outlives Envoy's drain.
	lim := harness.Container(t, spec, "limiter")
	if lim.Image != rukouImage(t) || len(lim.Args) == 0 || lim.Args[0] != "limiter" {
		t.Errorf("limiter container: %s", harness.CommandLine(lim))
	}
	if lim.RestartPolicy == nil || *lim.RestartPolicy != corev1.ContainerRestartPolicyAlways || !slices.ContainsFunc(spec.InitContainers, func(c corev1.Container) bool { return c.Name == "limiter" }) {
		t.Error("the limiter is not a native sidecar (an init container with restartPolicy: Always)")
	}
	want, _ := harness.Flag(lim.Args, "--address")
	if v, _ := harness.Flag(initC.Args, "--limiter-address"); v != want || !strings.HasPrefix(v, "127.0.0.1:") {
		t.Errorf("bootstrap --limiter-address %q, limiter --address %q: want the same address on loopback", v, want)
	}
	if s := ds.Spec.UpdateStrategy.RollingUpdate; s == nil || s.MaxSurge.String() != "1" || s.MaxUnavailable.String() != "0" {
		t.Errorf("updateStrategy %+v: a node's new Envoy should be ready before the old one drains (maxSurge 1, maxUnavailable 0)", ds.Spec.UpdateStrategy)
	}
}

func TestManifestCertgen(t *testing.T) {
	m := harness.LoadManifest(t)
	job := m.Job(t, "rukou-certgen")
	spec := &job.Spec.Template.Spec
	c := harness.Container(t, spec, "certgen")
	if c.Image != rukouImage(t) || len(c.Args) == 0 || c.Args[0] != "certgen" {
		t.Errorf("certgen Job runs %s", harness.CommandLine(c))
	}
	if spec.ServiceAccountName != "rukou-certgen" {
		t.Errorf("certgen runs as %q", spec.ServiceAccountName)
	}
	if job.Spec.TTLSecondsAfterFinished != nil {
		t.Error("a finished Job that deletes itself is created again by every apply")
	}
}

// TestManifestPodSecurity: every container of every pod runs as non-root
// on a read-only root filesystem, without privilege escalation or any
// capability, under RuntimeDefault seccomp, with requests and limits.
func TestManifestPodSecurity(t *testing.T) {
	m := harness.LoadManifest(t)
	specs := map[string]*corev1.PodSpec{
		"Deployment rukou":      &m.Deployment(t, "rukou").Spec.Template.Spec,
		"DaemonSet rukou-envoy": &m.DaemonSet(t, "rukou-envoy").Spec.Template.Spec,
		"Job rukou-certgen":     &m.Job(t, "rukou-certgen").Spec.Template.Spec,
	}
	for name, spec := range specs {
		pod := spec.SecurityContext
		if pod == nil || pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: no RuntimeDefault seccomp profile", name)
		}
		if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0 {
			t.Errorf("%s: the pod does not run as a non-root user", name)
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			where := name + " container " + c.Name
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s: no securityContext", where)
				continue
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: privilege escalation allowed", where)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: root filesystem writable", where)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s: capabilities %+v, want all dropped and none added", where, sc.Capabilities)
			case sc.Privileged != nil && *sc.Privileged:
				t.Errorf("%s: privileged", where)
			case sc.RunAsUser != nil && *sc.RunAsUser == 0:
				t.Errorf("%s: runs as root", where)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					t.Errorf("%s: no %s request", where, r)
				}
				if _, ok := c.Resources.Limits[r]; !ok {
					t.Errorf("%s: no %s limit", where, r)
				}
			}
			if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
				t.Errorf("%s: image %q is not pinned to a version", where, c.Image)
			}
			if c.Image != envoyImage && c.Image != rukouImage(t) {
				t.Errorf("%s: image %q is neither rukou's nor Envoy's", where, c.Image)
			}
		}
		for _, v := range spec.Volumes {
			if v.EmptyDir == nil && v.Secret == nil {
				t.Errorf("%s: volume %s is neither an emptyDir nor a Secret", name, v.Name)
			}
		}
	}
}

// rule is one RBAC permission, flattened.
type rule struct{ role, group, resource, name, verb string }

// TestManifestRBAC: the roles grant exactly the permissions below, and
// docs/rbac.md documents each of them. Adding one is a decision: make it
// here, in the manifest and in the docs.
func TestManifestRBAC(t *testing.T) {
	want := []rule{
		{"ClusterRole/rukou", "networking.k8s.io", "ingresses", "", "get"},
		{"ClusterRole/rukou", "networking.k8s.io", "ingresses", "", "list"},
		{"ClusterRole/rukou", "networking.k8s.io", "ingresses", "", "watch"},
		{"ClusterRole/rukou", "networking.k8s.io", "ingressclasses", "", "list"},
		{"ClusterRole/rukou", "networking.k8s.io", "ingressclasses", "", "watch"},
		{"ClusterRole/rukou", "", "services", "", "list"},
		{"ClusterRole/rukou", "", "services", "", "watch"},
		{"ClusterRole/rukou", "discovery.k8s.io", "endpointslices", "", "list"},
		{"ClusterRole/rukou", "discovery.k8s.io", "endpointslices", "", "watch"},
		{"ClusterRole/rukou", "", "secrets", "", "list"},
		{"ClusterRole/rukou", "", "secrets", "", "watch"},
		{"ClusterRole/rukou", "networking.k8s.io", "ingresses/status", "", "update"},
		{"ClusterRole/rukou", "", "nodes", "", "list"},
		{"ClusterRole/rukou", "", "nodes", "", "watch"},
		{"ClusterRole/rukou", "", "events", "", "create"},
		{"ClusterRole/rukou", "", "events", "", "patch"},
		{"Role/rukou", "", "services", "rukou-envoy", "list"},
		{"Role/rukou", "", "services", "rukou-envoy", "watch"},
		{"Role/rukou", "", "pods", "", "list"},
		{"Role/rukou", "", "pods", "", "watch"},
		{"Role/rukou", "", "configmaps", "", "list"},
		{"Role/rukou", "", "configmaps", "", "watch"},
		{"Role/rukou", "coordination.k8s.io", "leases", "", "create"},
		{"Role/rukou", "coordination.k8s.io", "leases", "rukou-leader", "get"},
		{"Role/rukou", "coordination.k8s.io", "leases", "rukou-leader", "update"},
		{"Role/rukou-certgen", "", "secrets", "", "create"},
		{"Role/rukou-certgen", "", "secrets", "rukou-xds-ca", "get"},
		{"Role/rukou-certgen", "", "secrets", "rukou-xds-ca", "update"},
		{"Role/rukou-certgen", "", "secrets", "rukou-xds-server", "get"},
		{"Role/rukou-certgen", "", "secrets", "rukou-xds-server", "update"},
		{"Role/rukou-certgen", "", "secrets", "rukou-xds-client", "get"},
		{"Role/rukou-certgen", "", "secrets", "rukou-xds-client", "update"},
	}
	m := harness.LoadManifest(t)
	var got []rule
	bound := map[string]string{}
	for _, o := range m.Objects {
		switch o := o.(type) {
		case *rbacv1.ClusterRole:
			got = append(got, flatten("ClusterRole/"+o.Name, o.Rules)...)
		case *rbacv1.Role:
			if o.Namespace != namespace {
				t.Errorf("Role %s is in namespace %q", o.Name, o.Namespace)
			}
			got = append(got, flatten("Role/"+o.Name, o.Rules)...)
		case *rbacv1.ClusterRoleBinding:
			bound[o.RoleRef.Kind+"/"+o.RoleRef.Name] = subjects(o.Subjects)
		case *rbacv1.RoleBinding:
			bound[o.RoleRef.Kind+"/"+o.RoleRef.Name] = subjects(o.Subjects)
		}
	}
	cmp := func(a, b rule) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) }
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	if !slices.Equal(got, want) {
		for _, r := range got {
			if !slices.Contains(want, r) {
				t.Errorf("granted and not expected: %+v", r)
			}
		}
		for _, r := range want {
			if !slices.Contains(got, r) {
				t.Errorf("expected and not granted: %+v", r)
			}
		}
	}
	for role, sa := range map[string]string{"ClusterRole/rukou": "rukou", "Role/rukou": "rukou", "Role/rukou-certgen": "rukou-certgen"} {
		if bound[role] != "ServiceAccount "+namespace+"/"+sa {
			t.Errorf("%s is bound to %q, want ServiceAccount %s/%s only", role, bound[role], namespace, sa)
		}
	}

	doc, err := os.ReadFile(filepath.Join(harness.Root(t), "docs", "rbac.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range want {
		// docs/rbac.md has a table row per resource and verb.
		row := regexp.MustCompile("(?m)^\\|[^\\n]*`" + regexp.QuoteMeta(r.resource) + "`[^\\n]*`" + r.verb + "`")
		if !row.Match(doc) {
			t.Errorf("docs/rbac.md has no table row that explains %s on %s", r.verb, r.resource)
		}
	}
}

func flatten(role string, rules []rbacv1.PolicyRule) []rule {
	var out []rule
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						out = append(out, rule{role, g, res, n, v})
					}
				}
			}
		}
		if len(r.NonResourceURLs) > 0 {
			out = append(out, rule{role, "", strings.Join(r.NonResourceURLs, ","), "", strings.Join(r.Verbs, ",")})
		}
	}
	return out
}

func subjects(s []rbacv1.Subject) string {
	var out []string
	for _, x := range s {
		out = append(out, x.Kind+" "+x.Namespace+"/"+x.Name)
	}
	return strings.Join(out, ", ")
}

// resolvePort returns the container port a Service target port or probe
// port names.
func resolvePort(t *testing.T, c *corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	t.Errorf("container %s has no port named %q", c.Name, p.StrVal)
	return 0
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// secretFile returns the Secret and key that path is in container c.
func secretFile(t *testing.T, spec *corev1.PodSpec, c *corev1.Container, path string) (secret, key string) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rest, ok := strings.CutPrefix(path, m.MountPath+"/")
		if !ok {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return v.Secret.SecretName, rest
			}
		}
	}
	return "", ""
}

// sharedEmptyDir reports whether path is in an emptyDir that both
// containers mount at the same place.
func sharedEmptyDir(spec *corev1.PodSpec, a, b *corev1.Container, path string) bool {
	for _, ma := range a.VolumeMounts {
		if !strings.HasPrefix(path, ma.MountPath+"/") {
			continue
		}
		for _, mb := range b.VolumeMounts {
			if mb.Name == ma.Name && mb.MountPath == ma.MountPath {
				for _, v := range spec.Volumes {
					if v.Name == ma.Name && v.EmptyDir != nil {
						return true
					}
				}
			}
		}
	}
	return false
}

// duration reads a flag's value as a duration; unit, when set, is appended
// to a bare number ("s" for Envoy's --drain-time-s).
func duration(t *testing.T, args []string, flag, unit string) time.Duration {
	t.Helper()
	v, _ := harness.Flag(args, flag)
	d, err := time.ParseDuration(v + unit)
	if err != nil {
		t.Fatalf("%s %q: %v", flag, v, err)
	}
	return d
}
