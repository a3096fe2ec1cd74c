package watcher

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
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

// touch marks a file that inotify named for rereading; any other name
// marks every file.
func (d *Dir) touch(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if name == "" || !IsManifest(name) {
		d.all = true
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
	log := d.logger()
	touched, all := d.touched, d.all
	d.touched, d.all = nil, false

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
		if prev != nil && !all && !touched[name] && prev.mod.Equal(info.ModTime()) && prev.size == info.Size() {
			continue
		}
		data, err := os.ReadFile(name)
		sum := sha256.Sum256(data)
		if err == nil && prev != nil && prev.sum == sum && d.errors[name] == nil {
			prev.mod, prev.size = info.ModTime(), info.Size()
			continue
		}
		var objs []runtime.Object
		if err == nil {
			objs, err = Decode(name, data)
		}
		next := &dirFile{mod: info.ModTime(), size: info.Size(), sum: sum, objs: objs}
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
