package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/translator/ir"
)

// rateLimitFileName is the file rukou serve writes in
// --global-rate-limit-config-dir: envoyproxy/ratelimit reads every file of
// $RUNTIME_ROOT/$RUNTIME_SUBDIRECTORY/config.
const rateLimitFileName = "rukou.yaml"

// hostPort is a flag value that must be HOST:PORT.
type hostPort struct{ p *string }

func (v hostPort) String() string { return *v.p }
func (v hostPort) Type() string   { return "host:port" }

func (v hostPort) Set(s string) error {
	host, port, err := net.SplitHostPort(s)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || host == "" || n == 0 {
		return fmt.Errorf("%q is not HOST:PORT", s)
	}
	*v.p = s
	return nil
}

// rateLimitFile keeps the rate limit service's configuration, in dir, in
// step with the routes: written before Envoy gets routes whose limits it
// holds, so that the service knows a limit before Envoy asks about it.
type rateLimitFile struct {
	dir  string
	last []byte
	// lastFrom are the listeners last written from (or found to need no
	// file): an endpoint change keeps them, and its rebuild then skips
	// going through every route.
	lastFrom []*ir.Listener
	log      *slog.Logger
}

// write writes the configuration of res when it changed. The service
// watches the directory: it must never see half a file, so the file is
// written under a dot name (which the service is told to ignore) and
// renamed.
func (f *rateLimitFile) write(res *translator.Result) error {
	if f == nil || f.dir == "" {
		return nil
	}
	if sameSlice(res.Config.Listeners, f.lastFrom) {
		return nil
	}
	data := translator.RateLimitServiceConfig(res.Config)
	if data == nil || bytes.Equal(data, f.last) {
		f.lastFrom = res.Config.Listeners
		return nil
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return fmt.Errorf("global rate limit configuration: %w", err)
	}
	tmp, err := os.CreateTemp(f.dir, "."+rateLimitFileName+".*")
	if err != nil {
		return fmt.Errorf("global rate limit configuration: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("global rate limit configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("global rate limit configuration: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("global rate limit configuration: %w", err)
	}
	path := filepath.Join(f.dir, rateLimitFileName)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("global rate limit configuration: %w", err)
	}
	f.last, f.lastFrom = data, res.Config.Listeners
	f.log.Info("global rate limit configuration written", "path", path, "bytes", len(data))
	return nil
}
