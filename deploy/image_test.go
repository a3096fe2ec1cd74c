package deploy_test

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/cluster/image"
	"github.com/rukou/rukou/test/harness"
)

// dockerfile is what the test reads from the Dockerfile.
type dockerfile struct {
	froms      []string // images of the FROM lines, in order
	build      string   // the RUN line that runs go build, without RUN
	copyTo     string   // where the final stage puts /out/rukou
	user       string
	entrypoint string
	cmd        []string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(harness.Root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "FROM":
			for _, w := range fields[1:] {
				if !strings.HasPrefix(w, "--") {
					d.froms = append(d.froms, w)
					break
				}
			}
		case "RUN":
			if strings.Contains(sc.Text(), "go build") {
				d.build = strings.TrimSpace(strings.TrimPrefix(sc.Text(), "RUN"))
			}
		case "COPY":
			if len(fields) == 4 && fields[1] == "--from=build" && fields[2] == "/out/rukou" {
				d.copyTo = fields[3]
			}
		case "USER":
			d.user = fields[1]
		case "ENTRYPOINT":
			d.entrypoint = strings.Trim(strings.Join(fields[1:], " "), `[]"`)
		case "CMD":
			if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(sc.Text(), "CMD"))), &d.cmd); err != nil {
				t.Fatalf("CMD in the Dockerfile is not a JSON list: %v", err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDockerfile: the final stage is distroless and non-root, its
// entrypoint is the binary the build stage made, and the build stage's Go
// satisfies go.mod.
func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)
	if len(d.froms) != 2 {
		t.Fatalf("FROM lines %v, want a build stage and a final stage", d.froms)
	}
	final := d.froms[1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.HasSuffix(final, ":nonroot") {
		t.Errorf("final stage %s, want gcr.io/distroless/static…:nonroot", final)
	}
	if d.user != "65532:65532" {
		t.Errorf("USER %q, want distroless's nonroot 65532:65532 (deploy/rukou.yaml runs as 65532)", d.user)
	}
	if d.copyTo == "" || d.entrypoint != d.copyTo {
		t.Errorf("ENTRYPOINT %q, want the copied binary %q", d.entrypoint, d.copyTo)
	}
	gomod, err := os.ReadFile(filepath.Join(harness.Root(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goVersion == nil || d.froms[0] != "golang:"+string(goVersion[1]) {
		t.Errorf("build stage %s, want golang:%s as go.mod says", d.froms[0], goVersion[1])
	}
}

// TestImageBinary runs the Dockerfile's `go build` line as it is written
// (with /out/rukou in a temporary directory) and checks that the binary is
// statically linked, so that it runs on distroless/static, which has no
// libc, and that it runs.
func TestImageBinary(t *testing.T) {
	d := readDockerfile(t)
	if !strings.Contains(d.build, "CGO_ENABLED=0") || !strings.Contains(d.build, "-trimpath") || !strings.Contains(d.build, "/out/rukou") {
		t.Fatalf("the Dockerfile's build line %q should build /out/rukou with CGO_ENABLED=0 and -trimpath", d.build)
	}
	out := filepath.Join(t.TempDir(), "rukou")
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(d.build, "/out/rukou", out))
	cmd.Dir = harness.Root(t)
	// As docker build sets them: the build arguments, empty TARGETOS and
	// TARGETARCH with the classic builder.
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-imagetest", "TARGETOS=", "TARGETARCH=")
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", d.build, err, b)
	}
	t.Logf("built the image's binary in %v (a cold build cache takes minutes)", time.Since(start).Round(time.Millisecond))

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader (PT_INTERP): it will not start on distroless/static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary keeps its symbol table: the build line should strip it (-s -w)")
	}
	v, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(v)) != "rukou v0.0.0-imagetest" {
		t.Errorf("rukou version: %q, %v; want the VERSION build argument", v, err)
	}
}

// TestDockerignore: the build context keeps every package rukou is built
// from.
func TestDockerignore(t *testing.T) {
	root := harness.Root(t)
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var ignored []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") && !strings.ContainsAny(line, "*!") {
			ignored = append(ignored, line)
		}
	}
	goList := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./cmd/rukou")
	goList.Dir = root
	list, err := goList.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range strings.Fields(string(list)) {
		rel, _ := filepath.Rel(root, dir)
		for _, ig := range ignored {
			if rel == ig || strings.HasPrefix(rel, ig+"/") {
				t.Errorf("package %s is left out of the image's build context by .dockerignore's %q", rel, ig)
			}
		}
	}
}

// TestImageWithoutDocker: the image `make image` writes without Docker (and
// `make cluster-up` imports) starts as the Dockerfile's does: the same
// entrypoint, arguments and user, under the name the manifest runs; and
// the Envoy image under the manifest's name, fully qualified.
func TestImageWithoutDocker(t *testing.T) {
	d := readDockerfile(t)
	bin := filepath.Join(t.TempDir(), "rukou")
	if err := os.WriteFile(bin, []byte("not a real binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := image.Build(image.Rukou(bin))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Config.Entrypoint, " "); got != d.entrypoint {
		t.Errorf("Go-built image's entrypoint %q, the Dockerfile's %q", got, d.entrypoint)
	}
	if !slices.Equal(cfg.Config.Cmd, d.cmd) {
		t.Errorf("Go-built image's cmd %q, the Dockerfile's %q", cfg.Config.Cmd, d.cmd)
	}
	if cfg.Config.User != d.user {
		t.Errorf("Go-built image's user %q, the Dockerfile's %q", cfg.Config.User, d.user)
	}
	if image.RukouName != rukouImage(t) {
		t.Errorf("Go-built image is named %s, the Makefile's IMAGE (and the manifest's) is %s", image.RukouName, rukouImage(t))
	}
	if image.EnvoyName != "docker.io/"+envoyImage {
		t.Errorf("Go-built Envoy image is named %s, want docker.io/%s as the manifest runs it", image.EnvoyName, envoyImage)
	}
}
