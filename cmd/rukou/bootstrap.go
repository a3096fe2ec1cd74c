package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rukou/rukou/envoy"
)

func runBootstrap(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bootstrap", stderr)
	var cfg envoy.BootstrapConfig
	var mode, out, copyTo string
	fs.StringVar(&cfg.XDSAddress, "xds-address", defaultBootstrapXDS, "rukou's xDS address, HOST:PORT (HOST may be a DNS name)")
	fs.StringVar(&cfg.AdminAddress, "admin-address", defaultAdminAddress, "address of Envoy's admin API")
	fs.StringVar(&cfg.NodeID, "node-id", defaultNodeID, "Envoy node id, as shown on rukou's /debug pages")
	fs.StringVar(&cfg.XDSCA, "xds-ca", "", "CA file that signs rukou's xDS certificate (enables TLS to rukou)")
	fs.StringVar(&cfg.XDSCert, "xds-cert", "", "client certificate file for mutual TLS to rukou")
	fs.StringVar(&cfg.XDSKey, "xds-key", "", "client key file for mutual TLS to rukou")
	fs.StringVar(&cfg.XDSServerName, "xds-server-name", "", "name rukou's xDS certificate must carry, sent as SNI (default: the host of --xds-address)")
	fs.StringVar(&cfg.LimiterAddress, "limiter-address", "", "HOST:PORT of a \"rukou limiter\" beside Envoy, which counts requests for limit-connections (default: ask rukou at --xds-address)")
	fs.StringVar(&cfg.ReadyAddress, "ready-address", "", "HOST:PORT of a listener that serves only GET /ready from the admin API, for probes that cannot reach the admin address (default: none)")
	fs.StringVar(&copyTo, "copy-binary", "", "also copy this rukou binary to this path, so that a container without rukou (Envoy's) can run \"rukou drain\"")
	fs.StringVar(&mode, "xds-mode", string(envoy.Delta), "ADS flavour: delta or sotw (state of the world)")
	fs.StringVar(&out, "o", "-", "output file; - for stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Mode = envoy.Mode(mode)
	b, err := envoy.Bootstrap(cfg)
	if err != nil {
		return err
	}
	y, err := envoy.MarshalYAML(b)
	if err != nil {
		return err
	}
	if copyTo != "" {
		if err := copySelf(copyTo); err != nil {
			return err
		}
	}
	if out == "-" {
		_, err = stdout.Write(y)
		return err
	}
	return os.WriteFile(out, y, 0o644)
}

// copySelf copies the running executable to path, executable by everyone:
// the Envoy image has no rukou, and its container may run as another user.
// The copy is written aside and renamed, so a reader never sees half a file.
func copySelf(path string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--copy-binary: finding this executable: %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("--copy-binary: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rukou-*")
	if err != nil {
		return fmt.Errorf("--copy-binary: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("--copy-binary: copying %s to %s: %w", self, path, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("--copy-binary: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--copy-binary: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--copy-binary: %w", err)
	}
	return nil
}
