package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/test/harness"
)

// TestRateLimitManifest: deploy/ratelimit-patch.yaml applies to the
// Deployment of deploy/rukou.yaml, and what it adds fits together with
// deploy/ratelimit.yaml: rukou's flags name the Service that selects the
// patched pods and the directory the service reads, and the service counts
// in the Redis of the manifest.
func TestRateLimitManifest(t *testing.T) {
	extra := harness.LoadManifestFile(t, "ratelimit.yaml")
	pod := patchedRukou(t)
	rukou := harness.Container(t, &pod.Spec, "rukou")
	rl := harness.Container(t, &pod.Spec, "ratelimit")
	env := map[string]string{}
	for _, e := range rl.Env {
		env[e.Name] = e.Value
	}

	svc := harness.Find[*corev1.Service](t, extra, "rukou-ratelimit")
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("Service rukou-ratelimit selects %s=%s, which the rukou pods lack", k, v)
		}
	}
	port := svc.Spec.Ports[0]
	if !hasPort(rl, port.TargetPort.StrVal, env["GRPC_PORT"]) {
		t.Errorf("Service port targets %q, not the ratelimit container's gRPC port %s", port.TargetPort.StrVal, env["GRPC_PORT"])
	}
	wantService := svc.Name + "." + namespace + ".svc.cluster.local:" + strconv.Itoa(int(port.Port))
	if got, _ := harness.Flag(rukou.Args, "--global-rate-limit-service"); got != wantService {
		t.Errorf("--global-rate-limit-service=%q, want %q", got, wantService)
	}
	wantDir := filepath.Join(env["RUNTIME_ROOT"], env["RUNTIME_SUBDIRECTORY"], env["RUNTIME_APPDIRECTORY"])
	if got, _ := harness.Flag(rukou.Args, "--global-rate-limit-config-dir"); got != wantDir {
		t.Errorf("--global-rate-limit-config-dir=%q, want the directory the service reads, %q", got, wantDir)
	}
	if env["RUNTIME_WATCH_ROOT"] != "false" || env["RUNTIME_IGNOREDOTFILES"] != "true" {
		t.Errorf("the service must watch the directory itself and ignore rukou's dot file: %v", env)
	}
	redis := harness.Find[*corev1.Service](t, extra, "rukou-ratelimit-redis")
	if want := redis.Name + "." + namespace + ".svc.cluster.local:" + strconv.Itoa(int(redis.Spec.Ports[0].Port)); env["REDIS_URL"] != want {
		t.Errorf("REDIS_URL=%q, want %q", env["REDIS_URL"], want)
	}
}

// patchedRukou is the pod template of deploy/rukou.yaml's Deployment rukou
// with deploy/ratelimit-patch.yaml applied.
func patchedRukou(t *testing.T) corev1.PodTemplateSpec {
	t.Helper()
	dep, err := json.Marshal(harness.LoadManifest(t).Deployment(t, "rukou"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(harness.Root(t), "deploy", "ratelimit-patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	out, err := patch.Apply(dep)
	if err != nil {
		t.Fatalf("applying deploy/ratelimit-patch.yaml: %v", err)
	}
	var patched appsv1.Deployment
	if err := json.Unmarshal(out, &patched); err != nil {
		t.Fatal(err)
	}
	return patched.Spec.Template
}

func hasPort(c *corev1.Container, name, number string) bool {
	for _, p := range c.Ports {
		if p.Name == name && strconv.Itoa(int(p.ContainerPort)) == number {
			return true
		}
	}
	return false
}
