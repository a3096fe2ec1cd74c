package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/rukou/rukou/test/harness"
)

// A peer is an Ingress controller that BenchmarkPeers runs, with its Envoy,
// against a fresh API server.
type peer struct {
	name  string
	start func(b *testing.B, cluster *harness.Cluster) peerStack
}

// peerStack is a running controller and the Envoy it configures.
type peerStack struct {
	controller, envoy *harness.Process
	// httpPort is the Envoy HTTP listener's port on 127.0.0.1.
	httpPort int
}

// peers are rukou, as Cluster1k runs it (delta xDS), and Contour, serving
// the same Ingresses (class rukou) with its own defaults.
var peers = []peer{
	{"rukou", func(b *testing.B, cluster *harness.Cluster) peerStack {
		r := harness.StartRukou(b, "--kubeconfig", cluster.Kubeconfig, "--log-level", "info")
		e := harness.StartEnvoy(b, r.XDSAddress, "delta")
		return peerStack{controller: r.Process, envoy: e.Process, httpPort: r.HTTPPort}
	}},
	{"contour", func(b *testing.B, cluster *harness.Cluster) peerStack {
		c := harness.StartContour(b, cluster, "rukou")
		return peerStack{controller: c.Process, envoy: c.StartEnvoy(b), httpPort: c.HTTPPort}
	}},
}

// peerProbes is how many new Ingresses each run times, and
// peerEndpointProbes how many endpoint changes. An endpoint change takes
// milliseconds, so it gets enough samples that its p99 is not simply the
// slowest of twenty.
const (
	peerProbes         = 20
	peerEndpointProbes = 100
)

// peerResult is what one run measured.
type peerResult struct {
	served                     time.Duration
	newIngress, endpointChange []time.Duration // sorted
	// endpointAfterAPI is each endpoint change less the API server's
	// answer to its patch (sorted): the controller's and Envoy's part,
	// apart from the API server's slow answers, which both peers meet.
	endpointAfterAPI          []time.Duration
	controllerPeak, envoyPeak int64
	// controllerServedPeak is the controller's peak RSS once every host
	// is served, before the new Ingresses and endpoint changes.
	controllerServedPeak    int64
	controllerRSS, envoyRSS int64
}

// BenchmarkPeers runs rukou and Contour, each in turn on a fresh
// kube-apiserver and etcd with the same Envoy build, on 1,000 and 10,000
// Ingresses (each with its Service and EndpointSlice, the backends in a
// network namespace), and measures: the time from the first create until
// every host answers 200; the time from creating a new Ingress to its first
// 200; the time from an EndpointSlice change to Envoy answering from the new
// endpoint; the controller's and Envoy's RSS, peak and at the end. It then
// prints both side by side. `make bench-peers` runs it; RUKOU_PEERS_SIZES
// (say "1000") picks the sizes.
func BenchmarkPeers(b *testing.B) {
	harness.ContourBinary(b)
	binaries(b)
	sizes := peerSizes(b)
	results := map[string]peerResult{}
	// Size by size, the peers one after the other, so that both see much
	// the same load from whatever else runs on the machine.
	for _, n := range sizes {
		for _, p := range peers {
			b.Run(fmt.Sprintf("controller=%s/ingresses=%d", p.name, n), func(b *testing.B) {
				for range b.N {
					results[peerKey(p.name, n)] = measurePeer(b, p, n)
				}
			})
		}
	}
	// On stdout: a parent benchmark's b.Log is not printed when its
	// sub-benchmarks pass.
	if len(results) > 0 {
		fmt.Printf("\n%s\n", peerTable(sizes, results))
	}
}

// peerSizes returns the fleet sizes to run: RUKOU_PEERS_SIZES, a comma
// separated list, else 1,000 and 10,000.
func peerSizes(b *testing.B) []int {
	env := os.Getenv("RUKOU_PEERS_SIZES")
	if env == "" {
		return []int{1000, 10000}
	}
	var sizes []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= peerEndpointProbes {
			b.Fatalf("RUKOU_PEERS_SIZES=%q: %q is not a number above %d", env, f, peerEndpointProbes)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func peerKey(name string, n int) string { return name + "/" + strconv.Itoa(n) }

// measurePeer runs one controller on n Ingresses and measures it.
func measurePeer(b *testing.B, p peer, n int) peerResult {
	cluster := harness.StartCluster(b)
	cluster.Config.QPS, cluster.Config.Burst = 500, 1000
	client := kubernetes.NewForConfigOrDie(cluster.Config)
	netns := harness.StartNetns(b)
	netns.StartBackend(b, "app", 8080)
	netns.StartBackend(b, "moved", 8081)
	ctx := harness.Context(b)
	if err := createIngressClass(ctx, client); err != nil {
		b.Fatal(err)
	}
	stack := p.start(b, cluster)

	var res peerResult
	start := time.Now()
	createFleet(b, n, func(i int) error { return createApp(ctx, client, i, netns.IP) })
	created := time.Since(start)
	awaitAllServed(b, stack.httpPort, n, 10*time.Minute)
	res.served = time.Since(start)
	peak, err := stack.controller.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	res.controllerServedPeak = peak
	b.Logf("%s, %d Ingresses: created in %v, all served %v after the first create",
		p.name, n, created.Round(time.Millisecond), res.served.Round(time.Millisecond))

	res.newIngress = timeNewIngresses(b, ctx, client, stack, n, netns.IP)
	res.endpointChange, res.endpointAfterAPI = timeEndpointChanges(b, ctx, client, stack)
	for _, m := range []struct {
		p    *harness.Process
		read func(*harness.Process) (int64, error)
		into *int64
	}{
		{stack.controller, (*harness.Process).PeakRSS, &res.controllerPeak},
		{stack.controller, (*harness.Process).RSS, &res.controllerRSS},
		{stack.envoy, (*harness.Process).PeakRSS, &res.envoyPeak},
		{stack.envoy, (*harness.Process).RSS, &res.envoyRSS},
	} {
		v, err := m.read(m.p)
		if err != nil {
			b.Fatal(err)
		}
		*m.into = v
	}
	reportPeer(b, created, res)
	return res
}

// timeNewIngresses creates, one at a time, peerProbes new applications
// after the n of the fleet: the Service and EndpointSlice, then the
// Ingress, timed from its create to the first 200 through Envoy.
func timeNewIngresses(b *testing.B, ctx context.Context, client kubernetes.Interface, stack peerStack, n int, ip string) []time.Duration {
	b.Helper()
	var took []time.Duration
	for i := n; i < n+peerProbes; i++ {
		if err := createBackend(ctx, client, i, ip); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := createIngress(ctx, client, i); err != nil {
			b.Fatal(err)
		}
		took = append(took, awaitAnswer(b, stack, host(i), func(r harness.Response) bool { return r.Status == http.StatusOK }).Sub(start))
	}
	b.Logf("new Ingresses, in order: %v", rounded(took))
	slices.Sort(took)
	return took
}

// timeEndpointChanges moves, one at a time, the EndpointSlices of
// applications 0 to peerEndpointProbes-1 from the backend "app" (port 8080) to the
// backend "moved" (port 8081) at the same address, each timed from the
// update to the first answer from "moved" through Envoy. It returns these
// times, and the same less the API server's answer to each patch.
func timeEndpointChanges(b *testing.B, ctx context.Context, client kubernetes.Interface, stack peerStack) (took, afterAPI []time.Duration) {
	b.Helper()
	patch := []byte(`{"ports":[{"name":"http","port":8081,"protocol":"TCP"}]}`)
	var written []time.Duration
	for i := range peerEndpointProbes {
		start := time.Now()
		if _, err := client.DiscoveryV1().EndpointSlices("default").Patch(ctx, fmt.Sprintf("app-%d-1", i), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		written = append(written, time.Since(start))
		took = append(took, awaitAnswer(b, stack, host(i), func(r harness.Response) bool { return r.Backend == "moved" }).Sub(start))
	}
	b.Logf("endpoint changes, in order: %v", rounded(took))
	b.Logf("of which the API server's answer to the patch: %v", rounded(written))
	for i := range took {
		afterAPI = append(afterAPI, took[i]-written[i])
	}
	slices.Sort(took)
	slices.Sort(afterAPI)
	return took, afterAPI
}

// rounded is ds to the millisecond, for a log line.
func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// awaitAnswer sends GET / for host through the stack's Envoy every 0.5 ms
// until ok holds for the answer, at most for 60 s, and returns when it did.
func awaitAnswer(b *testing.B, stack peerStack, host string, ok func(harness.Response) bool) time.Time {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if stack.controller.Exited() {
			b.Fatalf("the controller exited:\n%s", stack.controller.Log())
		}
		r, err := harness.Get(stack.httpPort, host, "/")
		if err == nil && ok(r) {
			return time.Now()
		}
		time.Sleep(500 * time.Microsecond)
	}
	b.Fatalf("%s: not answered as expected after 60 s", host)
	return time.Time{}
}

// quantile returns the q-quantile of sorted durations by nearest rank, the
// smallest that at least a fraction q of them do not exceed: of the 20 new
// Ingresses, 0.5 is the 10th and 0.99 the slowest; of the 100 endpoint
// changes, 0.99 is the slowest but one.
func quantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(len(sorted), max(rank, 1))-1]
}

// peerRows are the rows of the comparison: a name, a unit and how to read
// the figure from a result. Every figure is lower-is-better.
var peerRows = []struct {
	name, unit string
	value      func(peerResult) float64
}{
	{"first create → every host served", "s", func(r peerResult) float64 { return r.served.Seconds() }},
	{"new Ingress → first 200, p50", "ms", func(r peerResult) float64 { return ms(quantile(r.newIngress, 0.5)) }},
	{"new Ingress → first 200, p99", "ms", func(r peerResult) float64 { return ms(quantile(r.newIngress, 0.99)) }},
	{"endpoint change → new backend, p50", "ms", func(r peerResult) float64 { return ms(quantile(r.endpointChange, 0.5)) }},
	{"endpoint change → new backend, p99", "ms", func(r peerResult) float64 { return ms(quantile(r.endpointChange, 0.99)) }},
	{"endpoint change after the API answer → new backend, p50", "ms", func(r peerResult) float64 { return ms(quantile(r.endpointAfterAPI, 0.5)) }},
	{"endpoint change after the API answer → new backend, p99", "ms", func(r peerResult) float64 { return ms(quantile(r.endpointAfterAPI, 0.99)) }},
	{"controller peak RSS", "MB", func(r peerResult) float64 { return mb(r.controllerPeak) }},
	{"controller peak RSS once all are served", "MB", func(r peerResult) float64 { return mb(r.controllerServedPeak) }},
	{"controller RSS at the end", "MB", func(r peerResult) float64 { return mb(r.controllerRSS) }},
	{"Envoy peak RSS", "MB", func(r peerResult) float64 { return mb(r.envoyPeak) }},
	{"Envoy RSS at the end", "MB", func(r peerResult) float64 { return mb(r.envoyRSS) }},
}

// mb is bytes in MiB, as the other memory figures of docs/benchmarks.md.
func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// reportPeer reports a run's figures as benchmark metrics.
func reportPeer(b *testing.B, created time.Duration, res peerResult) {
	b.ReportMetric(created.Seconds(), "s-to-create")
	for _, row := range peerRows {
		unit := strings.NewReplacer(" → ", "-to-", ", ", "-", " ", "-").Replace(row.name)
		b.ReportMetric(row.value(res), row.unit+"-"+unit)
	}
}

// peerTable renders the results side by side as a Markdown table, with
// the ratio contour ÷ rukou: every figure is lower-is-better, so a ratio
// above 1 is rukou ahead and below 1 Contour ahead.
func peerTable(sizes []int, results map[string]peerResult) string {
	var w strings.Builder
	w.WriteString("| Ingresses | figure | rukou | Contour | Contour ÷ rukou |\n|---:|---|---:|---:|---:|\n")
	for _, n := range sizes {
		r, rok := results[peerKey("rukou", n)]
		c, cok := results[peerKey("contour", n)]
		for _, row := range peerRows {
			cell := func(res peerResult, ok bool) string {
				if !ok {
					return "–"
				}
				if row.unit == "s" {
					return fmt.Sprintf("%.2f s", row.value(res))
				}
				return fmt.Sprintf("%.1f %s", row.value(res), row.unit)
			}
			ratio := "–"
			if rok && cok && row.value(r) > 0 {
				ratio = fmt.Sprintf("%.2f", row.value(c)/row.value(r))
			}
			fmt.Fprintf(&w, "| %d | %s | %s | %s | %s |\n", n, row.name, cell(r, rok), cell(c, cok), ratio)
		}
	}
	return w.String()
}
