package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rukou/rukou/migrate"
	"github.com/rukou/rukou/test/harness"
	nginxreg "github.com/rukou/rukou/translator/nginx"
)

// migrateReport is the part of rukou migrate's JSON report the tests read.
type migrateReport struct {
	Controller struct{ From, ConfigMap string }
	Summary    struct{ Ingresses, Unchanged, Differ, CannotMove, ExitCode int }
	Ingresses  []struct{ Namespace, Name, Outcome, SelectedBy string }
}

// outcomes maps NAMESPACE/NAME to the Ingress's outcome.
func (r migrateReport) outcomes() map[string]string {
	out := map[string]string{}
	for _, ing := range r.Ingresses {
		out[ing.Namespace+"/"+ing.Name] = ing.Outcome
	}
	return out
}

// runMigrate runs bin/rukou migrate and returns its stdout and exit status.
func runMigrate(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(harness.Root(t), "bin", "rukou"), append([]string{"migrate"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("rukou migrate: %v", err)
	}
	if strings.Contains(stderr.String(), "forbidden") {
		t.Errorf("rukou migrate was refused a request:\n%s", stderr.String())
	}
	return stdout.String(), cmd.ProcessState.ExitCode()
}

func parseReport(t *testing.T, out string) migrateReport {
	t.Helper()
	var r migrateReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return r
}

// migrateRole is the ClusterRole of docs/migrating.md, as users apply it.
func migrateRole(t *testing.T) string {
	doc, err := os.ReadFile(filepath.Join(harness.Root(t), "docs", "migrating.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n")
	role, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/migrating.md has no ClusterRole block")
	}
	path := filepath.Join(t.TempDir(), "role.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"+role), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateCluster applies ingress-nginx as its chart installs it, with
// applications, to a real API server, and runs rukou migrate against it
// with a ServiceAccount bound to docs/migrating.md's ClusterRole only,
// through a proxy that records every request: the report equals the one
// from the same manifests as files, an Ingress with every annotation of
// the registry gets the registry's verdicts, and every request is a read.
// Then the
// Ingresses --write gives are applied, and the next report no longer
// counts them.
func TestMigrateCluster(t *testing.T) {
	cluster := harness.StartCluster(t)
	kubectl := func(args ...string) {
		t.Helper()
		if out, err := harness.Kubectl(t, cluster.Kubeconfig, args...); err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
	}
	testdata := filepath.Join(harness.Root(t), "migrate", "testdata", "cluster")
	kubectl("create", "namespace", "ingress-nginx")
	for _, ns := range []string{"shop", "blog", "legacy", "other"} {
		kubectl("create", "namespace", ns)
	}
	// The IngressClass first, so that admission gives the class-less
	// Ingress ingress-nginx's default class, as in a real cluster.
	kubectl("apply", "-f", filepath.Join(testdata, "controller.yaml"))
	kubectl("apply", "-f", filepath.Join(testdata, "apps.yaml"))
	kubectl("create", "namespace", "every")
	everyAnnotation(t, cluster)
	kubectl("apply", "-f", migrateRole(t))
	kubectl("create", "serviceaccount", "-n", "default", "migrate")
	kubectl("create", "clusterrolebinding", "rukou-migrate", "--clusterrole=rukou-migrate", "--serviceaccount=default:migrate")
	recorder := cluster.StartAPIRecorder(t)
	kubeconfig := cluster.ServiceAccountKubeconfig(t, "default", "migrate", recorder.URL)

	fromFiles, fileCode := runMigrate(t, "-f", testdata, "-o", "json")
	out, code := runMigrate(t, "--kubeconfig", kubeconfig, "-o", "json")
	live, files := parseReport(t, out), parseReport(t, fromFiles)
	if code != 2 || fileCode != 2 || live.Summary.ExitCode != 2 {
		t.Errorf("exit status %d from the cluster, %d from files; want 2 (an Ingress cannot move)", code, fileCode)
	}
	if live.Controller.From != "Deployment ingress-nginx/ingress-nginx-controller" || live.Controller.ConfigMap != "ingress-nginx/ingress-nginx-controller" {
		t.Errorf("controller %+v", live.Controller)
	}
	got, want := live.outcomes(), files.outcomes()
	if every := got["every/annotation"]; every != "cannot move" {
		t.Errorf("every/annotation: %q, want cannot move (it has snippets)", every)
	}
	delete(got, "every/annotation")
	if len(got) != 6 || !maps.Equal(got, want) {
		t.Errorf("outcomes from the cluster %v, from files %v; want the same 6", got, want)
	}
	checkEveryAnnotation(t, out)
	table, code := runMigrate(t, "--kubeconfig", kubeconfig)
	if code != 2 || !strings.Contains(table, "Namespace legacy\n") || !strings.Contains(table, "CANNOT MOVE") {
		t.Errorf("table, exit %d:\n%s", code, table)
	}

	moved := t.TempDir()
	if _, code := runMigrate(t, "--kubeconfig", kubeconfig, "--write", moved); code != 2 {
		t.Errorf("--write: exit %d", code)
	}
	checkOnlyReads(t, recorder.Requests())

	// Preview shop with rukou, with docs/migrating.md's command: the
	// copies are rukou's, the originals stay ingress-nginx's.
	preview(t, cluster, moved)
	for name, want := range map[string]string{"web": "nginx", "web-preview": "rukou", "api-preview": "rukou"} {
		ing, err := cluster.Client.NetworkingV1().Ingresses("shop").Get(harness.Context(t), name, metav1.GetOptions{})
		if err != nil || ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != want {
			t.Errorf("shop/%s after the preview: %v, %v; want class %s", name, err, ing, want)
		}
	}

	// Move blog (one Ingress selected by the legacy annotation, one by
	// the default class), as docs/migrating.md says.
	kubectl("apply", "-f", filepath.Join(moved, "blog.yaml"))
	ing, err := cluster.Client.NetworkingV1().Ingresses("blog").Get(harness.Context(t), "blog", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := ing.Spec.IngressClassName; c == nil || *c != "rukou" || ing.Annotations["kubernetes.io/ingress.class"] != "" {
		t.Errorf("blog/blog after the move: class %v, annotations %v", c, ing.Annotations)
	}
	out, _ = runMigrate(t, "--kubeconfig", kubeconfig, "-o", "json")
	after := parseReport(t, out)
	if _, still := after.outcomes()["blog/blog"]; still || after.Summary.Ingresses != 5 {
		t.Errorf("after moving blog, the report still has %v", after.outcomes())
	}
}

// checkOnlyReads fails on any request other than GET, and on a run that
// asked for nothing.
func checkOnlyReads(t *testing.T, reqs []harness.APIRequest) {
	t.Helper()
	if len(reqs) == 0 {
		t.Fatal("the recorder saw no request")
	}
	lists := 0
	for _, r := range reqs {
		if r.Method != "GET" {
			t.Errorf("rukou migrate sent %s %s: it must only read", r.Method, r.Path)
		}
		if strings.HasSuffix(r.Path, "/ingresses") {
			lists++
		}
	}
	if lists == 0 {
		t.Errorf("no list of Ingresses among %d requests", len(reqs))
	}
}

// everyAnnotation creates every/annotation, of class nginx, with every
// annotation of rukou's registry, former names too.
func everyAnnotation(t *testing.T, cluster *harness.Cluster) {
	annotations := map[string]string{}
	for _, e := range nginxreg.Registry {
		annotations[nginxreg.Prefix+e.Name] = "x"
		if e.Former != "" {
			annotations[nginxreg.Prefix+e.Former] = "x"
		}
	}
	class := "nginx"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "every", Name: "annotation", Annotations: annotations},
		Spec:       networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: "every.example.com"}}},
	}
	if _, err := cluster.Client.NetworkingV1().Ingresses("every").Create(harness.Context(t), ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkEveryAnnotation: in the report read from the cluster, every
// annotation of every/annotation has the verdict and note of its registry
// entry.
func checkEveryAnnotation(t *testing.T, out string) {
	t.Helper()
	var r migrate.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(r.Ingresses, func(ing migrate.Ingress) bool { return ing.Namespace == "every" })
	if i < 0 {
		t.Fatal("every/annotation is not in the report")
	}
	rows := r.Ingresses[i].Annotations
	if len(rows) != len(nginxreg.Registry)+countFormer() {
		t.Errorf("%d annotation rows, want one per registry name", len(rows))
	}
	verdicts := map[nginxreg.Status]migrate.Verdict{nginxreg.Supported: migrate.Same, nginxreg.Differs: migrate.Different, nginxreg.Refused: migrate.Refused, nginxreg.NotYet: migrate.NotSupported}
	for _, row := range rows {
		e, ok := nginxreg.Lookup(strings.TrimPrefix(row.Name, nginxreg.Prefix))
		if !ok || row.Verdict != verdicts[e.Status] || row.Note != e.Note {
			t.Errorf("%s: %s (%q), want %s (%q)", row.Name, row.Verdict, row.Note, verdicts[e.Status], e.Note)
		}
	}
}

func countFormer() int {
	n := 0
	for _, e := range nginxreg.Registry {
		if e.Former != "" {
			n++
		}
	}
	return n
}

// preview runs docs/migrating.md's command that applies copies of shop's
// Ingresses, for rukou, beside the originals.
func preview(t *testing.T, cluster *harness.Cluster, moved string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(harness.Root(t), "docs", "migrating.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(doc), "sed -E '/^kind: Ingress$/")
	if i < 0 {
		t.Fatal("docs/migrating.md has no preview command")
	}
	line, _, _ := strings.Cut(string(doc[i:]), "\n")
	line = strings.NewReplacer("moved/", moved+"/", "kubectl apply", harness.Tool(t, "kubectl")+" --kubeconfig "+cluster.Kubeconfig+" apply").Replace(line)
	if out, err := exec.Command("bash", "-o", "pipefail", "-c", line).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
}
