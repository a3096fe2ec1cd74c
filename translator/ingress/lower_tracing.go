package ingress

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// CollectorCluster is the cluster of the OpenTelemetry collector; no
// backend's cluster name lacks a "/", so it cannot clash with one.
const CollectorCluster = "otlp-collector"

// lowerTracing gives every listener the ConfigMap's tracing and adds the
// collector's cluster, keeping the clusters sorted by name. Without a
// collector host nothing is traced.
func lowerTracing(cfg *ir.Config, s *nginx.Settings) {
	t := &s.Tracing
	if t.CollectorHost == "" {
		return
	}
	for _, l := range cfg.Listeners {
		l.Tracing = &ir.Tracing{
			Cluster: CollectorCluster, ServiceName: t.ServiceName,
			SamplePercent: t.SamplePercent, NewTraces: !t.TrustIncomingSpan,
		}
	}
	addServiceCluster(cfg, CollectorCluster, t.CollectorHost, t.CollectorPort, s.ConnectTimeout)
}

// addServiceCluster adds the cluster of a gRPC service the proxy itself
// talks to (a collector, a rate limit service), keeping the clusters
// sorted by name. A host that is not an address is a DNS name.
func addServiceCluster(cfg *ir.Config, name, host string, port uint32, connectTimeout time.Duration) {
	c := &ir.Cluster{
		Name: name, Protocol: ir.HTTP2, ConnectTimeout: ir.Duration(connectTimeout),
		LoadBalancer: ir.RoundRobin, Discovery: ir.DiscoveryDNS,
		Endpoints: []ir.Endpoint{{Address: host, Port: int32(port)}},
	}
	if _, err := netip.ParseAddr(host); err == nil {
		c.Discovery = ir.DiscoveryStatic
	}
	i, _ := slices.BinarySearchFunc(cfg.Clusters, c.Name, func(x *ir.Cluster, name string) int { return strings.Compare(x.Name, name) })
	cfg.Clusters = slices.Insert(cfg.Clusters, i, c)
}

// traceRoute says whether a route's requests are traced, as its Ingress's
// enable-opentelemetry or else the ConfigMap's asks, and names its spans.
func traceRoute(lr *ir.Route, p *nginx.Policy, s *nginx.Settings) {
	if s.Tracing.CollectorHost == "" {
		return // nothing is traced
	}
	on, name := s.Tracing.On, s.Tracing.OperationName
	if p != nil {
		if p.Trace != nil {
			on = *p.Trace
		}
		if p.TraceOperation != "" {
			name = p.TraceOperation
		}
	}
	lr.NoTrace = !on
	if on {
		lr.TraceOperation = name
	}
}
