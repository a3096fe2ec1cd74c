package xds

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the xDS server's Prometheus metrics; docs/metrics.md
// describes each.
type metrics struct {
	pushes         *prometheus.CounterVec
	pushResources  *prometheus.CounterVec
	pushBytes      *prometheus.CounterVec
	nacks          *prometheus.CounterVec
	holdTimeouts   *prometheus.CounterVec
	snapshotSecond prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_xds_pushes_total",
			Help: "xDS responses sent to Envoys, by resource type and ADS flavour (delta or sotw).",
		}, []string{"type", "mode"}),
		pushResources: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_xds_push_resources_total",
			Help: "Resources carried by xDS responses (delta: changed plus removed), by resource type and ADS flavour.",
		}, []string{"type", "mode"}),
		pushBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_xds_push_bytes_total",
			Help: "Encoded size of the xDS responses sent, by resource type and ADS flavour.",
		}, []string{"type", "mode"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_xds_nacks_total",
			Help: "Configurations Envoys rejected (NACK), by resource type.",
		}, []string{"type"}),
		holdTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_xds_hold_timeouts_total",
			Help: "Make-before-break steps taken because some Envoy had not acknowledged in time, by step (routes: new routes sent before every Envoy had warmed their clusters; clusters: clusters removed before every Envoy had acknowledged routes without them).",
		}, []string{"step"}),
		snapshotSecond: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rukou_xds_snapshot_duration_seconds",
			Help:    "Time to version a new configuration and hand it to the xDS cache.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
	}
	m.zero()
	return m
}

// zero creates every labelled series at 0, so that dashboards and alerts
// (rate of NACKs, say) see them before their first event.
func (m *metrics) zero() {
	for k := range numKinds {
		for _, mode := range []string{"delta", "sotw"} {
			m.pushes.WithLabelValues(k.String(), mode)
			m.pushResources.WithLabelValues(k.String(), mode)
			m.pushBytes.WithLabelValues(k.String(), mode)
		}
		m.nacks.WithLabelValues(k.String())
	}
	for _, step := range []string{"routes", "clusters"} {
		m.holdTimeouts.WithLabelValues(step)
	}
}

func (m *metrics) pushed(k kind, mode string, resources, bytes int) {
	m.pushes.WithLabelValues(k.String(), mode).Inc()
	m.pushResources.WithLabelValues(k.String(), mode).Add(float64(resources))
	m.pushBytes.WithLabelValues(k.String(), mode).Add(float64(bytes))
}

// Collectors returns the server's metrics, for a Prometheus registry: the
// counters above and gauges read from the server when scraped.
func (s *Server) Collectors() []prometheus.Collector {
	m := s.metrics
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	return []prometheus.Collector{
		m.pushes, m.pushResources, m.pushBytes, m.nacks, m.holdTimeouts, m.snapshotSecond,
		gauge("rukou_xds_streams", "Open ADS streams from Envoys.", func() float64 {
			n, _ := s.book.counts()
			return float64(n)
		}),
		gauge("rukou_xds_nodes", "Connected Envoy nodes (distinct node ids with an open stream).", func() float64 {
			_, n := s.book.counts()
			return float64(n)
		}),
		gauge("rukou_xds_snapshot_generation", "Generation of the snapshot served now; it grows by one with every snapshot set.", func() float64 {
			return float64(s.cache.gen.Load())
		}),
		&resourcesCollector{s: s, desc: prometheus.NewDesc("rukou_xds_resources", "Resources in the snapshot served now, by type.", []string{"type"}, nil)},
		gauge("rukou_xds_retained_clusters", "Clusters no longer used by the latest routes, kept until every Envoy has acknowledged routes without them (make-before-break).", func() float64 {
			return float64(s.cache.held().retained)
		}),
		gauge("rukou_xds_warming_clusters", "New clusters the latest routes use, waiting for every Envoy to warm them before those routes are sent (make-before-break).", func() float64 {
			return float64(s.cache.held().warming)
		}),
	}
}

type resourcesCollector struct {
	s    *Server
	desc *prometheus.Desc
}

func (c *resourcesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *resourcesCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.s.cache.resourceCounts()
	for k := range numKinds {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[k]), k.String())
	}
}
