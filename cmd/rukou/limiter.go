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
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/rukou/rukou/limiter"
	"github.com/rukou/rukou/xds"
)

// newLimiterCmd serves the limit-connections limiter and the external
// authentication service (auth-url) on their own, for one Envoy (a container in Envoy's pod, named by `rukou bootstrap
// --limiter-address`), so that each Envoy counts its own clients exactly, as
// each nginx does.
func newLimiterCmd() *cobra.Command {
	var address, opsAddress, logLevel string
	var xdsCfg limiterXDS
	cmd := &cobra.Command{
		Use:   "limiter",
		Short: "Count each client's requests in flight for limit-connections and ask auth services for auth-url, beside one Envoy",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLimiter(cmd.Context(), cmd.ErrOrStderr(), address, opsAddress, logLevel, xdsCfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&address, "address", defaultLimiterAddress, "address of the limiter's gRPC service (plain text: keep it on loopback)")
	fs.StringVar(&opsAddress, "ops-address", "", "address of /healthz and /metrics (default: none)")
	logLevelFlag(fs, &logLevel)
	limiterXDSFlags(fs, &xdsCfg)
	return cmd
}

// runLimiter serves the limiter on address, and /healthz and /metrics on
// opsAddress when it is set, until ctx is done.
func runLimiter(ctx context.Context, stderr io.Writer, address, opsAddress, logLevel string, xdsCfg limiterXDS) error {
	log, err := newLogger(stderr, logLevel, "text")
	if err != nil {
		return err
	}
	setMemoryLimit(log)
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	creds, closeCreds, err := xdsCfg.credentials(ctx, &wg, log)
	if err != nil {
		lis.Close()
		return err
	}
	defer closeCreds()
	lim, auth := limiter.New(log), limiter.NewAuth(log, creds)
	gs := grpc.NewServer(xds.KeepaliveOptions()...)
	lim.Register(gs)
	auth.Register(gs)
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
		registry.MustRegister(auth.Collectors()...)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
		wg.Go(func() { errs <- serveHTTP(ctx, opsLis, mux) })
	}
	wg.Go(func() {
		<-ctx.Done()
		// Stop, not GracefulStop: each stream lasts as long as a request;
		// Envoy lets requests through when the limiter is gone, apart from
		// those of routes with external authentication (500).
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
