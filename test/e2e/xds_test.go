package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/envoy"
	"github.com/rukou/rukou/test/harness"
)

// envoyStats reads every Envoy counter and gauge.
func envoyStats(t *testing.T, e *harness.Envoy) map[string]int64 {
	t.Helper()
	stats, err := e.Admin.Stats(harness.Context(t), "")
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

func rukouMetrics(t *testing.T, r *harness.Rukou) harness.Metrics {
	t.Helper()
	m, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitSettled waits until rukou serves the latest translation with nothing
// held back by make-before-break.
func waitSettled(t *testing.T, r *harness.Rukou) {
	t.Helper()
	harness.Eventually(t, 20*time.Second, "rukou settled", func() error {
		st, err := r.XDSStatus()
		if err != nil {
			return err
		}
		if !st.RoutesCurrent || len(st.Warming) > 0 || len(st.Retained) > 0 {
			return fmt.Errorf("routes current %v, warming %v, retained %v", st.RoutesCurrent, st.Warming, st.Retained)
		}
		return nil
	})
}

// xdsConnections is the Envoy counter of its connections to rukou.
var xdsConnections = "cluster." + envoy.XDSClusterName + ".upstream_cx_total"

// waitAcked waits until rukou serves a snapshot of a generation after
// after, and every Envoy has acknowledged the version rukou serves of each
// of types (of every type that has resources when none is given): all rukou
// sent for it has reached Envoy.
func waitAcked(t *testing.T, r *harness.Rukou, after uint64, types ...string) {
	t.Helper()
	harness.Eventually(t, 20*time.Second, fmt.Sprintf("Envoy acknowledged what rukou serves of %v", types), func() error {
		st, err := r.XDSStatus()
		if err != nil {
			return err
		}
		if st.Generation <= after || len(st.Nodes) == 0 {
			return fmt.Errorf("generation %d (waiting for one after %d), %d Envoys", st.Generation, after, len(st.Nodes))
		}
		for _, n := range st.Nodes {
			for typ, ts := range st.Types {
				want := slices.Contains(types, typ) || len(types) == 0 && ts.Resources > 0
				if want && n.Acked[typ] != ts.Version {
					return fmt.Errorf("node %s acknowledged %s %q, rukou serves %q", n.ID, typ, n.Acked[typ], ts.Version)
				}
			}
		}
		return nil
	})
}

// TestXDSEndpointChangeSendsOnlyEndpoints changes one EndpointSlice and
// checks, with Envoy's own counters, that no listener, route or cluster
// update reached Envoy; in delta mode, that only the one changed
// ClusterLoadAssignment travelled.
func TestXDSEndpointChangeSendsOnlyEndpoints(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			blue, blue2 := harness.StartBackend(t, "blue"), harness.StartBackend(t, "blue2")
			green := harness.StartBackend(t, "green")
			dir := t.TempDir()
			harness.WriteManifest(t, filepath.Join(dir, "green.yaml"), harness.ServiceYAML("green", green))
			harness.WriteManifest(t, filepath.Join(dir, "blue.yaml"), harness.ServiceYAML("blue", blue))
			harness.WriteManifest(t, filepath.Join(dir, "ingresses.yaml"),
				harness.IngressYAML("blue", "blue.example", "blue", nil)+"---\n"+harness.IngressYAML("green", "green.example", "green", nil))

			rukou := harness.StartRukou(t, "--watch-dir", dir)
			envoy := harness.StartEnvoy(t, rukou.XDSAddress, mode)
			harness.ExpectRoute(t, rukou.HTTPPort, "blue.example", "/", http.StatusOK, "blue")
			harness.ExpectRoute(t, rukou.HTTPPort, "green.example", "/", http.StatusOK, "green")
			waitSettled(t, rukou)

			before, rBefore := envoyStats(t, envoy), rukouMetrics(t, rukou)
			if before["cluster.default_blue_80.update_success"] == 0 {
				t.Fatalf("Envoy has no EDS counters for default_blue_80; stats changed names?")
			}
			harness.WriteManifest(t, filepath.Join(dir, "blue.yaml"), harness.ServiceYAML("blue", blue2))
			harness.ExpectRoute(t, rukou.HTTPPort, "blue.example", "/", http.StatusOK, "blue2")
			// Once Envoy has acknowledged all that rukou serves, a stray
			// update would have arrived: its absence means something.
			waitAcked(t, rukou, 0)
			after, rAfter := envoyStats(t, envoy), rukouMetrics(t, rukou)

			// Both listeners read the route configuration "http": its
			// counters carry the prefix of the one that subscribed first.
			rds := "http.http.rds.http.update_attempt"
			for name := range before {
				if strings.HasSuffix(name, ".rds.http.update_attempt") {
					rds = name
				}
			}
			for _, name := range []string{
				"listener_manager.lds.update_attempt",
				"listener_manager.listener_modified",
				"listener_manager.listener_added",
				"listener_manager.listener_removed",
				rds,
				"cluster_manager.cds.update_attempt",
				"cluster_manager.cluster_modified",
				"cluster_manager.cluster_added",
				"cluster_manager.cluster_removed",
			} {
				if _, ok := before[name]; !ok {
					t.Errorf("Envoy has no counter %s", name)
				}
				if before[name] != after[name] {
					t.Errorf("%s went from %d to %d on an endpoint change", name, before[name], after[name])
				}
			}
			if d := after["cluster.default_blue_80.update_success"] - before["cluster.default_blue_80.update_success"]; d < 1 {
				t.Errorf("the changed cluster got no endpoint update (update_success +%d)", d)
			}
			for _, typ := range []string{"listeners", "routes", "clusters"} {
				if b, a := rBefore.Sum("rukou_xds_pushes_total", "type", typ), rAfter.Sum("rukou_xds_pushes_total", "type", typ); a != b {
					t.Errorf("rukou pushed %s on an endpoint change: %v -> %v", typ, b, a)
				}
			}
			pushes := rAfter.Sum("rukou_xds_pushes_total", "type", "endpoints") - rBefore.Sum("rukou_xds_pushes_total", "type", "endpoints")
			resources := rAfter.Sum("rukou_xds_push_resources_total", "type", "endpoints") - rBefore.Sum("rukou_xds_push_resources_total", "type", "endpoints")
			bytes := rAfter.Sum("rukou_xds_push_bytes_total", "type", "endpoints") - rBefore.Sum("rukou_xds_push_bytes_total", "type", "endpoints")
			t.Logf("%s: the endpoint change took %v pushes, %v resources, %v bytes", mode, pushes, resources, bytes)
			if pushes < 1 {
				t.Errorf("rukou sent no endpoints")
			}
			if mode == "delta" {
				if resources != pushes {
					t.Errorf("delta sent %v assignments in %v pushes; want only the changed one", resources, pushes)
				}
				if before["cluster.default_green_80.update_attempt"] != after["cluster.default_green_80.update_attempt"] {
					t.Errorf("delta updated the unchanged cluster default_green_80: update_attempt %d -> %d",
						before["cluster.default_green_80.update_attempt"], after["cluster.default_green_80.update_attempt"])
				}
			}
			harness.ExpectRoute(t, rukou.HTTPPort, "green.example", "/", http.StatusOK, "green")
			expectNoRejection(t, envoy)
		})
	}
}

// TestXDSMakeBeforeBreak repoints an Ingress from one Service to another and
// back, several times, while a load generator sends requests through Envoy:
// not one request may fail. Without make-before-break, the new route can
// reach Envoy before its cluster is warm, or the old cluster can go before
// the route that used it, and requests fail with 503.
func TestXDSMakeBeforeBreak(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ports := map[string]int{"blue": harness.StartBackend(t, "blue"), "green": harness.StartBackend(t, "green")}
			dir := t.TempDir()
			harness.WriteManifest(t, filepath.Join(dir, "services.yaml"),
				harness.ServiceYAML("blue", ports["blue"])+"---\n"+harness.ServiceYAML("green", ports["green"]))
			ingress := filepath.Join(dir, "ingress.yaml")
			harness.WriteManifest(t, ingress, harness.IngressYAML("web", "web.example", "blue", nil))

			rukou := harness.StartRukou(t, "--watch-dir", dir)
			envoy := harness.StartEnvoy(t, rukou.XDSAddress, mode)
			harness.ExpectRoute(t, rukou.HTTPPort, "web.example", "/", http.StatusOK, "blue")
			waitSettled(t, rukou)
			listenersBefore := envoyStats(t, envoy)
			// The static clusters of the bootstrap, and the one in use.
			clustersBefore := listenersBefore["cluster_manager.active_clusters"]

			load := harness.StartLoad(t, harness.LoadConfig{
				Port: rukou.HTTPPort, Host: "web.example", Path: "/",
				Workers: 4, MaxRequests: 500000, MaxDuration: 25 * time.Second,
			})
			to := "blue"
			for i := range 6 {
				if to == "blue" {
					to = "green"
				} else {
					to = "blue"
				}
				base := load.Now().ByBackend[to]
				harness.WriteManifest(t, ingress, harness.IngressYAML("web", "web.example", to, nil))
				start := time.Now()
				harness.Eventually(t, 10*time.Second, fmt.Sprintf("repoint %d: load reaches %s", i+1, to), func() error {
					now := load.Now()
					if now.Last != to || now.ByBackend[to] < base+50 {
						return fmt.Errorf("last answer from %q, %d answers from %s", now.Last, now.ByBackend[to]-base, to)
					}
					return nil
				})
				t.Logf("repoint %d to %s served after %v", i+1, to, time.Since(start).Round(time.Millisecond))
				waitSettled(t, rukou)
			}
			res := load.Stop()
			t.Logf("%s: %d requests in %v, %d failed, by backend %v", mode, res.Total, res.Elapsed.Round(time.Millisecond), res.Failed, res.ByBackend)
			if res.Failed > 0 {
				t.Errorf("%d of %d requests failed during repoints; first failures:\n%s", res.Failed, res.Total, strings.Join(res.Failures, "\n"))
			}
			if res.Total < 500 {
				t.Errorf("only %d requests completed: the load did not cover the repoints", res.Total)
			}

			// Routes travel over RDS: no listener was touched, so no
			// connection was drained.
			listenersAfter := envoyStats(t, envoy)
			for _, name := range []string{"listener_manager.lds.update_attempt", "listener_manager.listener_modified", "listener_manager.total_listeners_draining"} {
				if listenersBefore[name] != listenersAfter[name] {
					t.Errorf("%s went from %d to %d on route changes", name, listenersBefore[name], listenersAfter[name])
				}
			}

			// The old cluster is eventually removed, by acknowledgement,
			// not by the time bound.
			harness.Eventually(t, 10*time.Second, "Envoy holds only the bootstrap's clusters and the current one", func() error {
				if n := envoyStats(t, envoy)["cluster_manager.active_clusters"]; n != clustersBefore {
					return fmt.Errorf("%d active clusters, %d before the repoints", n, clustersBefore)
				}
				return nil
			})
			m := rukouMetrics(t, rukou)
			if n := m.Sum("rukou_xds_hold_timeouts_total"); n != 0 {
				t.Errorf("make-before-break timed out %v times instead of following acknowledgements", n)
			}
			expectDocumented(t, m)
			expectNoRejection(t, envoy)
		})
	}
}

// TestXDSNACK makes Envoy reject a listener: rukou is told to put it on a
// port the test holds. The NACK must be counted, shown on /debug/xds with
// Envoy's message, and not answered by the same listener again and again.
func TestXDSNACK(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			busyPort := holdPort(t).Addr().(*net.TCPAddr).Port
			backend := harness.StartBackend(t, "web")
			dir := t.TempDir()
			harness.WriteManifest(t, filepath.Join(dir, "web.yaml"), manifest("web.example", "web", backend))

			rukou := harness.StartRukou(t, "--watch-dir", dir, "--envoy-http-port", strconv.Itoa(busyPort))
			envoy := harness.StartEnvoyWith(t, rukou.XDSAddress, harness.EnvoyOptions{Mode: mode, NoWait: true})

			harness.Eventually(t, 20*time.Second, "rukou counts a listeners NACK", func() error {
				if n := rukouMetrics(t, rukou).Sum("rukou_xds_nacks_total", "type", "listeners"); n < 1 {
					return fmt.Errorf("%v listener NACKs", n)
				}
				return nil
			})
			first, before := rukouMetrics(t, rukou), rukouStatus(t, rukou)
			// A later change goes out on the same stream, after any resend
			// of the rejected listeners: once Envoy has acknowledged it, a
			// resend loop would show.
			harness.WriteManifest(t, filepath.Join(dir, "web.yaml"), manifest("web.example", "web", harness.StartBackend(t, "web")))
			waitAcked(t, rukou, before.Generation, "endpoints")
			later := rukouMetrics(t, rukou)
			nacks := later.Sum("rukou_xds_nacks_total", "type", "listeners")
			if nacks > 2 || nacks != first.Sum("rukou_xds_nacks_total", "type", "listeners") {
				t.Errorf("listener NACKs went from %v to %v: a resend loop", first.Sum("rukou_xds_nacks_total", "type", "listeners"), nacks)
			}
			if a, b := first.Sum("rukou_xds_pushes_total", "type", "listeners"), later.Sum("rukou_xds_pushes_total", "type", "listeners"); a != b || b > 2 {
				t.Errorf("listener pushes went from %v to %v: the rejected listener is being resent", a, b)
			}

			st := rukouStatus(t, rukou)
			if len(st.Nodes) != 1 {
				t.Fatalf("/debug/xds shows %d nodes, want 1: %+v", len(st.Nodes), st.Nodes)
			}
			node := st.Nodes[0]
			if node.LastNACK == nil {
				t.Fatalf("/debug/xds shows no NACK for node %s: %+v", node.ID, node)
			}
			n := node.LastNACK
			t.Logf("last NACK: %+v", *n)
			if n.Type != "listeners" || n.Version != st.Types["listeners"].Version || n.Nonce == "" {
				t.Errorf("last NACK is %s version %q nonce %q; want listeners version %q with its nonce", n.Type, n.Version, n.Nonce, st.Types["listeners"].Version)
			}
			if !strings.Contains(n.Message, strconv.Itoa(busyPort)) {
				t.Errorf("NACK message does not name the busy port %d: %q", busyPort, n.Message)
			}
			if node.Acked["listeners"] != "" {
				t.Errorf("node acknowledged listeners %q, yet it rejected them", node.Acked["listeners"])
			}
			if node.Acked["clusters"] != st.Types["clusters"].Version {
				t.Errorf("the rest of the configuration was not acknowledged: clusters %q, served %q", node.Acked["clusters"], st.Types["clusters"].Version)
			}
			if !strings.Contains(rukou.Log(), "rejected_version="+n.Version) {
				t.Errorf("rukou's log does not name the rejected version %s", n.Version)
			}
			if rejected := envoyStats(t, envoy)["listener_manager.lds.update_rejected"]; rejected < 1 {
				t.Errorf("Envoy reports %d rejected LDS updates; the test did not make it reject", rejected)
			}
			expectDocumented(t, later)
		})
	}
}

// TestXDSMutualTLS serves xDS over mutual TLS: an Envoy with a client
// certificate from the CA gets its configuration and carries traffic; one
// without gets nothing.
func TestXDSMutualTLS(t *testing.T) {
	certs := harness.WriteCerts(t, t.TempDir())
	backend := harness.StartBackend(t, "web")
	dir := t.TempDir()
	harness.WriteManifest(t, filepath.Join(dir, "web.yaml"), manifest("web.example", "web", backend))
	rukou := harness.StartRukou(t, "--watch-dir", dir,
		"--xds-tls-cert", certs.ServerCert, "--xds-tls-key", certs.ServerKey, "--xds-tls-ca", certs.CA)

	t.Log("an Envoy without a client certificate gets nothing")
	stranger := harness.StartEnvoyWith(t, rukou.XDSAddress, harness.EnvoyOptions{
		Mode: "delta", NoWait: true, BootstrapArgs: []string{"--xds-ca", certs.CA},
	})

	t.Log("an Envoy that expects another server name gets nothing either")
	misled := harness.StartEnvoyWith(t, rukou.XDSAddress, harness.EnvoyOptions{
		Mode: "delta", NoWait: true, BootstrapArgs: []string{"--xds-ca", certs.CA, "--xds-cert", certs.ClientCert, "--xds-key", certs.ClientKey,
			"--xds-server-name", "not-rukou.example"},
	})

	t.Log("an Envoy with a client certificate gets its configuration")
	envoy := harness.StartEnvoyWith(t, rukou.XDSAddress, harness.EnvoyOptions{
		Mode: "delta", BootstrapArgs: []string{"--xds-ca", certs.CA, "--xds-cert", certs.ClientCert, "--xds-key", certs.ClientKey},
	})
	harness.ExpectRoute(t, rukou.HTTPPort, "web.example", "/", http.StatusOK, "web")
	expectNoRejection(t, envoy)

	for who, e := range map[string]*harness.Envoy{"without a client certificate": stranger, "expecting another server name": misled} {
		// It tried, was refused, and tried again.
		harness.Eventually(t, 20*time.Second, "Envoy "+who+" tries twice", func() error {
			if n := envoyStats(t, e)[xdsConnections]; n < 2 {
				return fmt.Errorf("%d connections to rukou", n)
			}
			return nil
		})
		stats := envoyStats(t, e)
		for _, name := range []string{"cluster_manager.cds.update_success", "listener_manager.lds.update_success", "control_plane.connected_state"} {
			if v, ok := stats[name]; !ok || v != 0 {
				t.Errorf("Envoy %s: %s = %d (present %v), want 0", who, name, v, ok)
			}
		}
	}
	st, err := rukou.XDSStatus()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 1 || !strings.HasSuffix(st.Nodes[0].ID, t.Name()) {
		t.Errorf("/debug/xds shows nodes %+v; want only the Envoy with a certificate", st.Nodes)
	}
}

// TestXDSReadyz checks /readyz: not ready until the first configuration is
// served, ready after.
func TestXDSReadyz(t *testing.T) {
	dir := t.TempDir()
	harness.WriteManifest(t, filepath.Join(dir, "web.yaml"), manifest("web.example", "web", 1))
	rukou := harness.StartRukou(t, "--watch-dir", dir)
	harness.Eventually(t, 10*time.Second, "rukou ready", func() error {
		_, err := rukou.Ops("/readyz")
		return err
	})
	st, err := rukou.XDSStatus()
	if err != nil {
		t.Fatal(err)
	}
	// One route table, which the HTTP and the HTTPS listener (the latter
	// with the default certificate alone) both read.
	if !st.Ready || st.Generation < 1 || st.Types["routes"].Resources != 1 || st.Types["clusters"].Resources != 1 {
		t.Errorf("ready, but /debug/xds shows %+v", st)
	}
	m := rukouMetrics(t, rukou)
	for _, name := range []string{"rukou_build_info", "rukou_objects", "rukou_rebuild_duration_seconds_count", "rukou_xds_snapshot_generation", "rukou_xds_resources", "rukou_xds_streams", "rukou_xds_nodes"} {
		if !m.Has(name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	expectDocumented(t, m)
}

// expectDocumented checks that every rukou_ metric exposed is described in
// docs/metrics.md.
func expectDocumented(t *testing.T, m harness.Metrics) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(harness.Root(t), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := regexp.MustCompile("`(rukou_[a-z_]+)`").FindAllStringSubmatch(string(doc), -1)
	var names []string
	for _, d := range documented {
		names = append(names, d[1])
	}
	for _, s := range m {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.Name, "_bucket"), "_sum"), "_count")
		if strings.HasPrefix(name, "rukou_") && !slices.Contains(names, name) {
			t.Errorf("metric %s is not documented in docs/metrics.md", name)
			names = append(names, name) // once
		}
	}
}
