package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/rukou/rukou/limiter"
	"github.com/rukou/rukou/xds"
)

// defaultLimiterAddress is where `rukou limiter` listens beside Envoy: on
// loopback only, since only the Envoy of its own pod asks it.
const defaultLimiterAddress = "127.0.0.1:9903"

// runLimiter serves the limit-connections limiter on its own, for one Envoy
// (a container in Envoy's pod, named by `rukou bootstrap --limiter-address`),
// so that each Envoy counts its own clients exactly, as each nginx does.
func runLimiter(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlagSet("limiter", stderr)
	var address, opsAddress, logLevel string
	fs.StringVar(&address, "address", defaultLimiterAddress, "address of the limiter's gRPC service (plain text: keep it on loopback)")
	fs.StringVar(&opsAddress, "ops-address", "", "address of /healthz and /metrics (default: none)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log, err := newLogger(stderr, logLevel, "text")
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	lim := limiter.New(log)
	gs := grpc.NewServer(xds.KeepaliveOptions()...)
	lim.Register(gs)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 2)
	if opsAddress != "" {
		opsLis, err := net.Listen("tcp", opsAddress)
		if err != nil {
			lis.Close()
			return fmt.Errorf("ops address: %w", err)
		}
		registry := prometheus.NewRegistry()
		registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		registry.MustRegister(lim.Collectors()...)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
		wg.Go(func() { errs <- serveHTTP(ctx, opsLis, mux) })
	}
	wg.Go(func() {
		<-ctx.Done()
		// Stop, not GracefulStop: each stream lasts as long as a request;
		// Envoy lets requests through when the limiter is gone.
		gs.Stop()
	})
	wg.Go(func() { errs <- gs.Serve(lis) })
	log.Info("limiter serving", "address", lis.Addr().String())
	select {
	case <-ctx.Done():
		return nil
	case err := <-errs:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}
