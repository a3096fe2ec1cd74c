package main

import (
	"context"
	"fmt"
	"io"

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
	for _, d := range res.Diagnostics {
		fmt.Fprintf(stderr, "rukou translate: %s\n", d)
	}
	if readErr != nil || len(res.Diagnostics) > 0 {
		return errRejected
	}
	return nil
}
