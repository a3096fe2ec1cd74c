package xds

import (
	"context"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// callbacks receive go-control-plane's stream events: they keep the node
// book, count pushes, ACKs and NACKs, and wake make-before-break when an
// Envoy has moved on. go-control-plane calls them synchronously from the
// stream goroutines, so they never block on the snapshot lock.
type callbacks struct{ s *Server }

func (c callbacks) OnStreamOpen(_ context.Context, id int64, _ string) error {
	c.opened(streamKey{id: id})
	return nil
}

func (c callbacks) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	c.opened(streamKey{delta: true, id: id})
	return nil
}

func (c callbacks) opened(key streamKey) {
	c.s.book.open(key, time.Now())
	c.s.log.Debug("xDS stream opened", "stream", key.id, "mode", key.mode())
}

func (c callbacks) OnStreamClosed(id int64, node *envoy_config_core_v3.Node) {
	c.closed(streamKey{id: id}, node)
}

func (c callbacks) OnDeltaStreamClosed(id int64, node *envoy_config_core_v3.Node) {
	c.closed(streamKey{delta: true, id: id}, node)
}

func (c callbacks) closed(key streamKey, node *envoy_config_core_v3.Node) {
	c.s.book.close(key)
	c.s.log.Debug("xDS stream closed", "stream", key.id, "mode", key.mode(), "node", node.GetId())
	// The Envoy that left may have been the one make-before-break waited for.
	c.s.wake()
}

func (c callbacks) OnStreamRequest(id int64, req *envoy_service_discovery_v3.DiscoveryRequest) error {
	key := streamKey{id: id}
	k, ok := kindOf(req.GetTypeUrl())
	if !ok {
		return nil
	}
	a := c.s.book.request(key, req.GetNode().GetId(), k, req.GetVersionInfo(), req.GetResponseNonce(), nackMessage(req.GetErrorDetail()), time.Now())
	// A NACK is recorded here (and, for listeners, marks them to go again
	// with the next change): nackCache keeps the cache from answering it
	// with the configuration just rejected.
	switch {
	case a.nack != nil:
		c.nack(key, a, req.GetVersionInfo())
	case a.ack:
		c.s.wake()
	}
	return nil
}

func (c callbacks) OnStreamDeltaRequest(id int64, req *envoy_service_discovery_v3.DeltaDiscoveryRequest) error {
	key := streamKey{delta: true, id: id}
	k, ok := kindOf(req.GetTypeUrl())
	if !ok {
		return nil
	}
	// Delta needs nothing more on a NACK (see nackCache).
	a := c.s.book.request(key, req.GetNode().GetId(), k, "", req.GetResponseNonce(), nackMessage(req.GetErrorDetail()), time.Now())
	switch {
	case a.nack != nil:
		c.nack(key, a, "")
	case a.ack:
		c.s.wake()
	}
	return nil
}

// nackMessage is Envoy's error_detail message; empty when there is no
// error_detail, which makes the request an ACK.
func nackMessage(detail *statuspb.Status) string {
	if detail == nil {
		return ""
	}
	if detail.GetMessage() == "" {
		return "(Envoy gave no message)"
	}
	return detail.GetMessage()
}

func (c callbacks) nack(key streamKey, a answer, holds string) {
	c.s.metrics.nacks.WithLabelValues(a.nack.Type).Inc()
	if a.nack.Type == listeners.String() {
		c.s.cache.listenersRejected.Store(true)
	}
	attrs := []any{"node", a.node, "stream", key.id, "mode", key.mode(), "type", a.nack.Type,
		"rejected_version", a.nack.Version, "nonce", a.nack.Nonce, "error", a.nack.Message}
	if holds != "" {
		attrs = append(attrs, "envoy_keeps_version", holds)
	}
	c.s.log.Error("Envoy rejected configuration (NACK); it keeps its last accepted configuration, and rukou sends this type again only once it changes (listeners: with the next change)", attrs...)
}

func (c callbacks) OnStreamResponse(_ context.Context, id int64, _ *envoy_service_discovery_v3.DiscoveryRequest, resp *envoy_service_discovery_v3.DiscoveryResponse) {
	k, ok := kindOf(resp.GetTypeUrl())
	if !ok {
		return
	}
	c.s.book.response(streamKey{id: id}, k, resp.GetNonce(), resp.GetVersionInfo(), nil)
	c.s.metrics.pushed(k, "sotw", len(resp.GetResources()), proto.Size(resp))
}

func (c callbacks) OnStreamDeltaResponse(id int64, _ *envoy_service_discovery_v3.DeltaDiscoveryRequest, resp *envoy_service_discovery_v3.DeltaDiscoveryResponse) {
	k, ok := kindOf(resp.GetTypeUrl())
	if !ok {
		return
	}
	var names []string
	if k == endpoints {
		names = make([]string, len(resp.GetResources()))
		for i, r := range resp.GetResources() {
			names[i] = r.GetName()
		}
	}
	c.s.book.response(streamKey{delta: true, id: id}, k, resp.GetNonce(), resp.GetSystemVersionInfo(), names)
	c.s.metrics.pushed(k, "delta", len(resp.GetResources())+len(resp.GetRemovedResources()), proto.Size(resp))
}

// rukou serves only ADS streams; the REST fetch endpoints are not exposed.
func (callbacks) OnFetchRequest(context.Context, *envoy_service_discovery_v3.DiscoveryRequest) error {
	return nil
}

func (callbacks) OnFetchResponse(*envoy_service_discovery_v3.DiscoveryRequest, *envoy_service_discovery_v3.DiscoveryResponse) {
}
