// Package xds serves rukou's Envoy resources over gRPC ADS, both delta and
// state-of-the-world, with go-control-plane's snapshot cache.
package xds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"

	"github.com/rukou/rukou/translator"
)

// fleet is the one snapshot key every Envoy shares: all Envoys of a rukou
// installation serve the same configuration.
const fleet = "rukou"

type fleetHash struct{}

func (fleetHash) ID(*envoy_config_core_v3.Node) string { return fleet }

// Server holds the current snapshot and serves it to Envoys.
type Server struct {
	cache   cachev3.SnapshotCache
	log     *slog.Logger
	streams atomic.Int64
	ready   atomic.Bool
	version atomic.Uint64
}

// New returns a server with no snapshot yet; Envoys that connect before the
// first Update wait for it.
func New(log *slog.Logger) *Server {
	return &Server{cache: cachev3.NewSnapshotCache(true, fleetHash{}, cacheLogger{log}), log: log}
}

// Ready reports whether a snapshot has been set.
func (s *Server) Ready() bool { return s.ready.Load() }

// Streams reports how many xDS streams are open.
func (s *Server) Streams() int64 { return s.streams.Load() }

// Update replaces the served configuration with res. Each resource type is
// versioned by its content, so state-of-the-world clients get only the types
// that changed, and delta clients only the resources that changed.
func (s *Server) Update(ctx context.Context, res *translator.Resources) error {
	snap := &cachev3.Snapshot{}
	set := func(typ types.ResponseType, items []types.Resource) error {
		v, err := contentVersion(items)
		if err != nil {
			return err
		}
		snap.Resources[typ] = cachev3.NewResources(v, items)
		return nil
	}
	for _, t := range []struct {
		typ   types.ResponseType
		items []types.Resource
	}{
		{types.Listener, asResources(res.Listeners)},
		{types.Route, asResources(res.Routes)},
		{types.Cluster, asResources(res.Clusters)},
		{types.Endpoint, asResources(res.Endpoints)},
		{types.Secret, asResources(res.Secrets)},
	} {
		if err := set(t.typ, t.items); err != nil {
			return err
		}
	}
	if err := snap.Consistent(); err != nil {
		return fmt.Errorf("snapshot is inconsistent: %w", err)
	}
	if err := s.cache.SetSnapshot(ctx, fleet, snap); err != nil {
		return fmt.Errorf("setting snapshot: %w", err)
	}
	s.version.Add(1)
	s.ready.Store(true)
	return nil
}

func asResources[T types.Resource](items []T) []types.Resource {
	out := make([]types.Resource, len(items))
	for i, item := range items {
		out[i] = item
	}
	return out
}

// contentVersion hashes the deterministic encoding of items.
func contentVersion(items []types.Resource) (string, error) {
	h := sha256.New()
	opts := proto.MarshalOptions{Deterministic: true}
	for _, item := range items {
		b, err := opts.Marshal(item)
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", cachev3.GetResourceName(item), err)
		}
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Serve serves ADS on lis until ctx is done.
func (s *Server) Serve(ctx context.Context, lis net.Listener, opts ...grpc.ServerOption) error {
	opts = append([]grpc.ServerOption{
		// Envoy pings every 30 s (see the bootstrap); grpc-go's default
		// enforcement would answer those pings with too_many_pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// Large snapshots: Envoy may send big requests (resource name lists)
		// and receives whole types in state-of-the-world mode.
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.MaxConcurrentStreams(1 << 20),
	}, opts...)
	gs := grpc.NewServer(opts...)
	xs := serverv3.NewServer(ctx, s.cache, s.callbacks())
	envoy_service_discovery_v3.RegisterAggregatedDiscoveryServiceServer(gs, xs)

	go func() {
		<-ctx.Done()
		// Stop, not GracefulStop: ADS streams never end on their own, so a
		// graceful stop would wait forever.
		gs.Stop()
	}()
	if err := gs.Serve(lis); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serving xDS: %w", err)
	}
	return nil
}

func (s *Server) callbacks() serverv3.Callbacks {
	nack := func(node *envoy_config_core_v3.Node, typeURL, version string, detail string) {
		s.log.Error("Envoy rejected configuration (NACK)", "node", node.GetId(), "type", typeURL, "version", version, "error", detail)
	}
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, typ string) error {
			s.streams.Add(1)
			s.log.Debug("xDS stream opened", "stream", id, "mode", "sotw")
			return nil
		},
		StreamClosedFunc: func(id int64, node *envoy_config_core_v3.Node) {
			s.streams.Add(-1)
			s.log.Debug("xDS stream closed", "stream", id, "node", node.GetId())
		},
		DeltaStreamOpenFunc: func(_ context.Context, id int64, typ string) error {
			s.streams.Add(1)
			s.log.Debug("xDS stream opened", "stream", id, "mode", "delta")
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, node *envoy_config_core_v3.Node) {
			s.streams.Add(-1)
			s.log.Debug("xDS stream closed", "stream", id, "node", node.GetId())
		},
		StreamRequestFunc: func(_ int64, req *envoy_service_discovery_v3.DiscoveryRequest) error {
			if req.ErrorDetail != nil {
				nack(req.Node, req.TypeUrl, req.VersionInfo, req.ErrorDetail.Message)
			}
			return nil
		},
		StreamDeltaRequestFunc: func(_ int64, req *envoy_service_discovery_v3.DeltaDiscoveryRequest) error {
			if req.ErrorDetail != nil {
				nack(req.Node, req.TypeUrl, req.ResponseNonce, req.ErrorDetail.Message)
			}
			return nil
		},
	}
}

// cacheLogger adapts slog to go-control-plane's logger; the cache's chatter
// is debug-level.
type cacheLogger struct{ l *slog.Logger }

func (c cacheLogger) Debugf(f string, a ...any) { c.l.Debug(fmt.Sprintf(f, a...)) }
func (c cacheLogger) Infof(f string, a ...any)  { c.l.Debug(fmt.Sprintf(f, a...)) }
func (c cacheLogger) Warnf(f string, a ...any)  { c.l.Warn(fmt.Sprintf(f, a...)) }
func (c cacheLogger) Errorf(f string, a ...any) { c.l.Error(fmt.Sprintf(f, a...)) }
