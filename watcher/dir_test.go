package watcher_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/watcher"
)

// dirFixture is a Dir over a fresh temporary directory, with a clock for
// the modification times of the files it writes.
type dirFixture struct {
	t     *testing.T
	path  string
	store *watcher.Store
	dir   *watcher.Dir
	log   *bytes.Buffer // what Dir logged
	mtime time.Time
}

func newDirFixture(t *testing.T) *dirFixture {
	path := t.TempDir()
	store := watcher.NewStore()
	var log bytes.Buffer
	return &dirFixture{
		t: t, path: path, store: store, log: &log,
		dir:   &watcher.Dir{Path: path, Store: store, Log: slog.New(slog.NewTextHandler(&log, nil))},
		mtime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// write writes a file with a modification time later than any before, so
// that Dir sees every write as a change.
func (f *dirFixture) write(name, content string) string {
	f.t.Helper()
	f.mtime = f.mtime.Add(time.Minute)
	return writeFile(f.t, f.path, name, content, f.mtime)
}

// scan runs one Scan and returns the keys of the store's input.
func (f *dirFixture) scan() []string {
	f.t.Helper()
	if err := f.dir.Scan(); err != nil {
		f.t.Fatalf("Scan: %v", err)
	}
	return inputKeys(f.store.Input())
}

func TestDirScan(t *testing.T) {
	t.Run("new_file_is_read", func(t *testing.T) {
		f := newDirFixture(t)
		equalKeys(t, "empty directory", f.scan(), []string{})
		f.write("web.yaml", serviceDoc("web", 80))
		equalKeys(t, "after a new file", f.scan(), []string{"Service default/web"})
	})

	t.Run("changed_file_is_read_again", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("app.yaml", serviceDoc("web", 80))
		f.scan()
		f.write("app.yaml", joinDocs(serviceDoc("web", 81), serviceDoc("api", 80)))
		equalKeys(t, "after a change", f.scan(), []string{"Service default/api", "Service default/web"})
		if port := f.store.Input().Services[1].Spec.Ports[0].Port; port != 81 {
			t.Errorf("Service web has port %d, want the new 81", port)
		}
	})

	t.Run("change_of_size_alone_is_seen", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("app.yaml", serviceDoc("web", 80))
		f.scan()
		writeFile(t, f.path, "app.yaml", serviceDoc("web-longer-name", 80), f.mtime) // same mtime
		equalKeys(t, "after a change of size", f.scan(), []string{"Service default/web-longer-name"})
	})

	t.Run("removed_file_takes_its_objects", func(t *testing.T) {
		f := newDirFixture(t)
		p := f.write("web.yaml", serviceDoc("web", 80))
		f.write("api.yaml", serviceDoc("api", 80))
		f.scan()
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		equalKeys(t, "after a removal", f.scan(), []string{"Service default/api"})
	})

	t.Run("last_file_by_name_wins_for_the_same_object", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("b.yaml", serviceDoc("web", 82))
		f.write("a.yaml", serviceDoc("web", 81))
		f.scan()
		if in := f.store.Input(); len(in.Services) != 1 || in.Services[0].Spec.Ports[0].Port != 82 {
			t.Errorf("got %v, want web from b.yaml (port 82)", inputKeys(in))
		}
	})

	t.Run("only_manifests_at_the_top_level_are_read", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("web.yml", serviceDoc("web", 80))
		f.write("api.json", `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"}}`)
		f.write("README.md", "not: [yaml")
		f.write(".web.yaml.swp", "not: [yaml")
		if err := os.Mkdir(filepath.Join(f.path, "nested"), 0o755); err != nil {
			t.Fatal(err)
		}
		f.write(filepath.Join("nested", "deep.yaml"), serviceDoc("deep", 80))
		equalKeys(t, "objects", f.scan(), []string{"Service default/api", "Service default/web"})
		if errs := f.dir.Errors(); len(errs) != 0 {
			t.Errorf("errors from files that are not manifests: %v", errs)
		}
	})

	t.Run("symlinked_file_is_followed", func(t *testing.T) {
		// ConfigMap volumes present each key as a symlink into ..data.
		f := newDirFixture(t)
		if err := os.Mkdir(filepath.Join(f.path, "..data"), 0o755); err != nil {
			t.Fatal(err)
		}
		f.write(filepath.Join("..data", "web.yaml"), serviceDoc("web", 80))
		if err := os.Symlink(filepath.Join("..data", "web.yaml"), filepath.Join(f.path, "web.yaml")); err != nil {
			t.Fatal(err)
		}
		equalKeys(t, "objects", f.scan(), []string{"Service default/web"})
	})

	t.Run("missing_directory_is_an_error", func(t *testing.T) {
		d := &watcher.Dir{Path: filepath.Join(t.TempDir(), "missing"), Store: watcher.NewStore()}
		if err := d.Scan(); err == nil {
			t.Error("Scan of a missing directory returned no error")
		}
	})
}

func TestDirMalformedFileKeepsWhatItServed(t *testing.T) {
	f := newDirFixture(t)
	web := f.write("web.yaml", joinDocs(serviceDoc("web", 80), serviceDoc("web-admin", 9000)))
	f.write("api.yaml", serviceDoc("api", 80))
	before := []string{"Service default/api", "Service default/web", "Service default/web-admin"}
	equalKeys(t, "first scan", f.scan(), before)
	drained(f.store)

	// A bad save: the second document (from line 9) has a tab on line 12.
	f.write("web.yaml", joinDocs(serviceDoc("web", 80), "apiVersion: v1\nkind: Service\nmetadata:\n\tname: web-admin\n"))
	equalKeys(t, "after a bad save", f.scan(), before)
	errs := f.dir.Errors()
	if len(errs) != 1 {
		t.Fatalf("Errors() = %v, want one", errs)
	}
	var me *watcher.ManifestError
	if !errors.As(errs[0], &me) || me.File != web || me.Line != 12 {
		t.Errorf("error %v, want a *watcher.ManifestError for %s line 12", errs[0], web)
	}
	if !strings.Contains(errs[0].Error(), "web.yaml:12:") {
		t.Errorf("error %q does not say web.yaml:12", errs[0])
	}

	// The same error again, in a new save, is not logged again.
	f.write("web.yaml", joinDocs(serviceDoc("web", 80), "apiVersion: v1\nkind: Service\nmetadata:\n\tname: web-admin\n"))
	f.scan()
	if n := strings.Count(f.log.String(), "manifest not loaded"); n != 1 {
		t.Errorf("the error was logged %d times, want once:\n%s", n, f.log)
	}

	// Another file can still change meanwhile.
	f.write("api.yaml", serviceDoc("api-v2", 80))
	equalKeys(t, "after another file changed", f.scan(), []string{"Service default/api-v2", "Service default/web", "Service default/web-admin"})
	if len(f.dir.Errors()) != 1 {
		t.Errorf("the error of web.yaml went away while it is still malformed: %v", f.dir.Errors())
	}

	// Fixed: its new content is read and the error is gone.
	f.write("web.yaml", serviceDoc("web", 80))
	equalKeys(t, "after the fix", f.scan(), []string{"Service default/api-v2", "Service default/web"})
	if errs := f.dir.Errors(); len(errs) != 0 {
		t.Errorf("Errors() after the fix = %v, want none", errs)
	}
}

func TestDirMalformedNewFile(t *testing.T) {
	f := newDirFixture(t)
	f.write("api.yaml", serviceDoc("api", 80))
	f.write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: name: web\n")
	equalKeys(t, "objects", f.scan(), []string{"Service default/api"})
	if errs := f.dir.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "web.yaml:3:") {
		t.Errorf("Errors() = %v, want one for web.yaml line 3", errs)
	}

	// Removing the malformed file clears its error.
	if err := os.Remove(filepath.Join(f.path, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	f.scan()
	if errs := f.dir.Errors(); len(errs) != 0 {
		t.Errorf("Errors() after removing the file = %v, want none", errs)
	}
}

func TestDirErrorsAreSorted(t *testing.T) {
	f := newDirFixture(t)
	f.write("b.yaml", "kind: [\n")
	f.write("a.yaml", "kind: [\n")
	f.scan()
	errs := f.dir.Errors()
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "a.yaml") || !strings.Contains(errs[1].Error(), "b.yaml") {
		t.Errorf("Errors() = %v, want a.yaml's then b.yaml's", errs)
	}
}

// TestDirScanPatches: after the first scan, a scan hands the store only
// what changed in the changed files, and the store ends as a whole reread
// would leave it, signalling only real changes.
func TestDirScanPatches(t *testing.T) {
	t.Run("the_file_that_wins_an_object_follows_changes_after_the_first_scan", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("a.yaml", serviceDoc("web", 81))
		f.scan()
		port := func() int32 { return f.store.Input().Services[0].Spec.Ports[0].Port }
		f.write("b.yaml", serviceDoc("web", 82))
		if f.scan(); port() != 82 {
			t.Errorf("with b.yaml added: port %d, want b.yaml's 82", port())
		}
		f.write("a.yaml", serviceDoc("web", 83))
		if f.scan(); port() != 82 {
			t.Errorf("with a.yaml changed: port %d, want b.yaml's 82 still", port())
		}
		f.write("b.yaml", serviceDoc("api", 80))
		equalKeys(t, "with web gone from b.yaml", f.scan(), []string{"Service default/api", "Service default/web"})
		if port := f.store.Input().Services[1].Spec.Ports[0].Port; port != 83 {
			t.Errorf("with web gone from b.yaml: port %d, want a.yaml's 83", port)
		}
		if err := os.Remove(filepath.Join(f.path, "a.yaml")); err != nil {
			t.Fatal(err)
		}
		equalKeys(t, "with a.yaml removed", f.scan(), []string{"Service default/api"})
	})

	t.Run("a_changed_document_leaves_the_others_objects_as_they_were", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("app.yaml", joinDocs(serviceDoc("api", 80), serviceDoc("web", 80)))
		f.scan()
		before := f.store.Input().Services
		drained(f.store)
		f.write("app.yaml", joinDocs(serviceDoc("api", 80), serviceDoc("web", 81)))
		f.scan()
		after := f.store.Input().Services
		if after[0] != before[0] {
			t.Error("Service api, whose document did not change, was decoded again")
		}
		if after[1].Spec.Ports[0].Port != 81 {
			t.Errorf("Service web has port %d, want the new 81", after[1].Spec.Ports[0].Port)
		}
		if !drained(f.store) {
			t.Error("the change gave no signal")
		}
	})

	t.Run("an_object_moved_between_files_in_one_scan_is_no_change", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("a.yaml", serviceDoc("api", 80))
		f.write("b.yaml", joinDocs(serviceDoc("api", 80), serviceDoc("web", 80)))
		f.scan()
		drained(f.store)
		f.write("b.yaml", serviceDoc("api", 80))
		f.write("a.yaml", joinDocs(serviceDoc("api", 80), serviceDoc("web", 80)))
		equalKeys(t, "after the move", f.scan(), []string{"Service default/api", "Service default/web"})
		if drained(f.store) {
			t.Error("moving an unchanged object to another file signalled a change")
		}
	})

	t.Run("the_losing_copy_within_one_file_is_no_change", func(t *testing.T) {
		f := newDirFixture(t)
		f.write("app.yaml", joinDocs(serviceDoc("web", 81), serviceDoc("web", 82)))
		f.scan()
		drained(f.store)
		f.write("app.yaml", joinDocs(serviceDoc("web", 83), serviceDoc("web", 82)))
		f.scan()
		if port := f.store.Input().Services[0].Spec.Ports[0].Port; port != 82 {
			t.Errorf("port %d, want the last copy's 82", port)
		}
		if drained(f.store) {
			t.Error("a change to the copy that loses signalled a change")
		}
	})

	t.Run("many_changed_files_at_once", func(t *testing.T) {
		f := newDirFixture(t)
		for i := range 100 {
			f.write(fmt.Sprintf("s%03d.yaml", i), serviceDoc(fmt.Sprintf("s%03d", i), 80))
		}
		f.scan()
		for i := range 100 {
			f.write(fmt.Sprintf("s%03d.yaml", i), serviceDoc(fmt.Sprintf("s%03d", i), 81))
		}
		f.scan()
		in := f.store.Input()
		if len(in.Services) != 100 || in.Services[0].Spec.Ports[0].Port != 81 || in.Services[99].Spec.Ports[0].Port != 81 {
			t.Errorf("got %d Services, want 100 on port 81", len(in.Services))
		}
	})
}

func TestDirScanSignalsOnlyChanges(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
	}{
		{"empty_directory", nil},
		{"directory_with_a_manifest", map[string]string{"web.yaml": serviceDoc("web", 80)}},
		{"directory_with_a_malformed_manifest", map[string]string{"web.yaml": "kind: [\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newDirFixture(t)
			for name, content := range c.files {
				f.write(name, content)
			}
			f.scan()
			drained(f.store)
			f.scan()
			f.scan()
			if drained(f.store) {
				t.Error("scans of an unchanged directory signalled a change")
			}
			f.write("new.yaml", serviceDoc("new", 80))
			f.scan()
			if !drained(f.store) {
				t.Error("a new file gave no change signal")
			}
		})
	}
}

func TestDirFirstScanOfAnEmptyDirectorySetsTheSource(t *testing.T) {
	// The first scan establishes the source even when there is nothing to
	// read, so that a rebuild waiting for it sees an empty, settled input.
	f := newDirFixture(t)
	f.scan()
	if !drained(f.store) {
		t.Error("first scan of an empty directory gave no change signal")
	}
}

// run runs the Dir until the test ends, and checks that Run returns then.
func (f *dirFixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.dir.Run(ctx)
	}()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			f.t.Error("Run did not return after its context was cancelled")
		}
	})
}

func TestDirRun(t *testing.T) {
	f := newDirFixture(t)
	f.dir.Interval = 5 * time.Millisecond
	f.run()

	f.write("web.yaml", serviceDoc("web", 80))
	timeout := time.After(patience)
	for len(f.store.Input().Services) == 0 {
		// The store signals every change it takes.
		select {
		case <-f.store.Changes():
		case <-timeout:
			t.Fatal("Run did not pick up a new file")
		}
	}
}

// TestDirRunFollowsInotify: with a poll interval of an hour, a new file, a
// rewrite that keeps the file's size and modification time, and a removal
// all reach the store through inotify; a save that changes nothing makes
// no rebuild.
func TestDirRunFollowsInotify(t *testing.T) {
	f := newDirFixture(t)
	f.dir.Interval = time.Hour
	f.scan()
	drained(f.store)
	f.run()
	await := func(what string, ok func() bool) {
		t.Helper()
		timeout := time.After(patience)
		for !ok() {
			select {
			case <-f.store.Changes():
			case <-timeout:
				t.Fatalf("%s did not reach the store", what)
			}
		}
	}
	// Run's watch starts before long; until then a write may go unseen.
	deadline := time.Now().Add(patience)
	for len(f.store.Input().Services) == 0 && time.Now().Before(deadline) {
		f.write("web.yaml", serviceDoc("web", 80))
		time.Sleep(20 * time.Millisecond)
	}
	await("a new file", func() bool { return len(f.store.Input().Services) == 1 })

	// Same size, same modification time: only inotify can tell.
	writeFile(t, f.path, "web.yaml", serviceDoc("wob", 80), f.mtime)
	await("a rewrite of the same size and time", func() bool {
		s := f.store.Input().Services
		return len(s) == 1 && s[0].Name == "wob"
	})
	drained(f.store)
	writeFile(t, f.path, "web.yaml", serviceDoc("wob", 80), f.mtime.Add(time.Minute))
	time.Sleep(200 * time.Millisecond)
	if drained(f.store) {
		t.Error("a save that changed nothing made a change signal")
	}
	// A save through a temporary file renamed into place, as editors and
	// rukou's tests save.
	tmp := writeFile(t, f.path, ".web.yaml.tmp", serviceDoc("wib", 80), f.mtime)
	if err := os.Rename(tmp, filepath.Join(f.path, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	await("a save by rename", func() bool {
		s := f.store.Input().Services
		return len(s) == 1 && s[0].Name == "wib"
	})
	if err := os.Remove(filepath.Join(f.path, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	await("a removal", func() bool { return len(f.store.Input().Services) == 0 })
}

// TestDirRunFollowsAConfigMapVolume: a ConfigMap volume presents each key
// as a symlink through ..data, and the kubelet changes them all at once by
// swapping ..data; inotify names only ..data's temporary link, never the
// manifests.
func TestDirRunFollowsAConfigMapVolume(t *testing.T) {
	f := newDirFixture(t)
	f.dir.Interval = time.Hour
	version := func(dir, service string) {
		if err := os.Mkdir(filepath.Join(f.path, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, f.path, filepath.Join(dir, "web.yaml"), serviceDoc(service, 80), f.mtime)
		if err := os.Symlink(dir, filepath.Join(f.path, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(f.path, "..data_tmp"), filepath.Join(f.path, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_01", "web")
	if err := os.Symlink(filepath.Join("..data", "web.yaml"), filepath.Join(f.path, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	equalKeys(t, "first", f.scan(), []string{"Service default/web"})
	f.run()
	// Run's watch starts before long; until then a swap may go unseen.
	deadline := time.Now().Add(patience)
	for i := 2; time.Now().Before(deadline); i++ {
		version(fmt.Sprintf("..2026_%02d", i), "wob") // same size, same time
		time.Sleep(20 * time.Millisecond)
		if s := f.store.Input().Services; len(s) == 1 && s[0].Name == "wob" {
			return
		}
	}
	t.Fatal("the swap of ..data did not reach the store")
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeFile(t, dir, "web.yaml", serviceDoc("web", 80), mtime)
	writeFile(t, dir, "api.json", `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"}}`, mtime)
	writeFile(t, dir, "notes.txt", "not: [yaml", mtime)
	if err := os.Mkdir(filepath.Join(dir, "nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, filepath.Join("nested", "deep.yaml"), serviceDoc("deep", 80), mtime)
	other := t.TempDir()
	single := writeFile(t, other, "single.yaml", serviceDoc("single", 80), mtime)
	bad := writeFile(t, other, "bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: name: x\n", mtime)

	t.Run("files_and_directories", func(t *testing.T) {
		objs, err := watcher.ReadPaths([]string{dir, single})
		if err != nil {
			t.Fatalf("ReadPaths: %v", err)
		}
		equalKeys(t, "objects", keyStrings(objs), []string{"Service default/api", "Service default/web", "Service default/single"})
	})
	t.Run("bad_files_are_reported_and_the_rest_is_read", func(t *testing.T) {
		missing := filepath.Join(other, "missing.yaml")
		objs, err := watcher.ReadPaths([]string{bad, missing, single})
		equalKeys(t, "objects", keyStrings(objs), []string{"Service default/single"})
		var me *watcher.ManifestError
		if !errors.As(err, &me) || me.File != bad || me.Line != 3 {
			t.Errorf("error %v, want a *watcher.ManifestError for %s line 3", err, bad)
		}
		if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
			t.Errorf("error %v does not name the missing file", err)
		}
	})
}
