package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/rukou/rukou/envoy"
	"github.com/rukou/rukou/test/harness"
	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/xds"
)

// These benchmarks run real Envoys against 10,000 Ingresses; they run only
// with -bench (make bench), never in make test. Each iteration is one
// endpoint change: the probe Service's only endpoint moves from one echo
// backend on 127.0.0.1 to the other, and the iteration ends when a request
// through Envoy reaches the new one.

const probeHost = "probe.bench.example"

var (
	buildOnce sync.Once
	buildErr  error
)

func binaries(b *testing.B) {
	buildOnce.Do(func() { buildErr = harness.BuildBinaries() })
	if buildErr != nil {
		b.Fatal(buildErr)
	}
}

// BenchmarkServe10k runs `rukou serve --watch-dir` on 10,000 Ingresses,
// Services and EndpointSlices (50,000 endpoints) with a real Envoy, and
// reports: the peak RSS of rukou once its first snapshot is built and once
// Envoy has everything; the time to both; Envoy's peak RSS then; the latency from rewriting the
// probe's EndpointSlice file to Envoy routing to the new endpoint (file
// polling, debounce, full rebuild, push and Envoy included); and the bytes
// rukou sent per endpoint change.
func BenchmarkServe10k(b *testing.B) {
	for _, mode := range []string{"delta", "sotw"} {
		b.Run("mode="+mode, func(b *testing.B) {
			binaries(b)
			dir := b.TempDir()
			if err := Standard(10000).WriteManifests(dir); err != nil {
				b.Fatal(err)
			}
			backends := startProbeBackends(b)
			probe := filepath.Join(dir, "probe.yaml")
			harness.WriteManifest(b, probe, ProbeManifest(backends.ports[0]))

			start := time.Now()
			rukou := harness.StartRukou(b, "--watch-dir", dir, "--log-level", "info")
			harness.Eventually(b, 2*time.Minute, "rukou ready", func() error {
				_, err := rukou.Ops("/readyz")
				return err
			})
			// b.Loop clears metrics reported before it; these are reported after.
			readyS, rssReady := time.Since(start).Seconds(), vmHWM(b, rukou.PID())

			start = time.Now()
			proxy := harness.StartEnvoy(b, rukou.XDSAddress, mode)
			waitBackend(b, rukou.HTTPPort, backends.names[0], time.Minute)
			syncS, rssSynced := time.Since(start).Seconds(), vmHWM(b, rukou.PID())
			// Envoy's, with 10,000 clusters of which only the probe's
			// has had a request.
			envoySynced := vmHWM(b, proxy.PID())
			adminMax := mainThreadStall(b, proxy.Admin, 11*time.Second)

			before := scrape(b, rukou)
			var lat []time.Duration
			for b.Loop() {
				next := (len(lat) + 1) % 2
				t0 := time.Now()
				harness.WriteManifest(b, probe, ProbeManifest(backends.ports[next]))
				waitBackend(b, rukou.HTTPPort, backends.names[next], 20*time.Second)
				lat = append(lat, time.Since(t0))
			}
			after := scrape(b, rukou)
			reportLatency(b, lat)
			reportBytes(b, before, after, len(lat))
			b.ReportMetric(readyS, "ready-s")
			b.ReportMetric(rssReady, "peak-rss-ready-MB")
			b.ReportMetric(syncS, "envoy-sync-s")
			b.ReportMetric(rssSynced, "peak-rss-synced-MB")
			b.ReportMetric(envoySynced, "envoy-peak-rss-synced-MB")
			b.ReportMetric(vmHWM(b, rukou.PID()), "peak-rss-end-MB")
			b.ReportMetric(float64(adminMax.Microseconds())/1000, "envoy-admin-max-ms")
		})
	}
}

// BenchmarkServe10kNewIngress runs `rukou serve --watch-dir` on the
// 10,000 Ingresses of BenchmarkServe10k with a real Envoy (delta ADS), and
// each iteration writes a file with a new Ingress, its Service and its
// EndpointSlice (the probe's echo backend), timed until Envoy answers 200
// for the new host: the directory source, the rebuild, both
// make-before-break steps and Envoy's new route table included.
func BenchmarkServe10kNewIngress(b *testing.B) {
	binaries(b)
	dir := b.TempDir()
	if err := Standard(10000).WriteManifests(dir); err != nil {
		b.Fatal(err)
	}
	backends := startProbeBackends(b)
	harness.WriteManifest(b, filepath.Join(dir, "probe.yaml"), ProbeManifest(backends.ports[0]))
	rukou := harness.StartRukou(b, "--watch-dir", dir, "--log-level", "info")
	harness.Eventually(b, 2*time.Minute, "rukou ready", func() error {
		_, err := rukou.Ops("/readyz")
		return err
	})
	harness.StartEnvoy(b, rukou.XDSAddress, "delta")
	waitBackend(b, rukou.HTTPPort, backends.names[0], time.Minute)
	var lat []time.Duration
	for b.Loop() {
		i := len(lat)
		host := fmt.Sprintf("new-%d.bench.example", i)
		t0 := time.Now()
		harness.WriteManifest(b, filepath.Join(dir, fmt.Sprintf("new-%d.yaml", i)), newAppManifest(i, backends.ports[0]))
		for deadline := t0.Add(20 * time.Second); ; time.Sleep(500 * time.Microsecond) {
			if r, err := harness.Get(rukou.HTTPPort, host, "/"); err == nil && r.Status == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s not answered 200 within 20 s", host)
			}
		}
		lat = append(lat, time.Since(t0))
		// Apart, as a user's changes are: each is a rebuild of its own.
		time.Sleep(300 * time.Millisecond)
	}
	reportLatency(b, lat)
}

// newAppManifest is the i-th new application: an Ingress for
// new-i.bench.example, its Service and an EndpointSlice with one endpoint,
// 127.0.0.1:port.
func newAppManifest(i, port int) string {
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: new-%[1]d
  namespace: bench-probe
spec:
  ingressClassName: rukou
  rules:
  - host: new-%[1]d.bench.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: new-%[1]d
            port:
              number: 80
---
apiVersion: v1
kind: Service
metadata:
  name: new-%[1]d
  namespace: bench-probe
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: new-%[1]d-1
  namespace: bench-probe
  labels:
    kubernetes.io/service-name: new-%[1]d
addressType: IPv4
ports:
- name: http
  port: %[2]d
endpoints:
- addresses: ["127.0.0.1"]
`, i, port)
}

// mainThreadStall asks Envoy's admin API for /ready every 5 ms for d and
// returns the slowest answer. The admin API is served by Envoy's main
// thread, which also applies every xDS update: a slow answer is the time
// an endpoint or configuration change would have waited. d is longer than
// Envoy's default stats flush interval (5 s), so a flush that stalls the
// main thread is seen at least once.
func mainThreadStall(b *testing.B, admin *envoy.Admin, d time.Duration) time.Duration {
	b.Helper()
	var slowest time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		t0 := time.Now()
		if !admin.Live(harness.Context(b)) {
			b.Fatalf("envoy admin %s: not LIVE", admin.Address)
		}
		slowest = max(slowest, time.Since(t0))
	}
	return slowest
}

// BenchmarkPush10k isolates the xDS part: an in-process xds.Server with
// 10,000 Ingresses' resources and a real Envoy. step=push hands the server
// resources that differ in one endpoint (versioning, diff, send, Envoy
// applies); step=endpoints recomputes the endpoints first with the
// translator's endpoint-only path (translator.UpdateEndpoints); step=rebuild
// translates every object first, as a full rebuild does. No file polling
// and no debounce.
func BenchmarkPush10k(b *testing.B) {
	for _, c := range []struct{ mode, step string }{{"delta", "push"}, {"sotw", "push"}, {"delta", "endpoints"}, {"delta", "rebuild"}} {
		b.Run("mode="+c.mode+"/step="+c.step, func(b *testing.B) {
			binaries(b)
			backends := startProbeBackends(b)
			dir := b.TempDir()
			harness.WriteManifest(b, filepath.Join(dir, "probe.yaml"), ProbeManifest(backends.ports[0]))
			in, err := Standard(10000).Input(dir)
			if err != nil {
				b.Fatal(err)
			}
			opts := translator.DefaultOptions()
			opts.ListenAddress, opts.HTTPPort = "127.0.0.1", uint32(harness.FreePort(b))
			res, err := translator.Translate(in, opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := xds.New(slog.New(slog.NewTextHandler(io.Discard, nil)), xds.Options{})
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = srv.Serve(ctx, lis) }()
			if err := srv.Update(ctx, res.Resources); err != nil {
				b.Fatal(err)
			}
			harness.StartEnvoy(b, lis.Addr().String(), c.mode)
			waitBackend(b, int(opts.HTTPPort), backends.names[0], time.Minute)

			variants := [2]*translator.Resources{res.Resources, withProbePort(b, res.Resources, backends.ports[1])}
			before := gather(b, srv)
			var lat []time.Duration
			var rukouTime time.Duration // translation (steps endpoints and rebuild) and Update
			for b.Loop() {
				next := (len(lat) + 1) % 2
				t0 := time.Now()
				r := variants[next]
				if c.step != "push" {
					in.EndpointSlices = withProbeSlicePort(b, in.EndpointSlices, backends.ports[next])
					translate := func() (*translator.Result, error) { return translator.Translate(in, opts) }
					if c.step == "endpoints" {
						translate = func() (*translator.Result, error) { return translator.UpdateEndpoints(res, in) }
					}
					out, err := translate()
					if err != nil {
						b.Fatal(err)
					}
					r = out.Resources
				}
				if err := srv.Update(ctx, r); err != nil {
					b.Fatal(err)
				}
				rukouTime += time.Since(t0)
				waitBackend(b, int(opts.HTTPPort), backends.names[next], 20*time.Second)
				lat = append(lat, time.Since(t0))
			}
			reportLatency(b, lat)
			b.ReportMetric(ms(rukouTime)/float64(len(lat)), "rukou-ms/op")
			reportBytes(b, before, gather(b, srv), len(lat))
		})
	}
}

type probeBackends struct {
	ports [2]int
	names [2]string
}

func startProbeBackends(b *testing.B) probeBackends {
	return probeBackends{
		ports: [2]int{harness.StartBackend(b, "probe-a"), harness.StartBackend(b, "probe-b")},
		names: [2]string{"probe-a", "probe-b"},
	}
}

// waitBackend polls GET probe.bench.example/ through Envoy until backend
// answers. It polls every half millisecond: each poll is one request on
// loopback, and the poll interval bounds the latency's resolution.
func waitBackend(b *testing.B, port int, backend string, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		r, err := harness.Get(port, probeHost, "/")
		if err == nil && r.Backend == backend {
			return
		}
		last = fmt.Sprintf("%d from %q (%v)", r.Status, r.Backend, err)
		time.Sleep(500 * time.Microsecond)
	}
	b.Fatalf("%s not answered by %s within %v; last: %s", probeHost, backend, timeout, last)
}

// vmHWM returns the peak resident set size of a process, in MB.
func vmHWM(b *testing.B, pid int) float64 {
	b.Helper()
	return statusKB(b, pid, "VmHWM") / 1024
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	// Nearest rank: the smallest value at or above a fraction q of them.
	at := func(q float64) float64 { return ms(sorted[int(math.Ceil(q*float64(len(sorted))))-1]) }
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.9), "p90-ms")
	b.ReportMetric(ms(sorted[len(sorted)-1]), "max-ms")
}

// pushBytes are rukou_xds_push_bytes_total by type.
type pushBytes map[string]float64

func scrape(b *testing.B, r *harness.Rukou) pushBytes {
	b.Helper()
	m, err := r.Metrics()
	if err != nil {
		b.Fatal(err)
	}
	out := pushBytes{}
	for _, s := range m {
		if s.Name == "rukou_xds_push_bytes_total" {
			out[s.Labels["type"]] += s.Value
		}
	}
	return out
}

func gather(b *testing.B, srv *xds.Server) pushBytes {
	b.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(srv.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	out := pushBytes{}
	for _, mf := range mfs {
		if mf.GetName() != "rukou_xds_push_bytes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// reportBytes reports the bytes sent per change: endpoints, and anything
// else (which should be nothing).
func reportBytes(b *testing.B, before, after pushBytes, changes int) {
	if changes == 0 {
		return
	}
	var other float64
	for typ, v := range after {
		if typ != "endpoints" {
			other += v - before[typ]
		}
	}
	b.ReportMetric((after["endpoints"]-before["endpoints"])/float64(changes), "eds-bytes/change")
	b.ReportMetric(other/float64(changes), "other-bytes/change")
}

// withProbePort returns res with the probe's assignment moved to port.
func withProbePort(b *testing.B, res *translator.Resources, port int) *translator.Resources {
	b.Helper()
	out := *res
	out.Endpoints = slices.Clone(res.Endpoints)
	i := slices.IndexFunc(out.Endpoints, func(c *envoy_config_endpoint_v3.ClusterLoadAssignment) bool {
		return c.ClusterName == "bench-probe/probe/80"
	})
	if i < 0 {
		b.Fatal("no assignment for bench-probe/probe/80")
	}
	cla := proto.Clone(translator.Expanded(out.Endpoints[i])).(*envoy_config_endpoint_v3.ClusterLoadAssignment)
	cla.Endpoints[0].LbEndpoints[0].GetEndpoint().Address.GetSocketAddress().PortSpecifier =
		&envoy_config_core_v3.SocketAddress_PortValue{PortValue: uint32(port)}
	out.Endpoints[i] = cla
	return &out
}

// withProbeSlicePort returns slices with the probe's EndpointSlice moved to
// port; the objects themselves are shared and stay unmodified.
func withProbeSlicePort(b *testing.B, all []*discoveryv1.EndpointSlice, port int) []*discoveryv1.EndpointSlice {
	b.Helper()
	out := slices.Clone(all)
	i := slices.IndexFunc(out, func(es *discoveryv1.EndpointSlice) bool {
		return es.Namespace == "bench-probe" && es.Name == "probe-0"
	})
	if i < 0 {
		b.Fatal("no EndpointSlice bench-probe/probe-0")
	}
	es := out[i].DeepCopy()
	p := int32(port)
	es.Ports[0].Port = &p
	out[i] = es
	return out
}
