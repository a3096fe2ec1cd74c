package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// LocalPod plays the kubelet for a pod template of deploy/rukou.yaml, so
// that its containers' command lines run here as they are written: each
// volume is a directory (a Secret volume holds the Secret's keys as files),
// each mount path in an argument becomes its volume's directory, $(VAR)
// expands from the container's env, and the flags a test names get local
// values (addresses on 127.0.0.1 instead of cluster names and ports).
type LocalPod struct {
	t    testing.TB
	Name string
	Spec *corev1.PodSpec
	// Dirs maps each volume's name to its directory.
	Dirs map[string]string
	// Flags are the values that replace those in the manifest, by flag
	// name ("--xds-address"). Every one must be somewhere in the pod's
	// command lines.
	Flags map[string]string
	// Binaries maps an image, or a command's absolute path in an image,
	// to the local program that stands for it.
	Binaries map[string]string
	used     map[string]bool
}

// NewLocalPod prepares the volumes of spec. secrets holds the data of the
// Secrets that Secret volumes name; a missing one fails the test, as the
// kubelet would not start the pod.
func NewLocalPod(t testing.TB, name string, spec *corev1.PodSpec, secrets map[string]map[string][]byte) *LocalPod {
	t.Helper()
	root := t.TempDir()
	p := &LocalPod{t: t, Name: name, Spec: spec, Dirs: map[string]string{}, Flags: map[string]string{}, used: map[string]bool{},
		Binaries: map[string]string{
			"ghcr.io/rukou/rukou":  filepath.Join(Root(t), "bin", "rukou"),
			"/usr/local/bin/envoy": Tool(t, "envoy"),
		}}
	for _, v := range spec.Volumes {
		dir := filepath.Join(root, v.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p.Dirs[v.Name] = dir
		if v.Secret == nil {
			continue
		}
		data, ok := secrets[v.Secret.SecretName]
		if !ok {
			t.Fatalf("pod %s: volume %s needs Secret %s, which the test did not give", name, v.Name, v.Secret.SecretName)
		}
		for k, b := range data {
			writeFile(t, filepath.Join(dir, k), b)
		}
	}
	t.Cleanup(func() {
		for flag := range p.Flags {
			if !p.used[flag] && !t.Failed() {
				t.Errorf("pod %s: no command line has %s; the test expected one", name, flag)
			}
		}
	})
	return p
}

// Path returns where a mount path of container c is here.
func (p *LocalPod) Path(c *corev1.Container, mountPath string) string {
	if local, ok := p.rewritePath(c, mountPath); ok {
		return local
	}
	p.t.Fatalf("pod %s: container %s mounts nothing at %s", p.Name, c.Name, mountPath)
	return ""
}

// Command returns the container's command line (its image's entrypoint
// when it sets no command) with the local programs, paths and values.
func (p *LocalPod) Command(c *corev1.Container) *exec.Cmd {
	p.t.Helper()
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(c.Command) == 0 {
		image, _, _ := strings.Cut(c.Image, ":")
		bin, ok := p.Binaries[image]
		if !ok {
			p.t.Fatalf("pod %s: no local program stands for image %s", p.Name, c.Image)
		}
		argv = append([]string{bin}, argv...)
	}
	return p.exec(c, argv)
}

// PreStop returns the container's preStop exec hook as a command here.
func (p *LocalPod) PreStop(c *corev1.Container) *exec.Cmd {
	p.t.Helper()
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
		p.t.Fatalf("pod %s: container %s has no preStop exec hook", p.Name, c.Name)
	}
	return p.exec(c, c.Lifecycle.PreStop.Exec.Command)
}

// Run runs a container to completion, as an init container runs.
func (p *LocalPod) Run(c *corev1.Container) string {
	p.t.Helper()
	out, err := p.Command(c).CombinedOutput()
	if err != nil {
		p.t.Fatalf("pod %s: container %s: %v\n%s", p.Name, CommandLine(c), err, out)
	}
	return string(out)
}

// Start starts a container until the test ends.
func (p *LocalPod) Start(c *corev1.Container) *Process {
	p.t.Helper()
	return Start(p.t, p.Name+"/"+c.Name, p.Command(c), 10*time.Second)
}

func (p *LocalPod) exec(c *corev1.Container, argv []string) *exec.Cmd {
	argv = slices.Clone(argv)
	if bin, ok := p.Binaries[argv[0]]; ok {
		argv[0] = bin
	}
	for i := range argv {
		argv[i] = p.expand(c, argv[i])
	}
	for i := 0; i < len(argv); i++ {
		for flag, value := range p.Flags {
			if _, ok := cutFlag(argv[i], flag); ok {
				argv[i] = flag + "=" + value
				p.used[flag] = true
			} else if argv[i] == flag && i+1 < len(argv) {
				argv[i+1] = value
				p.used[flag] = true
			}
		}
	}
	for i := range argv {
		argv[i] = p.rewriteArg(c, argv[i])
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	for _, e := range c.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+p.envValue(c, e))
	}
	return cmd
}

// expand replaces $(VAR) with the value of the container's env VAR, as the
// kubelet does in command and args.
func (p *LocalPod) expand(c *corev1.Container, arg string) string {
	for _, e := range c.Env {
		arg = strings.ReplaceAll(arg, "$("+e.Name+")", p.envValue(c, e))
	}
	return arg
}

func (p *LocalPod) envValue(c *corev1.Container, e corev1.EnvVar) string {
	if e.ValueFrom == nil {
		return e.Value
	}
	if f := e.ValueFrom.FieldRef; f != nil {
		switch f.FieldPath {
		case "metadata.name":
			return p.Name
		case "metadata.namespace":
			return "rukou-system"
		}
	}
	if f := e.ValueFrom.ResourceFieldRef; f != nil && f.Resource == "limits.memory" {
		// The container's own limit, unless the reference names another.
		if f.ContainerName != "" {
			c = Container(p.t, p.Spec, f.ContainerName)
		}
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			return strconv.FormatInt(q.Value(), 10)
		}
	}
	p.t.Fatalf("pod %s: env %s: the local pod cannot resolve %v", p.Name, e.Name, e.ValueFrom)
	return ""
}

// rewriteArg rewrites a mount path in arg, or in the value of --flag=arg.
func (p *LocalPod) rewriteArg(c *corev1.Container, arg string) string {
	if local, ok := p.rewritePath(c, arg); ok {
		return local
	}
	if name, value, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(name, "-") {
		if local, ok := p.rewritePath(c, value); ok {
			return name + "=" + local
		}
	}
	return arg
}

// rewritePath maps a path under a mount of c, else under a mount of another
// container of the pod: an init container writes paths for the container
// that will read them (the bootstrap names Envoy's certificate files).
func (p *LocalPod) rewritePath(c *corev1.Container, path string) (string, bool) {
	mounts := slices.Clone(c.VolumeMounts)
	for _, other := range slices.Concat(p.Spec.InitContainers, p.Spec.Containers) {
		mounts = append(mounts, other.VolumeMounts...)
	}
	for _, m := range mounts {
		if path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/") {
			return p.Dirs[m.Name] + strings.TrimPrefix(path, m.MountPath), true
		}
	}
	return "", false
}
