package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rukou/rukou/limiter"
)

// limiterXDS is where `rukou limiter` asks rukou for basic
// authentication's users, with `rukou bootstrap`'s names for the flags.
type limiterXDS struct {
	address, serverName, ca, cert, key, nodeID string
}

func limiterXDSFlags(fs *pflag.FlagSet, c *limiterXDS) {
	fs.StringVar(&c.address, "xds-address", "", "HOST:PORT of rukou's xDS server, asked over SDS for basic authentication's users (default: none; such routes answer 500)")
	fs.StringVar(&c.serverName, "xds-server-name", "", "name rukou's xDS certificate must carry, sent as SNI (default: the host of --xds-address)")
	fs.StringVar(&c.ca, "xds-ca", "", "CA file that rukou's xDS certificate must chain to (TLS to --xds-address)")
	fs.StringVar(&c.cert, "xds-cert", "", "client certificate file for mutual TLS to rukou")
	fs.StringVar(&c.key, "xds-key", "", "private key file of --xds-cert")
	fs.StringVar(&c.nodeID, "node-id", "rukou-limiter", "node id the limiter gives rukou's xDS server")
}

// credentials returns the SDS client, started on wg until ctx is done,
// or nil without --xds-address.
func (c limiterXDS) credentials(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) (limiter.Credentials, func(), error) {
	if c.address == "" {
		return nil, func() {}, nil
	}
	creds := insecure.NewCredentials()
	if c.ca != "" || c.cert != "" {
		cfg, err := c.tls()
		if err != nil {
			return nil, nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(c.address, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, fmt.Errorf("--xds-address: %w", err)
	}
	sds := limiter.NewSDS(conn, c.nodeID, log)
	wg.Go(func() { sds.Run(ctx) })
	return sds, func() { conn.Close() }, nil
}

// tls is the client's TLS: rukou's certificate checked against --xds-ca
// for the host of --xds-address, and the client certificate when given.
func (c limiterXDS) tls() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if host, _, err := net.SplitHostPort(c.address); err == nil {
		cfg.ServerName = host
	}
	if c.serverName != "" {
		cfg.ServerName = c.serverName
	}
	if c.ca != "" {
		pem, err := os.ReadFile(c.ca)
		if err != nil {
			return nil, fmt.Errorf("--xds-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--xds-ca %s holds no certificate", c.ca)
		}
	}
	if c.cert != "" || c.key != "" {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			return nil, fmt.Errorf("--xds-cert/--xds-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
