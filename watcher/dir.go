package watcher

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DirSource is the source name of objects read from a directory.
const DirSource = "dir"

// Dir reads the manifests in one directory (not its subdirectories, as
// kubectl apply -f DIR does) and keeps the store in step with them.
//
// It scans the directory as soon as inotify reports a change in it, so that
// a saved file is read within milliseconds. A scan compares each file's size
// and modification time, and rereads the files inotify named, so it sees
// every way editors and `kubectl` save files (in place, by rename, through
// symlinks such as ConfigMap volumes). It also scans every Interval, in case
// the kernel dropped an event or the directory itself was replaced, and
// only polls, every 250 ms, where inotify is not available.
//
// A changed file costs in proportion to what changed in it: only its
// documents whose text changed are decoded again, and only its objects go
// to the store.
type Dir struct {
	Path     string
	Store    *Store
	Interval time.Duration // 2 s when zero (250 ms without inotify)
	Log      *slog.Logger

	mu     sync.Mutex
	files  map[string]*dirFile
	errors map[string]error
	// touched holds the files inotify named since the last scan, which it
	// rereads whatever their size and time say; all is set when inotify
	// named something else (a ConfigMap volume's ..data) or lost events.
	touched map[string]bool
	all     bool
}

type dirFile struct {
	mod  time.Time
	size int64
	// sum is the content's hash, so that a reread file whose content is
	// the same (a touch, a save without edits) causes no rebuild.
	sum  [sha256.Size]byte
	docs []decodedDocument
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

// Run scans the directory on every change inotify reports, and every
// Interval, until ctx is done.
func (d *Dir) Run(ctx context.Context) {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(d.Path); err != nil {
			w.Close()
		}
	}
	if err != nil {
		d.logger().Warn("inotify unavailable; polling the directory every 250ms", "dir", d.Path, "error", err)
		d.poll(ctx, cmp.Or(d.Interval, 250*time.Millisecond), nil)
		return
	}
	defer w.Close()
	d.poll(ctx, cmp.Or(d.Interval, 2*time.Second), w)
}

// poll scans every interval, and on each batch of w's events when w is set.
func (d *Dir) poll(ctx context.Context, interval time.Duration, w *fsnotify.Watcher) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case ev, ok := <-events:
			if !ok {
				return
			}
			d.touch(ev.Name)
			if !d.settle(ctx, events) {
				return
			}
		case err := <-errs:
			// An overflow means events were lost: reread everything.
			d.logger().Warn("inotify error; rereading the directory", "dir", d.Path, "error", err)
			d.touch("")
		}
		d.Scan()
	}
}

// A save is often several events (truncate, write, chmod); a scan waits
// until inotify has been quiet for settleQuiet, settleMax at most, so that
// it reads the file whole and once.
const (
	settleQuiet = 10 * time.Millisecond
	settleMax   = 100 * time.Millisecond
)

// settle takes events until they pause; false when ctx is done or the
// watcher closed.
func (d *Dir) settle(ctx context.Context, events <-chan fsnotify.Event) bool {
	quiet := time.NewTimer(settleQuiet)
	defer quiet.Stop()
	limit := time.NewTimer(settleMax)
	defer limit.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case ev, ok := <-events:
			if !ok {
				return false
			}
			d.touch(ev.Name)
			quiet.Reset(settleQuiet)
		case <-quiet.C:
			return true
		case <-limit.C:
			return true
		}
	}
}

// touch marks a file that inotify named for rereading. The directory
// itself, a name of a ConfigMap volume's own (..data, whose swap changes
// every file behind its symlinks) or none (events were lost) marks every
// file. Other names that are not manifests are left alone: an editor's
// swap file, or the temporary file a save writes and renames into place,
// whose rename names the manifest too.
func (d *Dir) touch(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if name == "" || filepath.Clean(name) == filepath.Clean(d.Path) || strings.HasPrefix(filepath.Base(name), "..") {
		d.all = true
		return
	}
	if !IsManifest(name) {
		return
	}
	if d.touched == nil {
		d.touched = map[string]bool{}
	}
	d.touched[filepath.Clean(name)] = true
}

func (d *Dir) logger() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
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
	touched, all := d.touched, d.all
	d.touched, d.all = nil, false

	entries, err := os.ReadDir(d.Path)
	if err != nil {
		return err
	}
	// edits holds the objects each changed file served before.
	edits := map[string][]runtime.Object{}
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
		if prev != nil && !all && !touched[name] && prev.mod.Equal(info.ModTime()) && prev.size == info.Size() {
			continue
		}
		if d.read(name, info, prev) {
			edits[name] = prev.objects()
		}
	}
	for name, f := range d.files {
		if !seen[name] {
			edits[name] = f.objects()
			delete(d.files, name)
			delete(d.errors, name)
		}
	}
	// The first scan sets the source even when there is nothing to read;
	// later scans signal only changes, or an empty directory would cause
	// a rebuild every interval.
	switch {
	case first || len(edits) > patchFiles:
		d.Store.Replace(DirSource, d.objects())
	case len(edits) > 0:
		d.patch(edits)
	}
	return nil
}

// patchFiles is how many changed files a scan hands to the store one by
// one; beyond that it hands over the whole directory.
const patchFiles = 64

// read reads a new or changed file, and reports whether what it serves
// changed. A file that does not parse keeps serving what it served.
func (d *Dir) read(name string, info os.FileInfo, prev *dirFile) bool {
	data, err := os.ReadFile(name)
	sum := sha256.Sum256(data)
	if err == nil && prev != nil && prev.sum == sum && d.errors[name] == nil {
		prev.mod, prev.size = info.ModTime(), info.Size()
		return false
	}
	var docs []decodedDocument
	if prev != nil {
		docs = prev.docs
	}
	if err == nil {
		docs, err = decodeDocuments(name, data, docs, nil)
	}
	next := &dirFile{mod: info.ModTime(), size: info.Size(), sum: sum, docs: docs}
	if err != nil {
		if prev != nil {
			next.docs = prev.docs
		}
		d.files[name] = next
		if old := d.errors[name]; old == nil || old.Error() != err.Error() {
			d.logger().Error("manifest not loaded; keeping what the file served before", "file", name, "error", err)
		}
		d.errors[name] = err
		return false
	}
	delete(d.errors, name)
	d.files[name] = next
	return true
}

// objects lists the objects of a file; none for nil.
func (f *dirFile) objects() []runtime.Object {
	if f == nil {
		return nil
	}
	return flatten(f.docs)
}

// objects lists the objects of every file, in file name order so that the
// last file wins when two define the same object.
func (d *Dir) objects() []runtime.Object {
	var out []runtime.Object
	for _, name := range slices.Sorted(maps.Keys(d.files)) {
		out = append(out, d.files[name].objects()...)
	}
	return out
}

// patch hands the store what changed in the edited files, each given
// with the objects it served before, in one step: a change to one file of
// a directory of thousands of objects costs in proportion to that file.
// An object comes from the last file in name order that defines it; the
// store's current object tells whether the edited file was that one.
// When it was not (the object is defined twice), when two edited files
// claim it, or when the file no longer defines an object it served, the
// file it now comes from is looked up among them all.
func (d *Dir) patch(edits map[string][]runtime.Object) {
	upserts := map[Key]runtime.Object{}
	contested := map[Key]bool{}
	for _, name := range slices.Sorted(maps.Keys(edits)) {
		served := map[runtime.Object]bool{}
		for _, obj := range edits[name] {
			if key, ok := KeyOf(obj); ok && d.Store.Get(DirSource, key) == obj {
				served[obj] = true
			}
		}
		now := lastByKey(d.files[name].objects())
		for key, obj := range now {
			_, claimed := upserts[key]
			if cur := d.Store.Get(DirSource, key); !claimed && (cur == nil || served[cur]) {
				upserts[key] = obj
			} else {
				contested[key] = true
			}
		}
		for obj := range served {
			if key, _ := KeyOf(obj); now[key] == nil {
				contested[key] = true
			}
		}
	}
	var deletes []Key
	if len(contested) > 0 {
		won := d.winners(contested)
		for key := range contested {
			if obj, ok := won[key]; ok {
				upserts[key] = obj
				continue
			}
			delete(upserts, key)
			deletes = append(deletes, key)
		}
	}
	d.Store.Patch(DirSource, slices.Collect(maps.Values(upserts)), deletes)
}

// winners finds, in one pass over every file, the object each of keys
// comes from: the last file's in name order, then the last in the file.
func (d *Dir) winners(keys map[Key]bool) map[Key]runtime.Object {
	from := map[Key]string{}
	won := map[Key]runtime.Object{}
	for name, f := range d.files {
		for _, obj := range f.objects() {
			if key, ok := KeyOf(obj); ok && keys[key] && name >= from[key] {
				from[key], won[key] = name, obj
			}
		}
	}
	return won
}

// lastByKey indexes objs by key, the last of two with one key winning.
func lastByKey(objs []runtime.Object) map[Key]runtime.Object {
	out := make(map[Key]runtime.Object, len(objs))
	for _, obj := range objs {
		if key, ok := KeyOf(obj); ok {
			out[key] = obj
		}
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
// manifests are read (not recursively), keeping the watched kinds and the
// extra ones (as Decode). It returns every object it could read and the
// errors of the files it could not.
func ReadPaths(paths []string, extra ...schema.GroupKind) ([]runtime.Object, error) {
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
			o, err := Decode(f, data, extra...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, o...)
		}
	}
	return objs, errors.Join(errs...)
}
