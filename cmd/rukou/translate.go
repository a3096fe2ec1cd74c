package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
)

func runTranslate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("translate", stderr)
	var files []string
	fs.Func("f", "manifest file or directory (repeatable; more paths may follow the flags)", func(s string) error {
		files = append(files, s)
		return nil
	})
	output := fs.String("o", "yaml", "output format: yaml or json")
	opts := translator.DefaultOptions()
	translationFlags(fs, &opts)
	if err := parse(fs, args); err != nil {
		return err
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		return fmt.Errorf("no manifests: give -f PATH")
	}
	if *output != "yaml" && *output != "json" {
		return fmt.Errorf("-o %q: want yaml or json", *output)
	}

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
	store := watcher.NewStore()
	store.Replace(watcher.DirSource, objs)
	res, err := translator.Translate(store.Input(), opts)
	if err != nil {
		return err
	}
	dump, err := translator.NewDump(res.Resources, res.Diagnostics)
	if err != nil {
		return err
	}
	var b []byte
	if *output == "json" {
		b, err = dump.JSON()
	} else {
		b, err = dump.YAML()
	}
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
