package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
	"github.com/rukou/rukou/xds"
)

// ops serves /healthz, /readyz and /metrics on --ops-address, and the
// /debug/ pages and pprof on --debug-address.
type ops struct {
	state *state
	xds   *xds.Server
	store *watcher.Store
	// opts are the translation options, to tell rukou's Ingresses.
	opts     translator.Options
	registry *prometheus.Registry
	rebuilds *prometheus.HistogramVec
}

func newOps(st *state, xs *xds.Server, store *watcher.Store, opts translator.Options) *ops {
	o := &ops{state: st, xds: xs, store: store, opts: opts, registry: prometheus.NewRegistry()}
	o.rebuilds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rukou_rebuild_duration_seconds",
		Help:    "Time to translate the watched objects into Envoy resources and hand them to the xDS server, by result.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"result"})
	for _, result := range []string{"ok", "error"} {
		o.rebuilds.WithLabelValues(result) // at 0 before the first rebuild
	}
	o.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		o.rebuilds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rukou_build_info", Help: "Always 1; the version label says which rukou runs.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
		&objectsCollector{store: store, desc: prometheus.NewDesc("rukou_objects", "Watched objects by kind.", []string{"kind"}, nil)},
		&diagnosticsCollector{state: st, desc: prometheus.NewDesc("rukou_diagnostics", "Current diagnostics by reason.", []string{"reason"}, nil)},
	)
	o.registry.MustRegister(xs.Collectors()...)
	return o
}

func (o *ops) observeRebuild(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	o.rebuilds.WithLabelValues(result).Observe(d.Seconds())
}

// handler serves what the kubelet and Prometheus read: health, readiness
// and metrics. It is reachable from the cluster network.
func (o *ops) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.xds.Ready() {
			http.Error(w, "no configuration built yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{}))
	return mux
}

// debugHandler serves the /debug/ pages and Go's profiler. They show the
// whole configuration (hosts, Secrets' names, backends) and profiles, so
// they listen on loopback unless --debug-address opens them.
func (o *ops) debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/config", o.debugConfig)
	mux.HandleFunc("GET /debug/xds", o.debugXDS)
	mux.HandleFunc("GET /debug/ingresses", o.debugIngresses)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// debugConfig shows the served Envoy resources, the diagnostics and the
// manifest files that could not be read.
func (o *ops) debugConfig(w http.ResponseWriter, _ *http.Request) {
	res := o.state.result()
	if res == nil {
		http.Error(w, "no configuration built yet", http.StatusServiceUnavailable)
		return
	}
	dump, err := translator.NewDump(res.Resources, res.Diagnostics)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b, err := dump.JSON()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if o.state.sourceErrors != nil {
		if errs := o.state.sourceErrors(); len(errs) > 0 {
			var withErrs map[string]any
			_ = json.Unmarshal(b, &withErrs)
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			withErrs["manifestErrors"] = msgs
			b, _ = json.MarshalIndent(withErrs, "", "  ")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// debugIngresses lists every Ingress rukou sees: whether it is rukou's, its
// hosts, whether it is served as written, and the diagnostics if not. The
// Ingresses are read from the store at each request, with the diagnostics
// of the last rebuild: a change to another controller's Ingress starts no
// rebuild, and would otherwise be missing from the page.
func (o *ops) debugIngresses(w http.ResponseWriter, _ *http.Request) {
	res := o.state.result()
	if res == nil {
		http.Error(w, "no configuration built yet", http.StatusServiceUnavailable)
		return
	}
	statuses := translator.IngressStatuses(o.store.Input("Ingress", "IngressClass"), o.opts, res.Diagnostics)
	b, err := json.MarshalIndent(statuses, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// debugXDS shows the snapshot served, what make-before-break holds back,
// and each connected Envoy with the versions it acknowledged and its last
// NACK.
func (o *ops) debugXDS(w http.ResponseWriter, _ *http.Request) {
	b, err := json.MarshalIndent(o.xds.Status(), "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// serveHTTP serves h on lis until ctx is done.
func serveHTTP(ctx context.Context, lis net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type objectsCollector struct {
	store *watcher.Store
	desc  *prometheus.Desc
}

func (c *objectsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *objectsCollector) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range c.store.Counts() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), kind)
	}
}

type diagnosticsCollector struct {
	state *state
	desc  *prometheus.Desc
}

func (c *diagnosticsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *diagnosticsCollector) Collect(ch chan<- prometheus.Metric) {
	// Every reason is reported, at 0 when absent, so that alerts see the
	// series before the first diagnostic of its kind.
	counts := map[translator.Reason]int{}
	for _, r := range translator.Reasons() {
		counts[r] = 0
	}
	if res := c.state.result(); res != nil {
		for _, d := range res.Diagnostics {
			counts[d.Reason]++
		}
	}
	for reason, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(reason))
	}
}
