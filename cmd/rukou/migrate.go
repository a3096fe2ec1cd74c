package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/rukou/rukou/migrate"
	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

// migrateConfig are rukou migrate's flags.
type migrateConfig struct {
	files      []string
	kubeconfig string
	output     *choice
	configMap  string
	args       string
	write      string
	opts       migrate.Options
}

func newMigrateCmd() *cobra.Command {
	defaults := translator.DefaultOptions()
	cfg := migrateConfig{output: newChoice("table", "table", "json"),
		opts: migrate.Options{IngressClass: defaults.IngressClass, ControllerName: defaults.ControllerName}}
	cmd := &cobra.Command{
		Use:   "migrate [-f PATH...] [--kubeconfig FILE]",
		Short: "Report what moving from ingress-nginx to rukou changes, per Ingress, annotation, ConfigMap key and flag",
		Long: `Read a cluster (--kubeconfig, else the in-cluster config, else $KUBECONFIG) or
manifests (-f), find what ingress-nginx serves there, and report per Ingress,
annotation, ConfigMap key and flag what rukou does the same, differently, or
not at all (docs/migrating.md). In a cluster it only gets and lists.
Exits 0 when everything moves unchanged, 1 when something differs, 2 when
some Ingress cannot move (or the command line is wrong), 3 when the input
cannot be read.`,
		Example: `  rukou migrate --kubeconfig ~/.kube/config
  rukou migrate -f manifests/ -o json
  rukou migrate -f ingresses.yaml --nginx-configmap ingress-nginx/ingress-nginx-controller --nginx-args "--ingress-class=internal"
  rukou migrate --write moved/    # then: kubectl apply -f moved/shop.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.files = append(cfg.files, args...)
			return runMigrate(cmd, cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVarP(&cfg.files, "filename", "f", nil, "manifest file or directory (repeatable, or comma-separated); without it, the cluster is read")
	kubeconfigFlag(fs, &cfg.kubeconfig)
	fs.VarP(cfg.output, "output", "o", "output format: table or json (docs/migrating.md gives the schema)")
	fs.Var(configMapValue{&cfg.opts.ConfigMap}, "nginx-configmap", "NAMESPACE/NAME of ingress-nginx's ConfigMap (default: the one its controller's --configmap names)")
	fs.StringVar(&cfg.args, "nginx-args", "", "ingress-nginx's controller flags, space-separated (default: those of the Deployment or DaemonSet running /nginx-ingress-controller)")
	fs.StringVar(&cfg.write, "write", "", "directory to write, per namespace, rukou's IngressClass and the Ingresses as they would be for rukou")
	fs.StringVar(&cfg.opts.IngressClass, "ingress-class", cfg.opts.IngressClass, "rukou's IngressClass, which the Ingresses move to")
	fs.StringVar(&cfg.opts.ControllerName, "controller-name", cfg.opts.ControllerName, "spec.controller of rukou's IngressClass")
	return cmd
}

// exitError ends a command with a status of its own, after printing err
// when there is one: rukou migrate's outcomes (1, 2) and failures (3).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d: %v", e.code, e.err) }
func (e *exitError) Unwrap() error { return e.err }

// migrateFailed is rukou migrate's status when its input cannot be read:
// 1 and 2 are outcomes.
const migrateFailed = 3

func runMigrate(cmd *cobra.Command, cfg migrateConfig) error {
	if len(cfg.files) > 0 && cfg.kubeconfig != "" {
		return usageErrorf("give -f or --kubeconfig, not both")
	}
	cfg.opts.Args = strings.Fields(cfg.args)
	// A cluster's Ingresses went through admission; manifests not yet.
	cfg.opts.Admitted = len(cfg.files) == 0
	objs, err := migrateInput(cmd, cfg)
	if err != nil {
		return &exitError{code: migrateFailed, err: err}
	}
	report, err := migrate.Run(objs, cfg.opts)
	if err != nil {
		return &exitError{code: migrateFailed, err: err}
	}
	if err := printReport(cmd.OutOrStdout(), report, cfg.output.value); err != nil {
		return &exitError{code: migrateFailed, err: err}
	}
	if cfg.write != "" {
		files, err := report.Write(cfg.write, cfg.opts.IngressClass, cfg.opts.ControllerName)
		if err != nil {
			return &exitError{code: migrateFailed, err: err}
		}
		for _, f := range files {
			fmt.Fprintf(cmd.ErrOrStderr(), "rukou migrate: wrote %s\n", f)
		}
	}
	if code := report.Summary.ExitCode; code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// migrateInput reads the manifests, or the cluster when none are given.
func migrateInput(cmd *cobra.Command, cfg migrateConfig) (migrate.Objects, error) {
	if len(cfg.files) > 0 {
		objs, err := watcher.ReadPaths(cfg.files, schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Group: "apps", Kind: "DaemonSet"})
		return migrate.FromObjects(objs), err
	}
	rc, err := restConfig(cfg.kubeconfig)
	if err != nil {
		return migrate.Objects{}, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return migrate.Objects{}, fmt.Errorf("kubernetes client: %w", err)
	}
	return migrate.Read(cmd.Context(), client, cfg.opts)
}

func printReport(w io.Writer, r *migrate.Report, output string) error {
	if output == "json" {
		b, err := r.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return r.WriteTable(w)
}
