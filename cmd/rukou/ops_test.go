package main

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/rukou/rukou/limiter"
	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
	"github.com/rukou/rukou/xds"
)

// TestLabelledMetricsStartAtZero: before any event, every labelled series
// that dashboards and alerts use is already there, at 0.
func TestLabelledMetricsStartAtZero(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	lim := limiter.New(log)
	o := newOps(&state{log: log}, xds.New(log, xds.Options{Services: []xds.Service{lim}}), watcher.NewStore(), translator.DefaultOptions())
	o.registry.MustRegister(lim.Collectors()...)
	families, err := o.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// series[name] lists the value of each series' one label, or
	// "label=value,label=value" for several.
	series := map[string][]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels string
			for i, l := range m.GetLabel() {
				if i > 0 {
					labels += ","
				}
				labels += l.GetValue()
			}
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			if v != 0 && f.GetName() != "rukou_build_info" {
				continue
			}
			series[f.GetName()] = append(series[f.GetName()], labels)
		}
	}
	kinds := []string{"listeners", "routes", "clusters", "endpoints", "secrets"}
	var kindModes []string
	for _, k := range kinds {
		kindModes = append(kindModes, "delta,"+k, "sotw,"+k) // labels in name order: mode, type
	}
	var reasons []string
	for _, r := range translator.Reasons() {
		reasons = append(reasons, string(r))
	}
	for name, want := range map[string][]string{
		"rukou_xds_nacks_total":                  kinds,
		"rukou_xds_pushes_total":                 kindModes,
		"rukou_xds_push_resources_total":         kindModes,
		"rukou_xds_push_bytes_total":             kindModes,
		"rukou_xds_hold_timeouts_total":          {"routes", "clusters"},
		"rukou_diagnostics":                      reasons,
		"rukou_rebuild_duration_seconds":         {"ok", "error"},
		"rukou_limit_connections_requests_total": {"counted", "rejected", "exempt", "unknown"},
	} {
		got := series[name]
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s{%s} is not at 0 before any event (series at 0: %q)", name, w, got)
			}
		}
	}
}
