package xds

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_extensions_filters_network_tcp_proxy_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/prometheus/client_golang/prometheus"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rukou/rukou/translator/envoy"
)

// config is a small translation: one listener and route configuration that
// send every request to cluster routeTo, and an EDS cluster with one
// endpoint per port for each name in clusters.
func config(t *testing.T, routeTo string, clusterPorts map[string]int) *envoy.Resources {
	t.Helper()
	ads := &envoy_config_core_v3.ConfigSource{ConfigSourceSpecifier: &envoy_config_core_v3.ConfigSource_Ads{}}
	hcm, err := anypb.New(&envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager{
		StatPrefix: "http",
		RouteSpecifier: &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_Rds{
			Rds: &envoy_extensions_filters_network_http_connection_manager_v3.Rds{RouteConfigName: "http", ConfigSource: ads},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := &envoy.Resources{
		Listeners: []*envoy_config_listener_v3.Listener{{
			Name: "http",
			FilterChains: []*envoy_config_listener_v3.FilterChain{{Filters: []*envoy_config_listener_v3.Filter{{
				Name: "envoy.filters.network.http_connection_manager", ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: hcm},
			}}}},
		}},
		Routes: []*envoy_config_route_v3.RouteConfiguration{{
			Name: "http",
			VirtualHosts: []*envoy_config_route_v3.VirtualHost{{Name: "web", Domains: []string{"*"}, Routes: []*envoy_config_route_v3.Route{{
				Match:  &envoy_config_route_v3.RouteMatch{PathSpecifier: &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &envoy_config_route_v3.Route_Route{Route: &envoy_config_route_v3.RouteAction{ClusterSpecifier: &envoy_config_route_v3.RouteAction_Cluster{Cluster: routeTo}}},
			}}}},
		}},
	}
	names := make([]string, 0, len(clusterPorts))
	for name := range clusterPorts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		res.Clusters = append(res.Clusters, &envoy_config_cluster_v3.Cluster{
			Name:                 name,
			ClusterDiscoveryType: &envoy_config_cluster_v3.Cluster_Type{Type: envoy_config_cluster_v3.Cluster_EDS},
			EdsClusterConfig:     &envoy_config_cluster_v3.Cluster_EdsClusterConfig{EdsConfig: ads, ServiceName: name},
		})
		res.Endpoints = append(res.Endpoints, &envoy_config_endpoint_v3.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints: []*envoy_config_endpoint_v3.LocalityLbEndpoints{{LbEndpoints: []*envoy_config_endpoint_v3.LbEndpoint{{
				HostIdentifier: &envoy_config_endpoint_v3.LbEndpoint_Endpoint{Endpoint: &envoy_config_endpoint_v3.Endpoint{
					Address: &envoy_config_core_v3.Address{Address: &envoy_config_core_v3.Address_SocketAddress{SocketAddress: &envoy_config_core_v3.SocketAddress{
						Address: "127.0.0.1", PortSpecifier: &envoy_config_core_v3.SocketAddress_PortValue{PortValue: uint32(clusterPorts[name])},
					}}},
				}},
			}}}},
		})
	}
	return res
}

// counter reads the value of the server's counter name with the given label
// values.
func counter(t *testing.T, s *Server, name string, labelValues ...string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i, l := range m.GetLabel() {
				if i >= len(labelValues) || l.GetValue() != labelValues[i] {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func newTestServer(hold time.Duration) *Server {
	return New(slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Hold: hold})
}

// served returns the names of the resources of kind k in the snapshot set.
func served(t *testing.T, s *Server, k kind) []string {
	t.Helper()
	snap, err := s.cache.snapshots.GetSnapshot(fleet)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range snap.GetResources(k.url()) {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// routedTo returns the cluster the served route configuration sends to.
func routedTo(t *testing.T, s *Server) string {
	t.Helper()
	snap, err := s.cache.snapshots.GetSnapshot(fleet)
	if err != nil {
		t.Fatal(err)
	}
	// What an Envoy would get: the encoding go-control-plane sends.
	b, err := cachev3.MarshalResource(snap.GetResources(routes.url())["http"])
	if err != nil {
		t.Fatal(err)
	}
	rc := &envoy_config_route_v3.RouteConfiguration{}
	if err := proto.Unmarshal(b, rc); err != nil {
		t.Fatal(err)
	}
	return rc.VirtualHosts[0].Routes[0].GetRoute().GetCluster()
}

// envoy plays one Envoy's side of a delta ADS stream on the server's
// callbacks: it receives what the test says was sent and acknowledges it.
type deltaEnvoy struct {
	t     *testing.T
	cb    callbacks
	id    int64
	nonce int
}

func connectDelta(t *testing.T, s *Server, id int64, node string) *deltaEnvoy {
	e := &deltaEnvoy{t: t, cb: callbacks{s}, id: id}
	if err := e.cb.OnDeltaStreamOpen(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	// The first request names the node, as Envoy's does.
	if err := e.cb.OnStreamDeltaRequest(id, &envoy_service_discovery_v3.DeltaDiscoveryRequest{
		Node: &envoy_config_core_v3.Node{Id: node}, TypeUrl: clusters.url(),
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// receive records a response of kind k with the served version and the
// given resource names, and answers it: an ACK, or a NACK with errMsg.
func (e *deltaEnvoy) receive(s *Server, k kind, names []string, errMsg string) {
	e.t.Helper()
	e.nonce++
	nonce := strconv.Itoa(e.nonce)
	resp := &envoy_service_discovery_v3.DeltaDiscoveryResponse{TypeUrl: k.url(), Nonce: nonce, SystemVersionInfo: s.Status().Types[k.String()].Version}
	for _, n := range names {
		resp.Resources = append(resp.Resources, &envoy_service_discovery_v3.Resource{Name: n})
	}
	e.cb.OnStreamDeltaResponse(e.id, nil, resp)
	req := &envoy_service_discovery_v3.DeltaDiscoveryRequest{TypeUrl: k.url(), ResponseNonce: nonce}
	if errMsg != "" {
		req.ErrorDetail = &statuspb.Status{Message: errMsg}
	}
	if err := e.cb.OnStreamDeltaRequest(e.id, req); err != nil {
		e.t.Fatal(err)
	}
}

// update serves a configuration that routes to routeTo.
func update(t *testing.T, s *Server, routeTo string, clusterPorts map[string]int) {
	t.Helper()
	if err := s.Update(context.Background(), config(t, routeTo, clusterPorts)); err != nil {
		t.Fatal(err)
	}
}

// repointing returns a server that routes to blue, with one delta Envoy
// that acknowledged those routes, and that has just been told to route to
// green instead.
func repointing(t *testing.T, hold time.Duration) (*Server, *deltaEnvoy) {
	t.Helper()
	s := newTestServer(hold)
	update(t, s, "blue", map[string]int{"blue": 1})
	envoy := connectDelta(t, s, 1, "node-1")
	envoy.receive(s, routes, []string{"http"}, "")
	update(t, s, "green", map[string]int{"green": 2})
	return s, envoy
}

func settle(t *testing.T, s *Server) {
	t.Helper()
	if err := s.cache.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestMakeBeforeBreakOrdersARepoint(t *testing.T) {
	s, envoy := repointing(t, time.Hour)
	if got := served(t, s, clusters); !slices.Equal(got, []string{"blue", "green"}) {
		t.Fatalf("make: clusters served %v, want the new one beside the old one", got)
	}
	if got := served(t, s, endpoints); !slices.Equal(got, []string{"blue", "green"}) {
		t.Fatalf("make: endpoints served %v, want the new cluster's too", got)
	}
	if got := routedTo(t, s); got != "blue" {
		t.Fatalf("routes switched to %q before Envoy warmed the new cluster", got)
	}
	settle(t, s)
	if got := routedTo(t, s); got != "blue" {
		t.Fatalf("routes switched to %q without an acknowledgement", got)
	}

	t.Log("Envoy acknowledges the new cluster's endpoints: the routes follow")
	envoy.receive(s, endpoints, []string{"green"}, "")
	settle(t, s)
	if got := routedTo(t, s); got != "green" {
		t.Fatalf("routes still go to %q after the new cluster was warm", got)
	}
	if got := served(t, s, clusters); !slices.Equal(got, []string{"blue", "green"}) {
		t.Fatalf("break too early: clusters served %v before Envoy acknowledged the new routes", got)
	}
	if st := s.Status(); len(st.Retained) != 1 || st.Retained[0].Name != "blue" {
		t.Errorf("/debug/xds retained %+v, want blue", st.Retained)
	}

	t.Log("Envoy acknowledges the new routes: the old cluster goes")
	envoy.receive(s, routes, []string{"http"}, "")
	settle(t, s)
	if got := served(t, s, clusters); !slices.Equal(got, []string{"green"}) {
		t.Fatalf("clusters served %v after the routes were acknowledged, want green only", got)
	}
	if got := served(t, s, endpoints); !slices.Equal(got, []string{"green"}) {
		t.Fatalf("endpoints served %v, want green only: state of the world needs exactly the clusters' assignments", got)
	}
	if n := counter(t, s, "rukou_xds_hold_timeouts_total", "routes") + counter(t, s, "rukou_xds_hold_timeouts_total", "clusters"); n != 0 {
		t.Errorf("%v hold timeouts", n)
	}
}

func TestMakeBeforeBreakWaitsForEveryNode(t *testing.T) {
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1})
	fast, slow := connectDelta(t, s, 1, "fast"), connectDelta(t, s, 2, "slow")
	update(t, s, "green", map[string]int{"green": 2})
	fast.receive(s, endpoints, []string{"green"}, "")
	settle(t, s)
	if got := routedTo(t, s); got != "blue" {
		t.Fatalf("routes switched to %q while node slow had not warmed green", got)
	}
	slow.receive(s, endpoints, []string{"green"}, "")
	settle(t, s)
	if got := routedTo(t, s); got != "green" {
		t.Fatalf("routes still go to %q after every node warmed green", got)
	}
	fast.receive(s, routes, []string{"http"}, "")
	slow.receive(s, routes, []string{"http"}, "")
	settle(t, s)
	if got := served(t, s, clusters); !slices.Equal(got, []string{"green"}) {
		t.Fatalf("clusters served %v", got)
	}

	t.Log("a node that leaves is not waited for")
	update(t, s, "blue", map[string]int{"blue": 1})
	fast.receive(s, endpoints, []string{"blue"}, "")
	fast.cb.OnDeltaStreamClosed(2, &envoy_config_core_v3.Node{Id: "slow"})
	settle(t, s)
	if got := routedTo(t, s); got != "blue" {
		t.Fatalf("routes still go to %q after the slow node left", got)
	}
}

// TestMakeBeforeBreakIsBoundedInTime runs the server's settle loop on a
// fake clock (a synctest bubble): an Envoy that acknowledges nothing more
// holds each step for DefaultHold, and no longer.
func TestMakeBeforeBreakIsBoundedInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := repointing(t, DefaultHold) // the Envoy acknowledges nothing more
		go s.settle(t.Context())
		time.Sleep(DefaultHold - time.Second)
		synctest.Wait()
		if got := routedTo(t, s); got != "blue" {
			t.Fatalf("routes switched to %q before the hold ran out", got)
		}
		// The loop looks every second, so the step follows within one.
		time.Sleep(time.Second)
		synctest.Wait()
		if got := routedTo(t, s); got != "green" {
			t.Fatalf("routes still go to %q after the hold ran out", got)
		}
		if got := served(t, s, clusters); !slices.Equal(got, []string{"blue", "green"}) {
			t.Fatalf("clusters served %v: blue went with the routes that used it", got)
		}
		time.Sleep(DefaultHold + time.Second)
		synctest.Wait()
		if got := served(t, s, clusters); !slices.Equal(got, []string{"green"}) {
			t.Fatalf("clusters served %v after the hold ran out", got)
		}
		for _, step := range []string{"routes", "clusters"} {
			if n := counter(t, s, "rukou_xds_hold_timeouts_total", step); n != 1 {
				t.Errorf("hold timeouts for %s: %v, want 1", step, n)
			}
		}
	})
}

func TestEndpointChangeIsServedAtOnceAndAlone(t *testing.T) {
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1, "green": 2})
	connectDelta(t, s, 1, "node-1") // acknowledges nothing: an endpoint change must not wait
	before := s.Status()

	t.Log("the same content in new objects is not a new snapshot")
	update(t, s, "blue", map[string]int{"blue": 1, "green": 2})
	if st := s.Status(); st.Generation != before.Generation {
		t.Errorf("identical content made generation %d from %d", st.Generation, before.Generation)
	}

	update(t, s, "blue", map[string]int{"blue": 3, "green": 2})
	after := s.Status()
	if after.Generation != before.Generation+1 {
		t.Errorf("generation %d after an endpoint change, want %d", after.Generation, before.Generation+1)
	}
	for typ, ts := range after.Types {
		changed := ts.Version != before.Types[typ].Version
		if changed != (typ == "endpoints") {
			t.Errorf("%s version changed: %v (%s -> %s)", typ, changed, before.Types[typ].Version, ts.Version)
		}
	}
	snap, _ := s.cache.snapshots.GetSnapshot(fleet)
	vm := snap.GetVersionMap(endpoints.url())
	s2 := newTestServer(time.Hour)
	update(t, s2, "blue", map[string]int{"blue": 1, "green": 2})
	snap2, _ := s2.cache.snapshots.GetSnapshot(fleet)
	vm2 := snap2.GetVersionMap(endpoints.url())
	if vm["green"] != vm2["green"] || vm["blue"] == vm2["blue"] {
		t.Errorf("per-resource versions: green %s vs %s (want equal), blue %s vs %s (want different)", vm["green"], vm2["green"], vm["blue"], vm2["blue"])
	}
}

// TestSameContentReplacesTheObjectsServed: a translation that changed
// nothing is no new snapshot, but its objects take the place of the old
// ones in the cache Envoys are served from, so that the old translation is
// not kept in memory beside the new one; the versions stay.
func TestSameContentReplacesTheObjectsServed(t *testing.T) {
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1})
	before := s.Status()
	next := config(t, "blue", map[string]int{"blue": 1})
	if err := s.Update(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.Generation != before.Generation || !maps.Equal(st.Types, before.Types) {
		t.Errorf("identical content changed the snapshot: %+v, was %+v", st, before)
	}
	snap, err := s.cache.snapshots.GetSnapshot(fleet)
	if err != nil {
		t.Fatal(err)
	}
	got := snap.GetResources(routes.url())["http"]
	if e, ok := got.(*encoded); !ok || e.Resource != types.Resource(next.Routes[0]) {
		t.Error("the cache still serves the previous translation's route configuration")
	}
	if got := snap.GetResources(clusters.url())["blue"]; got != types.Resource(next.Clusters[0]) {
		t.Error("the cache still serves the previous translation's cluster")
	}
}

// TestNACKIsRecorded checks the book and the metrics; nack_test.go checks
// that a NACK is not answered with the rejected configuration.
func TestNACKIsRecorded(t *testing.T) {
	s := newTestServer(time.Hour)
	ctx := context.Background()
	update(t, s, "blue", map[string]int{"blue": 1})
	cb := callbacks{s}
	if err := cb.OnStreamOpen(ctx, 7, ""); err != nil {
		t.Fatal(err)
	}
	version := s.Status().Types["listeners"].Version
	if err := cb.OnStreamRequest(7, &envoy_service_discovery_v3.DiscoveryRequest{Node: &envoy_config_core_v3.Node{Id: "n"}, TypeUrl: listeners.url()}); err != nil {
		t.Fatal(err)
	}
	cb.OnStreamResponse(ctx, 7, nil, &envoy_service_discovery_v3.DiscoveryResponse{TypeUrl: listeners.url(), VersionInfo: version, Nonce: "1"})
	nack := &envoy_service_discovery_v3.DiscoveryRequest{
		Node: &envoy_config_core_v3.Node{Id: "n"}, TypeUrl: listeners.url(), ResponseNonce: "1",
		VersionInfo: "", // Envoy holds no accepted version yet
		ErrorDetail: &statuspb.Status{Message: "cannot bind"},
	}
	if err := cb.OnStreamRequest(7, nack); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, s, "rukou_xds_nacks_total", "listeners"); n != 1 {
		t.Errorf("listener NACKs counted: %v", n)
	}
	st := s.Status()
	if len(st.Nodes) != 1 || st.Nodes[0].LastNACK == nil {
		t.Fatalf("nodes %+v: want n with its NACK", st.Nodes)
	}
	if got := *st.Nodes[0].LastNACK; got.Type != "listeners" || got.Version != version || got.Nonce != "1" || got.Message != "cannot bind" {
		t.Errorf("last NACK %+v", got)
	}
	if _, ok := st.Nodes[0].Acked["listeners"]; ok {
		t.Errorf("a rejected version counts as acknowledged: %v", st.Nodes[0].Acked)
	}

	t.Log("an ACK of a later response is recorded")
	cb.OnStreamResponse(ctx, 7, nil, &envoy_service_discovery_v3.DiscoveryResponse{TypeUrl: clusters.url(), VersionInfo: "v2", Nonce: "2"})
	if err := cb.OnStreamRequest(7, &envoy_service_discovery_v3.DiscoveryRequest{TypeUrl: clusters.url(), ResponseNonce: "2", VersionInfo: "v2"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Status().Nodes[0].Acked["clusters"]; got != "v2" {
		t.Errorf("acked clusters %q, want v2", got)
	}
	cb.OnStreamClosed(7, &envoy_config_core_v3.Node{Id: "n"})
	if st := s.Status(); len(st.Nodes) != 0 {
		t.Errorf("a closed stream's node is still listed: %+v", st.Nodes)
	}
}

func TestMakeBeforeBreakDropsAClusterNoRouteEverUsed(t *testing.T) {
	s, _ := repointing(t, time.Hour)
	t.Log("the change is undone before Envoy warmed green")
	update(t, s, "blue", map[string]int{"blue": 1})
	settle(t, s)
	if got := served(t, s, clusters); !slices.Equal(got, []string{"blue"}) {
		t.Fatalf("clusters served %v; green was never routed to and should go without waiting", got)
	}
	if got := routedTo(t, s); got != "blue" {
		t.Fatalf("routes go to %q", got)
	}
}

// TestMakeBeforeBreakWaitsForListeners: a TCP proxy names its cluster in
// its listener, not in a route. When only a listener moves to another
// cluster, the old cluster stays until every Envoy has acknowledged the
// new listeners, though the routes did not change.
func TestMakeBeforeBreakWaitsForListeners(t *testing.T) {
	withTCP := func(to string) *envoy.Resources {
		res := config(t, "web", map[string]int{"web": 1, to: 2})
		tcp, err := anypb.New(&envoy_extensions_filters_network_tcp_proxy_v3.TcpProxy{
			StatPrefix: "tcp", ClusterSpecifier: &envoy_extensions_filters_network_tcp_proxy_v3.TcpProxy_Cluster{Cluster: to},
		})
		if err != nil {
			t.Fatal(err)
		}
		res.Listeners = append(res.Listeners, &envoy_config_listener_v3.Listener{
			Name: "tcp-5432",
			FilterChains: []*envoy_config_listener_v3.FilterChain{{Filters: []*envoy_config_listener_v3.Filter{{
				Name: "envoy.filters.network.tcp_proxy", ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: tcp},
			}}}},
		})
		return res
	}
	s := newTestServer(time.Hour)
	if err := s.Update(context.Background(), withTCP("blue")); err != nil {
		t.Fatal(err)
	}
	envoy := connectDelta(t, s, 1, "node-1")
	envoy.receive(s, listeners, []string{"http", "tcp-5432"}, "")
	envoy.receive(s, routes, []string{"http"}, "")
	if err := s.Update(context.Background(), withTCP("green")); err != nil {
		t.Fatal(err)
	}
	envoy.receive(s, endpoints, []string{"green"}, "")
	settle(t, s)
	settle(t, s)
	if got := served(t, s, clusters); !slices.Equal(got, []string{"blue", "green", "web"}) {
		t.Fatalf("clusters served %v before Envoy acknowledged the listener that moved to green, want blue kept", got)
	}

	t.Log("Envoy acknowledges the new listeners: the old cluster goes")
	envoy.receive(s, listeners, []string{"tcp-5432"}, "")
	settle(t, s)
	if got := served(t, s, clusters); !slices.Equal(got, []string{"green", "web"}) {
		t.Fatalf("clusters served %v after the listeners were acknowledged, want blue gone", got)
	}
}

// TestClusterChangedInPlaceResendsItsEndpoints: Envoy warms an EDS cluster
// changed in place only when its endpoints come again, so their version
// follows the cluster's; the other clusters' endpoints keep theirs.
func TestClusterChangedInPlaceResendsItsEndpoints(t *testing.T) {
	versions := func(s *Server) map[string]string {
		snap, err := s.cache.snapshots.GetSnapshot(fleet)
		if err != nil {
			t.Fatal(err)
		}
		return snap.GetVersionMap(endpoints.url())
	}
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1, "green": 2})
	before := versions(s)
	res := config(t, "blue", map[string]int{"blue": 1, "green": 2})
	res.Clusters[0].ConnectTimeout = durationpb.New(7 * time.Second) // blue, in place
	if err := s.Update(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	after := versions(s)
	if after["blue"] == before["blue"] || after["green"] != before["green"] {
		t.Errorf("endpoint versions: blue %s -> %s (want changed), green %s -> %s (want kept)", before["blue"], after["blue"], before["green"], after["green"])
	}
}
