package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestServeRefusesHalfATLSConfiguration(t *testing.T) {
	for _, args := range [][]string{
		{"--xds-tls-cert", "cert.pem"},
		{"--xds-tls-key", "key.pem"},
		{"--xds-tls-ca", "ca.pem"},
		{"--xds-tls-ca", "ca.pem", "--xds-tls-cert", "cert.pem"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), append([]string{"serve", "--watch-dir", t.TempDir(), "--xds-address", "127.0.0.1:0", "--ops-address", "127.0.0.1:0"}, args...), &bytes.Buffer{}, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), "--xds-tls-cert and --xds-tls-key go together") {
				t.Errorf("exit %d, stderr %q; want 1 and a message naming both flags", code, stderr.String())
			}
		})
	}
}
