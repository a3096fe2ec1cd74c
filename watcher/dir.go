package watcher

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// DirSource is the source name of objects read from a directory.
const DirSource = "dir"

// Dir reads the manifests in one directory (not its subdirectories, as
// kubectl apply -f DIR does) and keeps the store in step with them.
//
// It polls file sizes and modification times rather than relying on inotify:
// polling sees every way editors and `kubectl` save files (in place, by
// rename, through symlinks such as ConfigMap volumes) and costs one stat per
// file per interval.
type Dir struct {
	Path     string
	Store    *Store
	Interval time.Duration // 250ms when zero
	Log      *slog.Logger

	mu     sync.Mutex
	files  map[string]*dirFile
	errors map[string]error
}

type dirFile struct {
	mod  time.Time
	size int64
	objs []runtime.Object
}

// IsManifest reports whether a file name looks like a manifest.
func IsManifest(name string) bool {
	if strings.HasPrefix(filepath.Base(name), ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Run scans the directory until ctx is done.
func (d *Dir) Run(ctx context.Context) {
	interval := d.Interval
	if interval == 0 {
		interval = 250 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Scan()
		}
	}
}

// Scan reads new and changed files once and updates the store when anything
// changed. A malformed file is reported, and its previous objects (if any)
// stay in place, so one bad save never takes down what the file served.
func (d *Dir) Scan() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	first := d.files == nil
	if first {
		d.files = map[string]*dirFile{}
		d.errors = map[string]error{}
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}

	entries, err := os.ReadDir(d.Path)
	if err != nil {
		return err
	}
	changed := false
	seen := map[string]bool{}
	for _, e := range entries {
		name := filepath.Join(d.Path, e.Name())
		if !IsManifest(name) {
			continue
		}
		info, err := os.Stat(name) // follows symlinks
		if err != nil || info.IsDir() {
			continue
		}
		seen[name] = true
		prev := d.files[name]
		if prev != nil && prev.mod.Equal(info.ModTime()) && prev.size == info.Size() {
			continue
		}
		data, err := os.ReadFile(name)
		var objs []runtime.Object
		if err == nil {
			objs, err = Decode(name, data)
		}
		next := &dirFile{mod: info.ModTime(), size: info.Size(), objs: objs}
		if err != nil {
			if prev != nil {
				next.objs = prev.objs
			}
			d.files[name] = next
			if old := d.errors[name]; old == nil || old.Error() != err.Error() {
				log.Error("manifest not loaded; keeping what the file served before", "file", name, "error", err)
			}
			d.errors[name] = err
			continue
		}
		delete(d.errors, name)
		d.files[name] = next
		changed = true
	}
	for name := range d.files {
		if !seen[name] {
			delete(d.files, name)
			delete(d.errors, name)
			changed = true
		}
	}
	// The first scan sets the source even when there is nothing to read;
	// later scans signal only changes, or an empty directory would cause
	// a rebuild every interval.
	if changed || first {
		d.Store.Replace(DirSource, d.objects())
	}
	return nil
}

// objects lists the objects of every file, in file name order so that the
// last file wins when two define the same object.
func (d *Dir) objects() []runtime.Object {
	names := make([]string, 0, len(d.files))
	for name := range d.files {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []runtime.Object
	for _, name := range names {
		out = append(out, d.files[name].objs...)
	}
	return out
}

// Errors returns the current error of each malformed file.
func (d *Dir) Errors() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []error
	for _, err := range d.errors {
		out = append(out, err)
	}
	slices.SortFunc(out, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return out
}

// ReadPaths decodes the manifests named by paths: files, or directories whose
// manifests are read (not recursively). It returns every object it could read
// and the errors of the files it could not.
func ReadPaths(paths []string) ([]runtime.Object, error) {
	var objs []runtime.Object
	var errs []error
	for _, p := range paths {
		files := []string{p}
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			files = files[:0]
			for _, e := range entries {
				if name := filepath.Join(p, e.Name()); !e.IsDir() && IsManifest(name) {
					files = append(files, name)
				}
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			o, err := Decode(f, data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, o...)
		}
	}
	return objs, errors.Join(errs...)
}
