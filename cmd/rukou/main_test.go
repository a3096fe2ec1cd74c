package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const goodManifest = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    kubernetes.io/ingress.class: rukou
spec:
  rules:
  - host: web.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
`

func TestTranslate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(goodManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte(strings.ReplaceAll(goodManifest, "name: web\n            port", "name: api\n            port")), 0o644); err != nil {
		t.Fatal(err)
	}
	malformed := filepath.Join(dir, "malformed.yaml")
	if err := os.WriteFile(malformed, []byte("apiVersion: v1\nkind: Service\nmetadata: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("valid_manifests_exit_0_with_resources", func(t *testing.T) {
		code, out, errOut := runCmd(t, "translate", "-f", good)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var dump map[string][]any
		if err := yaml.Unmarshal([]byte(out), &dump); err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, out)
		}
		// HTTP, and HTTPS with only the generated default certificate,
		// both reading one route configuration.
		if len(dump["listeners"]) != 2 || len(dump["clusters"]) != 1 || len(dump["routes"]) != 1 || len(dump["secrets"]) != 1 {
			t.Errorf("want two listeners, one route configuration, cluster and secret, got %d, %d, %d, %d",
				len(dump["listeners"]), len(dump["routes"]), len(dump["clusters"]), len(dump["secrets"]))
		}
		if !strings.Contains(out, "name: default-fake-certificate") || strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "BEGIN") {
			t.Errorf("the default certificate must appear by name only:\n%s", out)
		}
	})
	t.Run("json_output", func(t *testing.T) {
		code, out, _ := runCmd(t, "translate", "-o", "json", good)
		if code != 0 || !strings.HasPrefix(out, "{") || !strings.Contains(out, `"cluster": "default/web/80"`) {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
	t.Run("rejected_rule_exits_1_naming_ingress_and_field", func(t *testing.T) {
		code, _, errOut := runCmd(t, "translate", "-f", broken)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		want := `Ingress default/web: spec.rules[0].http.paths[0].backend.service: ServiceNotFound: service "api" not found`
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	})
	t.Run("malformed_file_exits_1_naming_file_and_line", func(t *testing.T) {
		code, _, errOut := runCmd(t, "translate", "-f", good, "-f", malformed)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.Contains(errOut, malformed+":3:") && !strings.Contains(errOut, malformed+":4:") {
			t.Errorf("stderr does not name %s and its line:\n%s", malformed, errOut)
		}
	})
	t.Run("ingress_class_of_the_install_is_assumed_and_others_are_named", func(t *testing.T) {
		byName := filepath.Join(dir, "by-name.yaml")
		text := strings.Replace(goodManifest, "  annotations:\n    kubernetes.io/ingress.class: rukou\nspec:\n", "spec:\n  ingressClassName: rukou\n", 1) +
			"---\n" + strings.Replace(strings.Replace(goodManifest, "name: web\n  annotations", "name: theirs\n  annotations", 1), "ingress.class: rukou", "ingress.class: nginx", 1)
		if err := os.WriteFile(byName, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCmd(t, "translate", "-f", byName)
		if code != 0 || !strings.Contains(out, `cluster: default/web/80`) {
			t.Errorf("an Ingress naming the class rukou, without the IngressClass in the files: exit %d, not routed:\n%s\n%s", code, errOut, out)
		}
		for _, want := range []string{"assuming the install's: rukou", "ignored Ingress default/theirs"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr does not say %q:\n%s", want, errOut)
			}
		}
	})
	t.Run("no_files_is_an_error", func(t *testing.T) {
		if code, _, _ := runCmd(t, "translate"); code == 0 {
			t.Error("exit 0 without manifests")
		}
	})
}

func TestBootstrap(t *testing.T) {
	t.Run("delta_by_default", func(t *testing.T) {
		code, out, errOut := runCmd(t, "bootstrap", "--xds-address", "rukou.rukou-system.svc:18000", "--node-id", "n1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"api_type: DELTA_GRPC", "address: rukou.rukou-system.svc", "port_value: 18000", "id: n1", "address: 127.0.0.1", "port_value: 9901"} {
			if !strings.Contains(out, want) {
				t.Errorf("bootstrap lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("sotw_on_request", func(t *testing.T) {
		_, out, _ := runCmd(t, "bootstrap", "--xds-mode", "sotw")
		if !strings.Contains(out, "api_type: GRPC") {
			t.Errorf("bootstrap is not state-of-the-world:\n%s", out)
		}
	})
	t.Run("bad_address_is_an_error", func(t *testing.T) {
		if code, _, errOut := runCmd(t, "bootstrap", "--xds-address", "no-port"); code == 0 || !strings.Contains(errOut, "xds address") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("writes_file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "b.yaml")
		if code, _, errOut := runCmd(t, "bootstrap", "-o", f); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if b, err := os.ReadFile(f); err != nil || !strings.Contains(string(b), "rukou-xds") {
			t.Errorf("bootstrap file: %v\n%s", err, b)
		}
	})
}

// TestCommandLine: kubectl's conventions. Flags go before or after file
// names, as --flag=value or --flag value; -f repeats, takes comma-separated
// lists, and arguments after it are more files; a wrong command line exits 2.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "web.yaml")
	api := filepath.Join(dir, "api.yaml")
	if err := os.WriteFile(web, []byte(goodManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(api, []byte(strings.NewReplacer("web", "api").Replace(goodManifest)), 0o644); err != nil {
		t.Fatal(err)
	}
	both := []string{`"cluster": "default/web/80"`, `"cluster": "default/api/80"`}
	settings := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settings, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rukou\ndata:\n  proxy-read-timeout: \"7\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badSettings := filepath.Join(dir, "bad-settings.yaml")
	if err := os.WriteFile(badSettings, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rukou\ndata:\n  hsts: \"maybe\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{"output_flag_after_file_names", []string{"translate", "-f", web, api, "-o", "json"}, 0, both, ""},
		{"output_flag_before_file_flag", []string{"translate", "-o", "json", "-f", web}, 0, both[:1], ""},
		{"file_flag_repeated", []string{"translate", "-f", web, "-f", api, "-o", "json"}, 0, both, ""},
		{"file_flag_comma_separated", []string{"translate", "-f", web + "," + api, "-o", "json"}, 0, both, ""},
		{"long_flags_with_equals", []string{"translate", "--filename=" + web, "--output=json", api}, 0, both, ""},
		{"short_flag_with_equals", []string{"translate", "-o=json", "-f=" + web}, 0, both[:1], ""},
		{"output_model_prints_the_routing_model", []string{"translate", "-f", web, "-o", "model"}, 0, []string{"virtualHosts:", "kind: Prefix"}, ""},
		{"translation_flag_after_file", []string{"translate", "-f", web, "--envoy-http-port", "9080", "-o", "json"}, 0, []string{`"port_value": 9080`}, ""},
		{"bootstrap_output_to_stdout", []string{"bootstrap", "--xds-address=127.0.0.1:18000", "-o", "-"}, 0, []string{"port_value: 18000"}, ""},
		{"bootstrap_dns_resolvers", []string{"bootstrap", "--dns-resolvers", "10.96.0.10,127.0.0.1:5353"}, 0, []string{"envoy.network.dns_resolver.cares", "address: 10.96.0.10\n        port_value: 53\n", "port_value: 5353"}, ""},
		{"bootstrap_dns_resolver_not_an_ip_exits_1", []string{"bootstrap", "--dns-resolvers", "kube-dns"}, 1, nil, `dns resolver "kube-dns": want an IP address`},
		{"version", []string{"version"}, 0, []string{"rukou dev"}, ""},
		{"help_flag_on_rukou", []string{"--help"}, 0, []string{"Available Commands:", "translate"}, ""},
		{"help_command", []string{"help", "translate"}, 0, []string{"-f, --filename"}, ""},
		{"no_command_prints_usage_and_exits_2", nil, 2, nil, "Available Commands:"},
		{"unknown_command_exits_2", []string{"frobnicate"}, 2, nil, `unknown command "frobnicate"`},
		{"misspelt_command_is_suggested", []string{"serv"}, 2, nil, `did you mean "serve"?`},
		{"unknown_flag_exits_2", []string{"serve", "--frobnicate"}, 2, nil, "unknown flag: --frobnicate"},
		{"single_dash_long_flag_exits_2", []string{"serve", "-kubeconfig", "x"}, 2, nil, "unknown shorthand flag: 'k'"},
		{"bad_output_format_exits_2", []string{"translate", "-f", web, "-o", "xml"}, 2, nil, "want yaml or json"},
		{"configmap_flag_reads_the_configmap_among_the_manifests", []string{"translate", "-f", web, settings, "--configmap", "default/rukou", "-o", "model"}, 0, []string{"idleTimeout: 7s"}, ""},
		{"configmap_not_named_is_not_read", []string{"translate", "-f", web, settings, "-o", "model"}, 0, []string{"idleTimeout: 1m0s"}, ""},
		{"invalid_configmap_value_is_reported_and_exits_1", []string{"translate", "-f", web, badSettings, "--configmap", "default/rukou", "-o", "json"}, 1, both[:1], "ConfigMap default/rukou: data[hsts]: InvalidConfigValue"},
		{"bad_configmap_flag_exits_2", []string{"serve", "--configmap", "rukou"}, 2, nil, `"rukou" is not NAMESPACE/NAME`},
		{"bad_default_ssl_certificate_flag_exits_2", []string{"serve", "--default-ssl-certificate", "tls"}, 2, nil, `"tls" is not NAMESPACE/NAME`},
		{"bad_default_backend_flag_exits_2", []string{"serve", "--default-backend-service", "a/b/c"}, 2, nil, `"a/b/c" is not NAMESPACE/NAME`},
		{"default_ssl_certificate_missing_is_reported", []string{"translate", "-f", web, "--default-ssl-certificate", "default/nope", "-o", "json"}, 1, []string{`"name": "default-fake-certificate"`}, "Secret default/nope: SecretNotFound"},
		{"default_backend_service_missing_is_reported", []string{"translate", "-f", web, "--default-backend-service", "default/nope", "-o", "json"}, 1, nil, "Service default/nope: ServiceNotFound"},
		{"bad_port_exits_2", []string{"serve", "--envoy-http-port", "70000"}, 2, nil, `"70000" is not a port number`},
		{"bad_xds_mode_exits_2", []string{"bootstrap", "--xds-mode", "rest"}, 2, nil, "want delta or sotw"},
		{"no_manifests_exits_2", []string{"translate", "-o", "json"}, 2, nil, "no manifests: give -f PATH"},
		{"extra_argument_exits_2", []string{"version", "extra"}, 2, nil, `unexpected arguments ["extra"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkRun(t, tc.args, tc.wantCode, tc.wantStdout, tc.wantStderr) })
	}
}

// checkRun runs a command line and checks its exit status, that stdout
// holds each of wantStdout and stderr wantStderr.
func checkRun(t *testing.T, args []string, wantCode int, wantStdout []string, wantStderr string) {
	t.Helper()
	code, out, errOut := runCmd(t, args...)
	if code != wantCode {
		t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, wantCode, out, errOut)
	}
	for _, want := range wantStdout {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, wantStderr) {
		t.Errorf("stderr lacks %q:\n%s", wantStderr, errOut)
	}
}

// TestHelpOnEveryCommand: -h and --help print the command's usage on stdout
// and exit 0, on every command.
func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range newRootCmd().Commands() {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(c.Name()+"_"+flag, func(t *testing.T) {
				code, out, errOut := runCmd(t, c.Name(), flag)
				if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "rukou "+c.Name()) {
					t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
				}
			})
		}
	}
}

// TestKlogIntoSlog: client-go's klog lines (leader election, reflectors)
// come out through rukou's handler, as JSON with --log-format json.
func TestKlogIntoSlog(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(klog.ClearLogger)
	log.Info("from rukou")
	klog.InfoS("Successfully acquired lease", "lock", "rukou-system/rukou-leader")
	klog.ErrorS(errors.New("connection refused"), "Failed to watch", "reflector", "Ingress")
	klog.Infof("printf style %d", 7)
	klog.V(4).InfoS("too verbose to show")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var msgs []string
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q is not JSON: %v\nwhole output:\n%s", line, err, buf.String())
		}
		msgs = append(msgs, fmt.Sprint(rec["level"], " ", rec["msg"]))
		if rec["msg"] == "Successfully acquired lease" && rec["lock"] != "rukou-system/rukou-leader" {
			t.Errorf("klog's key/value pairs are lost: %v", rec)
		}
		if rec["msg"] == "Failed to watch" && rec["err"] != "connection refused" {
			t.Errorf("klog's error is lost: %v", rec)
		}
	}
	want := []string{"INFO from rukou", "INFO Successfully acquired lease", "ERROR Failed to watch", "INFO printf style 7"}
	if !slices.Equal(msgs, want) {
		t.Errorf("log records %q, want %q", msgs, want)
	}
}
