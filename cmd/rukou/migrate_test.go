package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/nginx"
)

// migrateTestdata is ingress-nginx as its chart installs it, with
// Ingresses that move unchanged, with differences, and that cannot move.
var migrateTestdata = filepath.Join("..", "..", "migrate", "testdata", "cluster")

// TestMigrateCommand: rukou migrate's outputs and exit statuses on the
// testdata, and on parts of it.
func TestMigrateCommand(t *testing.T) {
	web := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(web, []byte(goodManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{"table_grouped_by_namespace", []string{"migrate", "-f", migrateTestdata}, 2,
			[]string{"ingress-nginx: Deployment ingress-nginx/ingress-nginx-controller", "Namespace blog\n", "Namespace legacy\n", "Ingress admin", "CANNOT MOVE", "6 Ingresses served by ingress-nginx", "exit status 2"}, ""},
		{"json", []string{"migrate", "-f", migrateTestdata, "-o", "json"}, 2, []string{`"version": "rukou.io/migrate/v1"`, `"outcome": "cannot move"`}, ""},
		{"nginx_args_choose_the_class", []string{"migrate", "-f", web, "--nginx-args", "--ingress-class=rukou --watch-ingress-without-class"}, 0,
			[]string{"1 Ingresses served by ingress-nginx: 1 unchanged", "--nginx-args"}, ""},
		{"nothing_served_by_ingress_nginx", []string{"migrate", "-f", web}, 0, []string{"0 Ingresses served by ingress-nginx", "exit status 0"}, ""},
		{"bad_output_exits_2", []string{"migrate", "-f", web, "-o", "yaml"}, 2, nil, "want table or json"},
		{"files_and_cluster_exit_2", []string{"migrate", "-f", web, "--kubeconfig", "k"}, 2, nil, "give -f or --kubeconfig, not both"},
		{"bad_nginx_configmap_exits_2", []string{"migrate", "-f", web, "--nginx-configmap", "x"}, 2, nil, `"x" is not NAMESPACE/NAME`},
		{"unreadable_input_exits_3", []string{"migrate", "-f", filepath.Join(t.TempDir(), "missing.yaml")}, 3, nil, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkRun(t, tc.args, tc.wantCode, tc.wantStdout, tc.wantStderr) })
	}
}

// TestMigrateJSONAndWrite: the JSON report's summary matches its exit
// status, and --write leaves one file per namespace.
func TestMigrateJSONAndWrite(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd(t, "migrate", "-f", migrateTestdata, "-o", "json", "--write", dir)
	var report struct {
		Version string
		Summary struct {
			Ingresses, Unchanged, Differ, CannotMove, ExitCode int
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	s := report.Summary
	if s.ExitCode != code || code != 2 || s.Ingresses != 6 || s.Unchanged+s.Differ+s.CannotMove != 6 {
		t.Errorf("exit %d, summary %+v", code, s)
	}
	for _, ns := range []string{"blog", "legacy", "shop"} {
		if _, err := os.Stat(filepath.Join(dir, ns+".yaml")); err != nil || !strings.Contains(errOut, "wrote "+filepath.Join(dir, ns+".yaml")) {
			t.Errorf("%s.yaml: %v; stderr: %s", ns, err, errOut)
		}
	}
}

// pendingFlags are ingress-nginx's flags the registry calls supported that
// other branches are adding to rukou serve under the same names; remove
// each as it lands.
var pendingFlags = map[string]bool{"default-ssl-certificate": true, "default-backend-service": true, "enable-ssl-passthrough": true}

// TestSupportedFlagsAreServeFlags: a flag the registry calls supported is
// one rukou serve takes, so that ingress-nginx's arguments can be passed
// as they are.
func TestSupportedFlagsAreServeFlags(t *testing.T) {
	serve := newServeCmd().Flags()
	for _, f := range nginx.Flags {
		if f.Status == nginx.Supported && serve.Lookup(f.Name) == nil && !pendingFlags[f.Name] {
			t.Errorf("--%s is supported in translator/nginx's Flags, but rukou serve has no such flag", f.Name)
		}
	}
}
