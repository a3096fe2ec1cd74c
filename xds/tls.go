package xds

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// TLS returns the gRPC option that serves xDS over TLS with the certificate
// and key in certFile and keyFile. With caFile, Envoys must present a client
// certificate signed by that CA (mutual TLS). The files are read again on
// every handshake, so a renewed certificate is picked up without a restart;
// while they cannot be read, the last good ones serve.
func TLS(certFile, keyFile, caFile string) (grpc.ServerOption, error) {
	load := func() (*tls.Config, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("xDS TLS certificate %s and key %s: %w", certFile, keyFile, err)
		}
		// h2 by ALPN, as gRPC's own credentials would set it.
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return nil, fmt.Errorf("xDS TLS client CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("xDS TLS client CA %s: no PEM certificate in it", caFile)
			}
			cfg.ClientCAs = pool
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		return cfg, nil
	}
	first, err := load()
	if err != nil {
		return nil, err
	}
	var last atomic.Pointer[tls.Config]
	last.Store(first)
	base := first.Clone()
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		if cfg, err := load(); err == nil {
			last.Store(cfg)
		}
		return last.Load(), nil
	}
	return grpc.Creds(credentials.NewTLS(base)), nil
}
