package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rukou/rukou/envoy"
)

func newBootstrapCmd() *cobra.Command {
	var cfg envoy.BootstrapConfig
	var out, copyTo string
	mode := newChoice(string(envoy.Delta), string(envoy.Delta), string(envoy.SotW))
	cmd := &cobra.Command{
		Use:   "bootstrap -o FILE",
		Short: "Write an Envoy bootstrap that connects to rukou over ADS",
		Example: `  rukou bootstrap --xds-address 127.0.0.1:18000 -o bootstrap.yaml
  rukou bootstrap --xds-address=rukou.rukou-system.svc:18000 --xds-ca=ca.crt -o -`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Mode = envoy.Mode(mode.value)
			return bootstrap(cmd.OutOrStdout(), cfg, out, copyTo)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.XDSAddress, "xds-address", defaultBootstrapXDS, "rukou's xDS address, HOST:PORT (HOST may be a DNS name)")
	fs.StringVar(&cfg.AdminAddress, "admin-address", defaultAdminAddress, "address of Envoy's admin API")
	fs.StringVar(&cfg.NodeID, "node-id", defaultNodeID, "Envoy node id, as shown on rukou's /debug pages")
	fs.StringVar(&cfg.XDSCA, "xds-ca", "", "CA file that signs rukou's xDS certificate (enables TLS to rukou)")
	fs.StringVar(&cfg.XDSCert, "xds-cert", "", "client certificate file for mutual TLS to rukou")
	fs.StringVar(&cfg.XDSKey, "xds-key", "", "client key file for mutual TLS to rukou")
	fs.StringVar(&cfg.XDSServerName, "xds-server-name", "", "name rukou's xDS certificate must carry, sent as SNI (default: the host of --xds-address)")
	fs.StringVar(&cfg.LimiterAddress, "limiter-address", "", "HOST:PORT of a \"rukou limiter\" beside Envoy, which counts requests for limit-connections (default: ask rukou at --xds-address)")
	fs.StringVar(&cfg.ReadyAddress, "ready-address", "", "HOST:PORT of a listener that serves only GET /ready from the admin API, for probes that cannot reach the admin address (default: none)")
	fs.StringSliceVar(&cfg.DNSResolvers, "dns-resolvers", nil, "name servers (IP or IP:PORT, comma-separated) Envoy asks for the names of ExternalName Services, instead of those in its /etc/resolv.conf (default: those)")
	fs.StringVar(&copyTo, "copy-binary", "", "also copy this rukou binary to this path, so that a container without rukou (Envoy's) can run \"rukou drain\"")
	fs.Var(mode, "xds-mode", "ADS flavour: delta or sotw (state of the world)")
	fs.StringVarP(&out, "output", "o", "-", "output file; - for stdout")
	return cmd
}

// bootstrap writes the bootstrap for cfg to the file out (stdout for "-"),
// and copies this binary to copyTo when it is set.
func bootstrap(stdout io.Writer, cfg envoy.BootstrapConfig, out, copyTo string) error {
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
