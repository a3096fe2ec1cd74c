// Package image writes container images as archives that `ctr images
// import` and `docker load` accept, without Docker and without a registry:
// the rukou and Envoy images of `make image`, and the images the one-node
// cluster of `make cluster-up` runs. The image format (layers, digests,
// config, manifest, index) is go-containerregistry's; this package only
// says which files go in and how the image starts.
//
// It may import only the standard library and go-containerregistry.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of an image's only layer.
type File struct {
	Path   string      // absolute path in the image
	Mode   fs.FileMode // permission bits; fs.ModeDir for a directory
	Data   []byte      // contents, when Source is empty
	Source string      // a host file whose contents are copied
}

// Spec is what an image holds and how it starts.
type Spec struct {
	// Name is the fully qualified reference the archive carries, as a pod
	// spec names it (docker.io/envoyproxy/envoy:v1.40.0): with no registry,
	// the kubelet finds an image only under exactly that name.
	Name       string
	Files      []File
	Entrypoint []string
	Cmd        []string
	User       string
	Env        []string
}

// Build makes the image of s: one layer with its files, and a config that
// runs Entrypoint and Cmd as User.
func Build(s Spec) (v1.Image, error) {
	layerTar, err := layerBytes(s.Files)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", s.Name, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image %s: layer: %w", s.Name, err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", s.Name, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", s.Name, err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	env := s.Env
	if len(env) == 0 {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cfg.Config = v1.Config{Entrypoint: s.Entrypoint, Cmd: s.Cmd, User: s.User, Env: env, WorkingDir: "/"}
	return mutate.ConfigFile(img, cfg)
}

// WriteArchive builds s and writes it to file as a tar archive that holds
// both an OCI image layout (index.json naming the image through the
// io.containerd.image.name annotation, which `ctr images import` reads) and
// Docker's manifest.json (RepoTags, which `docker load` reads).
func WriteArchive(file string, s Spec) error {
	ref, err := name.NewTag(s.Name, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("image %s: the name must be fully qualified (registry/repository:tag): %w", s.Name, err)
	}
	img, err := Build(s)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(filepath.Dir(file), ".layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image %s: %w", s.Name, err)
	}
	err = p.AppendImage(img,
		layout.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}),
		layout.WithAnnotations(map[string]string{
			"io.containerd.image.name":          s.Name,
			"org.opencontainers.image.ref.name": ref.TagStr(),
		}))
	if err != nil {
		return fmt.Errorf("image %s: %w", s.Name, err)
	}
	manifest, err := dockerManifest(img, s.Name)
	if err != nil {
		return fmt.Errorf("image %s: %w", s.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644); err != nil {
		return err
	}
	return tarDir(file, dir)
}

// dockerManifest is `docker save`'s manifest.json for img, pointing at the
// blobs of the OCI layout beside it (as Docker 25 and later write it).
func dockerManifest(img v1.Image, repoTag string) ([]byte, error) {
	cfg, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	m := tarball.Manifest{{Config: blobPath(cfg), RepoTags: []string{repoTag}}}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		m[0].Layers = append(m[0].Layers, blobPath(d))
	}
	return json.Marshal(m)
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// layerBytes is the uncompressed tar of files, parents created as
// directories, owned by root, with a fixed time so that the same files
// give the same digest.
func layerBytes(files []File) ([]byte, error) {
	entries := map[string]File{}
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = File{Path: d, Mode: fs.ModeDir | 0o755}
			}
		}
		f.Path = p
		entries[p] = f
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := entries[n]
		hdr := &tar.Header{Name: strings.TrimPrefix(n, "/"), Mode: int64(f.Mode.Perm()), Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if f.Mode&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		if f.Mode.IsDir() {
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			continue
		}
		data := f.Data
		if f.Source != "" {
			var err error
			if data, err = os.ReadFile(f.Source); err != nil {
				return nil, err
			}
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarDir packs the image layout in dir into the archive file (written
// beside, then renamed, so a reader never sees half an archive).
func tarDir(file, dir string) error {
	tmp := file + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if d.IsDir() {
			hdr.Name += "/"
			return tw.WriteHeader(hdr)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return os.Rename(tmp, file)
}
