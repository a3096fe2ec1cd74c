package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

func newTranslateCmd() *cobra.Command {
	var files []string
	output := newChoice("yaml", "yaml", "json", "model")
	opts := translator.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "translate -f PATH... [PATH...]",
		Short: "Print the Envoy resources and diagnostics for manifests",
		Long: `Read manifests (files or directories) and print the Envoy resources rukou
serve would make of them, and the diagnostics on stderr. No cluster is needed.
Exits 1 when any object was rejected or a file could not be read.`,
		Example: `  rukou translate -f ingress.yaml -f service.yaml -o json
  rukou translate -f ingress.yaml,service.yaml
  rukou translate -f manifests/ more.yaml -o yaml
  rukou translate -f ingress.yaml -o model   # the routing model between Ingress and Envoy`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Arguments after the flags are more files, as in -f a.yaml b.yaml.
			files = append(files, args...)
			if len(files) == 0 {
				return usageErrorf("no manifests: give -f PATH")
			}
			return translate(cmd.OutOrStdout(), cmd.ErrOrStderr(), files, output.value, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVarP(&files, "filename", "f", nil, "manifest file or directory (repeatable, or comma-separated; more paths may follow as arguments)")
	fs.VarP(output, "output", "o", "output format: yaml or json (Envoy resources), or model (the routing model, as YAML)")
	translationFlags(fs, &opts)
	return cmd
}

// render prints a translation in format output: the Envoy resources as
// YAML or JSON, or the routing model they render.
func render(res *translator.Result, output string) ([]byte, error) {
	if output == "model" {
		return yaml.Marshal(res.Config)
	}
	dump, err := translator.NewDump(res.Resources, res.Diagnostics)
	if err != nil {
		return nil, err
	}
	if output == "json" {
		return dump.JSON()
	}
	return dump.YAML()
}

// translate prints the Envoy resources for the manifests in files, in
// format output (yaml or json), and what was rejected on stderr.
func translate(stdout, stderr io.Writer, files []string, output string, opts translator.Options) error {
	objs, readErr := watcher.ReadPaths(files)
	if !slices.ContainsFunc(objs, func(o runtime.Object) bool {
		c, ok := o.(*networkingv1.IngressClass)
		return ok && c.Name == opts.IngressClass
	}) {
		// Users apply Ingresses, not the IngressClass the install made;
		// without it every Ingress naming the class would be ignored.
		objs = append(objs, &networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: opts.IngressClass},
			Spec:       networkingv1.IngressClassSpec{Controller: opts.ControllerName},
		})
		fmt.Fprintf(stderr, "rukou translate: no IngressClass %[1]s in the manifests; assuming the install's: %[1]s (controller %[2]s, not the default class)\n",
			opts.IngressClass, opts.ControllerName)
	}
	// A default certificate of its own, as serve makes one: the output
	// shows its name only.
	if err := generateCertificate(&opts); err != nil {
		return err
	}
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	res, err := translator.Translate(store.Input(), opts)
	if err != nil {
		return err
	}
	b, err := render(res, output)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(b); err != nil {
		return err
	}
	if readErr != nil {
		fmt.Fprintf(stderr, "rukou translate: %v\n", readErr)
	}
	for _, ing := range res.Ingresses {
		if !ing.Owned {
			fmt.Fprintf(stderr, "rukou translate: ignored Ingress %s/%s: its class is not rukou's (docs/ingress.md)\n", ing.Namespace, ing.Name)
		}
	}
	for _, d := range res.Diagnostics {
		fmt.Fprintf(stderr, "rukou translate: %s\n", d)
	}
	if readErr != nil || len(res.Diagnostics) > 0 {
		return errRejected
	}
	return nil
}
