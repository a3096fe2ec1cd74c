// Package xds serves rukou's Envoy resources over gRPC ADS, delta and
// state-of-the-world, with go-control-plane's snapshot cache. It versions
// resources by content, orders changes make-before-break (cache.go), keeps
// per-node books of what each Envoy acknowledged or rejected (nodes.go,
// callbacks.go), does not send a rejected configuration again (nack.go),
// answers Envoys that accepted only some listeners with the routes and
// secrets they ask for (named.go) and counts what it sends (metrics.go).
//
// It may import go-control-plane, gRPC, Prometheus and the Envoy backend's
// Resources (translator/envoy); never the Kubernetes API nor a frontend.
package xds

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	envoy_service_secret_v3 "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	serverconfig "github.com/envoyproxy/go-control-plane/pkg/server/config"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/rukou/rukou/translator/envoy"
)

// DefaultHold bounds each make-before-break wait: how long new routes wait
// for Envoys to warm their clusters, and how long a cluster that routes no
// longer use stays for Envoys that have not acknowledged those routes.
// It matches Envoy's default initial_fetch_timeout.
const DefaultHold = 15 * time.Second

// Options tune a Server.
type Options struct {
	// Hold bounds each make-before-break wait; DefaultHold when zero.
	Hold time.Duration
	// Services are served beside ADS on the same gRPC server, such as
	// the connection limiter.
	Services []Service
}

// Service is a gRPC service served beside ADS.
type Service interface {
	Register(grpc.ServiceRegistrar)
}

// Server holds the configuration Envoys should have and serves it to them.
type Server struct {
	log      *slog.Logger
	services []Service
	book     *book
	metrics  *metrics
	cache    *cache
	// wakeup asks the settle loop to look whether a make-before-break
	// step can be taken.
	wakeup chan struct{}
}

// New returns a server with no configuration yet; Envoys that connect before
// the first Update wait for it.
func New(log *slog.Logger, opts Options) *Server {
	if opts.Hold == 0 {
		opts.Hold = DefaultHold
	}
	s := &Server{log: log, services: opts.Services, book: newBook(), metrics: newMetrics(), wakeup: make(chan struct{}, 1)}
	s.cache = newCache(s.book, s.metrics, log, opts.Hold)
	return s
}

// Ready reports whether a full configuration, routes included, has been
// handed to Envoys.
func (s *Server) Ready() bool { return s.cache.ready.Load() }

// Status returns what /debug/xds shows.
func (s *Server) Status() Status { return s.cache.status() }

// Update makes res the configuration Envoys should have. What does not
// depend on Envoys is served at once; steps that wait for Envoys to
// acknowledge (make-before-break) follow as they do.
func (s *Server) Update(ctx context.Context, res *envoy.Resources) error {
	return s.cache.update(ctx, res)
}

func (s *Server) wake() {
	select {
	case s.wakeup <- struct{}{}:
	default:
	}
}

// settle takes make-before-break steps when Envoys acknowledge, and when a
// wait runs out of time, until ctx is done.
func (s *Server) settle(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wakeup:
		case <-tick.C:
		}
		if err := s.cache.settle(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("make-before-break step not served", "error", err)
		}
	}
}

// Serve serves ADS on lis until ctx is done. opts add to rukou's gRPC
// settings, for example TLS credentials.
func (s *Server) Serve(ctx context.Context, lis net.Listener, opts ...grpc.ServerOption) error {
	opts = append(KeepaliveOptions(), opts...)
	opts = append([]grpc.ServerOption{
		// Big fleets: Envoy's requests list every resource name it wants
		// (state of the world) or holds (delta, on reconnect), and one
		// state-of-the-world response carries a whole type.
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(1 << 20),
	}, opts...)
	gs := grpc.NewServer(opts...)
	// Envoy asks for routes, secrets and endpoints by name only. A first
	// request that names none (the listener that needed a secret was
	// rejected while the request waited to be sent) is no wildcard
	// subscription: taken as one, the secrets it was "sent" counted as
	// delivered, and a listener that later asked for them by name never got
	// them and stayed warming.
	xs := serverv3.NewServer(ctx, s.cache.snapshots, callbacks{s}, serverconfig.DeactivateLegacyWildcardForTypes(namedTypes))
	envoy_service_discovery_v3.RegisterAggregatedDiscoveryServiceServer(gs, xs)
	// rukou limiter asks for basic authentication's users over SDS.
	envoy_service_secret_v3.RegisterSecretDiscoveryServiceServer(gs, xs)
	for _, svc := range s.services {
		svc.Register(gs)
	}

	go s.settle(ctx)
	go func() {
		<-ctx.Done()
		// Stop, not GracefulStop: ADS streams never end on their own, so a
		// graceful stop would wait forever.
		gs.Stop()
	}()
	if err := gs.Serve(lis); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serving xDS on %s: %w", lis.Addr(), err)
	}
	return nil
}

// KeepaliveOptions are the keepalive settings of every gRPC server Envoy
// talks to: Envoy pings every 30 s (see the bootstrap), and grpc-go's
// default enforcement would answer those pings with too_many_pings and
// close the connection, streams and all.
func KeepaliveOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	}
}

type fleetHash struct{}

func (fleetHash) ID(*envoy_config_core_v3.Node) string { return fleet }

// cacheLogger adapts slog to go-control-plane's logger. The cache's chatter
// is debug-level, and formatted only when debug is on: at 10,000 clusters
// one line lists every resource name.
type cacheLogger struct{ l *slog.Logger }

func (c cacheLogger) logf(level slog.Level, f string, a []any) {
	if c.l.Enabled(context.Background(), level) {
		c.l.Log(context.Background(), level, fmt.Sprintf(f, a...))
	}
}

func (c cacheLogger) Debugf(f string, a ...any) { c.logf(slog.LevelDebug, f, a) }
func (c cacheLogger) Infof(f string, a ...any)  { c.logf(slog.LevelDebug, f, a) }
func (c cacheLogger) Errorf(f string, a ...any) { c.logf(slog.LevelError, f, a) }

// Warnf is debug-level for "ADS mode: not responding": state-of-the-world
// Envoys ask for the endpoints of new clusters only once they have the
// clusters, so the cache holds an endpoints answer back on every change that
// adds a cluster, as designed.
func (c cacheLogger) Warnf(f string, a ...any) {
	if strings.HasPrefix(f, "ADS mode: not responding") {
		c.logf(slog.LevelDebug, f, a)
		return
	}
	c.logf(slog.LevelWarn, f, a)
}
