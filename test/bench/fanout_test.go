package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	envoy_config_bootstrap_v3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_extensions_filters_http_router_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rukou/rukou/test/harness"
	"github.com/rukou/rukou/xds"
)

// fanOutEnvoys is how many Envoys BenchmarkFanOut connects to one rukou.
var fanOutEnvoys = flag.Int("fanout-envoys", 50, "number of Envoys BenchmarkFanOut connects to one rukou")

// fanOutIngresses is the size of the fleet BenchmarkFanOut serves: the
// Standard fleet's 10,000 Services and 50,000 endpoints, with 1,000
// Ingresses (so 1,000 virtual hosts, clusters and assignments per Envoy).
const fanOutIngresses = 1000

// BenchmarkFanOut runs one `rukou serve --watch-dir` on the 1,000-Ingress
// fleet and -fanout-envoys real Envoys (delta ADS, --concurrency 1), and
// measures what each connected Envoy costs rukou and how long a change takes
// to reach the last of them. Each iteration makes two changes and waits
// until every Envoy serves each: an endpoint change (the probe's endpoint
// moves to the other echo backend) and a configuration change (a new file
// with a new Ingress, Service and EndpointSlice: a new virtual host, cluster
// and assignment). A third change, like the second, is timed by rukou's
// /debug/xds alone, with no request to the Envoys, for the Envoys' own CPU
// to apply it (quietChanges). Before the Envoys start, rukou makes the
// first two changes alone, for the CPU a change costs without anyone to
// push to.
func BenchmarkFanOut(b *testing.B) {
	binaries(b)
	n := *fanOutEnvoys
	dir := b.TempDir()
	if err := Standard(fanOutIngresses).WriteManifests(dir); err != nil {
		b.Fatal(err)
	}
	backends := startProbeBackends(b)
	probe := filepath.Join(dir, "probe.yaml")
	harness.WriteManifest(b, probe, ProbeManifest(backends.ports[0]))
	rukou := harness.StartRukou(b, "--watch-dir", dir)
	harness.Eventually(b, 2*time.Minute, "rukou ready", func() error {
		_, err := rukou.Ops("/readyz")
		return err
	})
	alone := rukouAlone(b, rukou, dir, probe, backends)

	start := time.Now()
	fleet := startFleet(b, rukou, n)
	launchS := time.Since(start).Seconds()
	fleet.await(b, start, probeHost, backends.names[0], 10*time.Minute)
	syncS := time.Since(start).Seconds()
	connected := sampleRukou(b, rukou)

	idle := fleet.idleCPU(b, time.Second)
	var endpoint, config fanOutTimes
	var quiet quietChanges
	var rukouCPU time.Duration
	for b.Loop() {
		i := len(endpoint.last)
		next := (i + 1) % 2
		cpu, envoyCPU, t0 := cpuTime(b, rukou.PID()), fleet.cpu(b), time.Now()
		harness.WriteManifest(b, probe, ProbeManifest(backends.ports[next]))
		endpoint.add(fleet.await(b, t0, probeHost, backends.names[next], 2*time.Minute))
		endpoint.envoyCPU += fleet.cpu(b) - envoyCPU

		envoyCPU, t0 = fleet.cpu(b), time.Now()
		harness.WriteManifest(b, filepath.Join(dir, fmt.Sprintf("extra-%03d.yaml", i)), extraManifest(i, backends.ports[next]))
		config.add(fleet.await(b, t0, extraHost(i), backends.names[next], 2*time.Minute))
		config.envoyCPU += fleet.cpu(b) - envoyCPU
		rukouCPU += cpuTime(b, rukou.PID()) - cpu

		j := fanOutQuiet + i
		quiet.add(b, rukou, fleet, filepath.Join(dir, fmt.Sprintf("extra-%03d.yaml", j)), extraManifest(j, backends.ports[next]))
		fleet.await(b, time.Now(), extraHost(j), backends.names[next], 2*time.Minute)
	}
	cpuPerChange := ms(rukouCPU) / float64(2*len(endpoint.last))

	endpoint.report(b, "endpoint")
	config.report(b, "config")
	quiet.report(b)
	b.ReportMetric(ms(idle), "envoys-idle-cpu-ms/s")
	b.ReportMetric(float64(n), "envoys")
	b.ReportMetric(launchS, "all-started-s")
	b.ReportMetric(syncS, "all-synced-s")
	b.ReportMetric(alone.rssMB, "rss-0-MB")
	b.ReportMetric(connected.rssMB, "rss-N-MB")
	b.ReportMetric(alone.heapMB, "heap-0-MB")
	b.ReportMetric(connected.heapMB, "heap-N-MB")
	b.ReportMetric((connected.rssMB-alone.rssMB)/float64(n), "rss-MB/envoy")
	b.ReportMetric((connected.heapMB-alone.heapMB)/float64(n), "heap-MB/envoy")
	b.ReportMetric(ms(connected.cpu-alone.cpu)/float64(n), "sync-cpu-ms/envoy")
	b.ReportMetric(alone.cpuPerChangeMS, "cpu-ms/change-0")
	b.ReportMetric(cpuPerChange, "cpu-ms/change-N")
	b.ReportMetric((cpuPerChange-alone.cpuPerChangeMS)/float64(n), "cpu-ms/change/envoy")
	b.ReportMetric(fleet.meanRSS(b), "envoy-rss-MB")
}

// rukouState is what rukou holds at one moment, after a forced GC.
type rukouState struct {
	rssMB, heapMB float64
	// cpu is rukou's CPU time (user and system) since it started.
	cpu time.Duration
	// cpuPerChangeMS is, for rukou alone, its CPU per change.
	cpuPerChangeMS float64
}

// rukouAlone measures rukou before any Envoy connects: its memory, and the
// CPU of one endpoint change and one configuration change (as the
// benchmark's loop makes them) waited for through /debug/xds's generation.
func rukouAlone(b *testing.B, rukou *harness.Rukou, dir, probe string, backends probeBackends) rukouState {
	b.Helper()
	const pairs = 3
	var took time.Duration
	for i := range pairs {
		for _, write := range []func(){
			func() { harness.WriteManifest(b, probe, ProbeManifest(backends.ports[(i+1)%2])) },
			func() {
				harness.WriteManifest(b, filepath.Join(dir, fmt.Sprintf("alone-%d.yaml", i)), extraManifest(900+i, backends.ports[0]))
			},
		} {
			gen := generation(b, rukou)
			cpu := cpuTime(b, rukou.PID())
			write()
			harness.Eventually(b, 30*time.Second, "rukou sets a snapshot", func() error {
				if g := generation(b, rukou); g == gen {
					return fmt.Errorf("generation still %d", g)
				}
				return nil
			})
			// A configuration change may set a second snapshot (the held
			// routes); give rukou a moment to finish before reading.
			time.Sleep(300 * time.Millisecond)
			took += cpuTime(b, rukou.PID()) - cpu
		}
	}
	// Back to the first backend, as the Envoys expect when they start.
	harness.WriteManifest(b, probe, ProbeManifest(backends.ports[0]))
	time.Sleep(2 * time.Second)
	s := sampleRukou(b, rukou)
	s.cpuPerChangeMS = ms(took) / (2 * pairs)
	return s
}

// sampleRukou forces a GC in rukou (pprof's heap profile with gc=1) and
// reads its resident set, its heap in use and its CPU time.
func sampleRukou(b *testing.B, rukou *harness.Rukou) rukouState {
	b.Helper()
	if _, err := rukou.Debug("/debug/pprof/heap?gc=1"); err != nil {
		b.Fatal(err)
	}
	m, err := rukou.Metrics()
	if err != nil {
		b.Fatal(err)
	}
	return rukouState{
		rssMB:  statusKB(b, rukou.PID(), "VmRSS") / 1024,
		heapMB: m.Sum("go_memstats_heap_inuse_bytes") / (1 << 20),
		cpu:    cpuTime(b, rukou.PID()),
	}
}

// xdsStatus is what rukou's /debug/xds reports now.
func xdsStatus(b *testing.B, rukou *harness.Rukou) xds.Status {
	b.Helper()
	st, err := rukou.XDSStatus()
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// generation is the snapshot generation rukou's /debug/xds reports.
func generation(b *testing.B, rukou *harness.Rukou) uint64 { return xdsStatus(b, rukou).Generation }

// cpuTime is the user plus system CPU time of a process, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	_, rest, ok := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, stat)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14 and 15 of the line
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// statusKB reads a "kB" field of /proc/PID/status, such as VmRSS.
func statusKB(b *testing.B, pid int, field string) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// extraHost is the host of the i-th configuration change.
func extraHost(i int) string { return fmt.Sprintf("extra-%03d.bench.example", i) }

// extraManifest is the i-th configuration change: an Ingress for
// extraHost(i) and its own Service and EndpointSlice, whose one endpoint is
// the echo backend at port on 127.0.0.1. Envoy serves it once it has the
// new route, the new cluster and its assignment.
func extraManifest(i, port int) string {
	ns, name := "bench-extra", fmt.Sprintf("extra-%03d", i)
	return fmt.Sprintf("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %[2]s\n  namespace: %[1]s\nspec:\n  ingressClassName: rukou\n  rules:\n  - host: %[3]s\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: %[2]s\n            port:\n              number: 80\n---\n"+
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: %[2]s\n  namespace: %[1]s\nspec:\n  ports:\n  - name: http\n    port: 80\n---\n"+
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: %[2]s-0\n  namespace: %[1]s\n  labels:\n    kubernetes.io/service-name: %[2]s\naddressType: IPv4\nports:\n- name: http\n  port: %[4]d\nendpoints:\n- addresses: [\"127.0.0.1\"]\n", ns, name, extraHost(i), port)
}

// fanOutTimes are, per change, when the first and the last Envoy served it,
// and the CPU all the Envoys spent from the change until the last served it
// (serving the sweeps' requests included).
type fanOutTimes struct {
	first, last []time.Duration
	envoyCPU    time.Duration
}

// add records one change's arrival times, one per Envoy.
func (t *fanOutTimes) add(arrivals []time.Duration) {
	t.first = append(t.first, slices.Min(arrivals))
	t.last = append(t.last, slices.Max(arrivals))
}

// report reports the median and maximum of the first and the last Envoy's
// times under the change's name.
func (t *fanOutTimes) report(b *testing.B, name string) {
	if len(t.last) == 0 {
		return
	}
	for _, s := range []struct {
		who string
		d   []time.Duration
	}{{"first", t.first}, {"last", t.last}} {
		d := slices.Clone(s.d)
		slices.Sort(d)
		b.ReportMetric(ms(d[(len(d)-1)/2]), name+"-"+s.who+"-p50-ms")
		b.ReportMetric(ms(d[len(d)-1]), name+"-"+s.who+"-max-ms")
	}
	b.ReportMetric(ms(t.envoyCPU)/float64(len(t.last)), name+"-envoys-cpu-ms")
}

// fanOutQuiet numbers the quiet configuration changes, apart from the
// others.
const fanOutQuiet = 100

// quietChanges are configuration changes timed by rukou's /debug/xds alone,
// with no request to the Envoys while they apply them (the sweeps of
// await cost the Envoys CPU of their own): when rukou's routes went out,
// when the last Envoy acknowledged them (Envoy acknowledges a route
// configuration once it has built its table), and the CPU all the Envoys
// spent until then.
type quietChanges struct {
	out, acked []time.Duration
	envoyCPU   time.Duration
}

// add writes manifest to file and waits until every Envoy has
// acknowledged the routes that follow.
func (q *quietChanges) add(b *testing.B, rukou *harness.Rukou, fleet *fanOutFleet, file, manifest string) {
	b.Helper()
	before := xdsStatus(b, rukou).Types["routes"].Version
	cpu, t0 := fleet.cpu(b), time.Now()
	harness.WriteManifest(b, file, manifest)
	r, err := watchRouteRelease(rukou, t0, before, len(fleet.ports), 2*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	q.envoyCPU += fleet.cpu(b) - cpu
	q.out, q.acked = append(q.out, r.out), append(q.acked, r.lastAck)
}

// report reports the medians and the Envoys' CPU per change.
func (q *quietChanges) report(b *testing.B) {
	if len(q.out) == 0 {
		return
	}
	b.ReportMetric(median(q.out, ms), "quiet-routes-out-p50-ms")
	b.ReportMetric(median(q.acked, ms), "quiet-routes-acked-p50-ms")
	b.ReportMetric(ms(q.envoyCPU)/float64(len(q.out)), "quiet-envoys-cpu-ms")
}

// routeRelease is when, after a configuration change, rukou served routes
// other than before (make-before-break releases them once every Envoy has
// warmed the new cluster) and when the last Envoy acknowledged them.
type routeRelease struct{ out, lastAck time.Duration }

// watchRouteRelease polls rukou's /debug/xds every 5 ms from since until
// rukou serves routes other than before with nothing held back, and n
// Envoys have acknowledged them. Only rukou answers the polls.
func watchRouteRelease(rukou *harness.Rukou, since time.Time, before string, n int, timeout time.Duration) (routeRelease, error) {
	var r routeRelease
	for time.Since(since) < timeout {
		st, err := rukou.XDSStatus()
		if err != nil {
			return r, err
		}
		served := st.Types["routes"].Version
		if served != before && r.out == 0 {
			r.out = time.Since(since)
		}
		done := 0
		for _, node := range st.Nodes {
			if node.Acked["routes"] == served {
				done++
			}
		}
		if served != before && st.RoutesCurrent && len(st.Warming) == 0 && done >= n {
			r.lastAck = time.Since(since)
			return r, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r, fmt.Errorf("routes not acknowledged by all %d Envoys within %v", n, timeout)
}

// fanOutFleet are the Envoys of BenchmarkFanOut, each with a listener of
// its own (see probeListener).
type fanOutFleet struct {
	envoys []*harness.Envoy
	ports  []int
}

// startFleet starts n Envoys against rukou without waiting for them to be
// LIVE (the fleet's await does); Envoy's hot restart is off (the harness
// passes --disable-hot-restart), so they need no distinct --base-id.
func startFleet(b *testing.B, rukou *harness.Rukou, n int) *fanOutFleet {
	b.Helper()
	f := &fanOutFleet{}
	for i := range n {
		port := harness.FreePort(b)
		e := harness.StartEnvoyWith(b, rukou.XDSAddress, harness.EnvoyOptions{
			Mode:          "delta",
			NoWait:        true,
			BootstrapArgs: []string{"--node-id", fmt.Sprintf("fanout-%03d", i)},
			EnvoyArgs:     []string{"--concurrency", "1", "--config-yaml", probeListener(b, port)},
		})
		f.envoys, f.ports = append(f.envoys, e), append(f.ports, port)
	}
	return f
}

// probeListener is bootstrap YAML (JSON) that Envoy's --config-yaml merges
// into the one `rukou bootstrap` wrote: a static listener on 127.0.0.1:port
// that routes with rukou's "http" route configuration, over the same ADS
// stream. Every Envoy binds the listener rukou serves over LDS on the same
// port (SO_REUSEPORT), so a request to it reaches any one of them; this
// listener reaches one Envoy, through the routes, clusters and endpoints
// rukou served it. Only the HTTP filters differ: here just the router.
func probeListener(b *testing.B, port int) string {
	b.Helper()
	hcm := &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager{
		StatPrefix: "fanout_probe",
		RouteSpecifier: &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_Rds{
			Rds: &envoy_extensions_filters_network_http_connection_manager_v3.Rds{
				RouteConfigName: "http",
				ConfigSource: &envoy_config_core_v3.ConfigSource{
					ConfigSourceSpecifier: &envoy_config_core_v3.ConfigSource_Ads{Ads: &envoy_config_core_v3.AggregatedConfigSource{}},
					ResourceApiVersion:    envoy_config_core_v3.ApiVersion_V3,
				},
			},
		},
		HttpFilters: []*envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &envoy_extensions_filters_network_http_connection_manager_v3.HttpFilter_TypedConfig{TypedConfig: mustAny(b, &envoy_extensions_filters_http_router_v3.Router{})},
		}},
	}
	l := &envoy_config_listener_v3.Listener{
		Name: "fanout-probe",
		Address: &envoy_config_core_v3.Address{Address: &envoy_config_core_v3.Address_SocketAddress{SocketAddress: &envoy_config_core_v3.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &envoy_config_core_v3.SocketAddress_PortValue{PortValue: uint32(port)},
		}}},
		FilterChains: []*envoy_config_listener_v3.FilterChain{{Filters: []*envoy_config_listener_v3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: mustAny(b, hcm)},
		}}}},
	}
	out, err := protojson.Marshal(&envoy_config_bootstrap_v3.Bootstrap{StaticResources: &envoy_config_bootstrap_v3.Bootstrap_StaticResources{Listeners: []*envoy_config_listener_v3.Listener{l}}})
	if err != nil {
		b.Fatal(err)
	}
	return string(out)
}

// mustAny wraps m in an Any, failing the benchmark when it cannot.
func mustAny(b *testing.B, m proto.Message) *anypb.Any {
	b.Helper()
	a, err := anypb.New(m)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// fanOutSweepPause is how long a poller rests between two sweeps of its
// Envoys. Without a rest the four pollers kept thousands of requests a
// second on the Envoys, which took CPU from the change they wait for.
const fanOutSweepPause = 10 * time.Millisecond

// fanOutPollers is how many goroutines poll the fleet: each sweeps its
// share of the Envoys, one request each, until every one has answered. A
// few, not one per Envoy, so that polling does not take the two cores
// from rukou and the Envoys.
const fanOutPollers = 4

// await waits until every Envoy answers GET host/ from backend on its own
// listener, and returns, per Envoy, the time from since until its first
// such answer. The resolution is one sweep (about N/fanOutPollers requests)
// and fanOutSweepPause.
func (f *fanOutFleet) await(b *testing.B, since time.Time, host, backend string, timeout time.Duration) []time.Duration {
	b.Helper()
	arrivals := make([]time.Duration, len(f.ports))
	deadline := since.Add(timeout)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var late []string
	for w := range fanOutPollers {
		wg.Go(func() {
			pending := []int{}
			for i := w; i < len(f.ports); i += fanOutPollers {
				pending = append(pending, i)
			}
			for len(pending) > 0 && time.Now().Before(deadline) {
				pending = slices.DeleteFunc(pending, func(i int) bool {
					r, err := harness.Get(f.ports[i], host, "/")
					if err != nil || r.Backend != backend {
						return false
					}
					arrivals[i] = time.Since(since)
					return true
				})
				time.Sleep(fanOutSweepPause)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, i := range pending {
				late = append(late, fmt.Sprintf("fanout-%03d (port %d)", i, f.ports[i]))
			}
		})
	}
	wg.Wait()
	if len(late) > 0 {
		b.Fatalf("%s not answered by %s within %v on %d Envoys: %s", host, backend, timeout, len(late), strings.Join(late, ", "))
	}
	return arrivals
}

// idleCPU is the CPU the Envoys spend per second when nothing changes and
// nothing is asked of them (stats, timers), measured over d.
func (f *fanOutFleet) idleCPU(b *testing.B, d time.Duration) time.Duration {
	b.Helper()
	cpu := f.cpu(b)
	time.Sleep(d)
	return time.Duration(float64(f.cpu(b)-cpu) / d.Seconds())
}

// cpu is the CPU time all the Envoys have spent since they started.
func (f *fanOutFleet) cpu(b *testing.B) time.Duration {
	b.Helper()
	var sum time.Duration
	for _, e := range f.envoys {
		sum += cpuTime(b, e.PID())
	}
	return sum
}

// meanRSS is the Envoys' mean resident set, in MB.
func (f *fanOutFleet) meanRSS(b *testing.B) float64 {
	b.Helper()
	var sum float64
	for _, e := range f.envoys {
		sum += statusKB(b, e.PID(), "VmRSS") / 1024
	}
	return sum / float64(len(f.envoys))
}
