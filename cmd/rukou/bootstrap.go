package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rukou/rukou/envoy"
)

func runBootstrap(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bootstrap", stderr)
	var cfg envoy.BootstrapConfig
	var mode, out string
	fs.StringVar(&cfg.XDSAddress, "xds-address", defaultBootstrapXDS, "rukou's xDS address, HOST:PORT (HOST may be a DNS name)")
	fs.StringVar(&cfg.AdminAddress, "admin-address", defaultAdminAddress, "address of Envoy's admin API")
	fs.StringVar(&cfg.NodeID, "node-id", defaultNodeID, "Envoy node id, as shown on rukou's /debug pages")
	fs.StringVar(&cfg.XDSCA, "xds-ca", "", "CA file that signs rukou's xDS certificate (enables TLS to rukou)")
	fs.StringVar(&cfg.XDSCert, "xds-cert", "", "client certificate file for mutual TLS to rukou")
	fs.StringVar(&cfg.XDSKey, "xds-key", "", "client key file for mutual TLS to rukou")
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
	if out == "-" {
		_, err = stdout.Write(y)
		return err
	}
	return os.WriteFile(out, y, 0o644)
}
