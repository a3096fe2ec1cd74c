package limiter

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	envoy_service_secret_v3 "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"google.golang.org/grpc"
)

// secretType is the xDS type URL of secrets.
const secretType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

// sdsWait bounds how long a check waits for rukou's first answer about
// credentials it has not asked for before: past it the check answers 500.
const sdsWait = 5 * time.Second

// SDS finds credentials by asking rukou's xDS server over SDS, as Envoy
// asks for certificates: one state-of-the-world stream whose subscription
// grows with the names the checks need, kept open so that changes arrive
// as rukou serves them. Used by `rukou limiter`, beside Envoy.
type SDS struct {
	conn *grpc.ClientConn
	node string
	log  *slog.Logger

	mu    sync.Mutex
	names map[string]bool
	have  map[string][]byte
	// answered is closed, and replaced, on each answer of rukou's.
	answered chan struct{}
	kick     chan struct{}
}

// NewSDS returns an SDS client on conn that names itself node; Run keeps
// its stream.
func NewSDS(conn *grpc.ClientConn, node string, log *slog.Logger) *SDS {
	return &SDS{conn: conn, node: node, log: log, names: map[string]bool{}, have: map[string][]byte{},
		answered: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Credentials returns the generic secret name, asking rukou for it the
// first time and waiting at most sdsWait for it to arrive.
func (s *SDS) Credentials(ctx context.Context, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, sdsWait)
	defer cancel()
	for {
		s.mu.Lock()
		b, ok := s.have[name]
		asked := s.names[name]
		wait := s.answered
		if !asked {
			s.names[name] = true
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
		s.mu.Unlock()
		if ok {
			return b, nil
		}
		// An answer without it may be one to a request sent before the
		// name was added: wait for the next, within the bound.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no answer from rukou about %q: %w", name, ctx.Err())
		case <-wait:
		}
	}
}

// Run keeps the stream open until ctx is done, opening it again a second
// after it fails.
func (s *SDS) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.stream(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("SDS stream to rukou failed; opening it again", "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// stream subscribes to the names asked so far, and again each time one is
// added, and keeps what rukou answers.
func (s *SDS) stream(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := envoy_service_secret_v3.NewSecretDiscoveryServiceClient(s.conn).StreamSecrets(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var version, nonce string
	send := func() error {
		s.mu.Lock()
		names := slices.Sorted(maps.Keys(s.names))
		s.mu.Unlock()
		mu.Lock()
		defer mu.Unlock()
		return st.Send(&envoy_service_discovery_v3.DiscoveryRequest{
			Node: &envoy_config_core_v3.Node{Id: s.node}, TypeUrl: secretType, ResourceNames: names,
			VersionInfo: version, ResponseNonce: nonce,
		})
	}
	errs := make(chan error, 1)
	go func() {
		for {
			resp, err := st.Recv()
			if err != nil {
				errs <- err
				return
			}
			s.keep(resp)
			mu.Lock()
			version, nonce = resp.GetVersionInfo(), resp.GetNonce()
			mu.Unlock()
			if err := send(); err != nil { // the ACK
				errs <- err
				return
			}
		}
	}()
	s.mu.Lock()
	n := len(s.names)
	s.mu.Unlock()
	if n > 0 {
		if err := send(); err != nil {
			return err
		}
	}
	for {
		select {
		case err := <-errs:
			return err
		case <-s.kick:
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// keep replaces the secrets held with an answer's: a state-of-the-world
// answer holds every secret asked for that rukou serves.
func (s *SDS) keep(resp *envoy_service_discovery_v3.DiscoveryResponse) {
	have := map[string][]byte{}
	for _, a := range resp.GetResources() {
		sec := &envoy_extensions_transport_sockets_tls_v3.Secret{}
		if err := a.UnmarshalTo(sec); err != nil {
			s.log.Warn("SDS answer holds what is not a secret", "error", err)
			continue
		}
		have[sec.GetName()] = sec.GetGenericSecret().GetSecret().GetInlineBytes()
	}
	s.mu.Lock()
	s.have = have
	close(s.answered)
	s.answered = make(chan struct{})
	s.mu.Unlock()
}
