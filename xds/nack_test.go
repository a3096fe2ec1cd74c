package xds

import (
	"context"
	"net"
	"testing"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// serveADS runs s on a loopback port and returns an ADS client for it.
func serveADS(t *testing.T, s *Server) envoy_service_discovery_v3.AggregatedDiscoveryServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lis) }()
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return envoy_service_discovery_v3.NewAggregatedDiscoveryServiceClient(conn)
}

// waitFor polls cond every 10 ms for at most 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not true after 5 s", what)
}

// waiting reports whether the cache holds an open watch of the fleet: it
// waits for a new snapshot rather than answering the last request.
func waiting(s *Server, delta bool) bool {
	if delta {
		return deltaWatches(s) > 0
	}
	info := s.cache.snapshots.GetStatusInfo(fleet)
	return info != nil && info.GetNumWatches() > 0
}

// The NACK tests play one Envoy over a real gRPC stream to go-control-plane's
// server: the Envoy rejects the endpoints it got, and the next thing it
// receives must be the next configuration, not the rejected one again.
// Without the wait in between, the cache resends at once and for ever.

func TestNACKedStateOfTheWorldIsNotResent(t *testing.T) {
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := serveADS(t, s).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ask := &envoy_service_discovery_v3.DiscoveryRequest{Node: &envoy_config_core_v3.Node{Id: "n"}, TypeUrl: endpoints.url(), ResourceNames: []string{"blue"}}
	if err := stream.Send(ask); err != nil {
		t.Fatal(err)
	}
	rejected, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&envoy_service_discovery_v3.DiscoveryRequest{
		TypeUrl: endpoints.url(), ResourceNames: []string{"blue"}, ResponseNonce: rejected.GetNonce(),
		VersionInfo: "", // Envoy holds no accepted version yet
		ErrorDetail: &statuspb.Status{Message: "rejected by the test"},
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cache waits for a new snapshot after the NACK, instead of resending the rejected one", func() bool { return waiting(s, false) })

	update(t, s, "blue", map[string]int{"blue": 2})
	next, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if next.GetVersionInfo() == rejected.GetVersionInfo() {
		t.Fatalf("the rejected endpoints version %s was sent again", rejected.GetVersionInfo())
	}
	if want := s.Status().Types["endpoints"].Version; next.GetVersionInfo() != want {
		t.Errorf("after the NACK Envoy got version %s, want the new %s", next.GetVersionInfo(), want)
	}

	t.Log("Envoy accepts the next configuration")
	if err := stream.Send(&envoy_service_discovery_v3.DiscoveryRequest{
		TypeUrl: endpoints.url(), ResourceNames: []string{"blue"}, ResponseNonce: next.GetNonce(), VersionInfo: next.GetVersionInfo(),
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ACK is recorded", func() bool {
		st := s.Status()
		return len(st.Nodes) == 1 && st.Nodes[0].Acked["endpoints"] == next.GetVersionInfo()
	})
	if n := counter(t, s, "rukou_xds_nacks_total", "endpoints"); n != 1 {
		t.Errorf("endpoint NACKs counted: %v, want 1", n)
	}
}

func TestNACKedDeltaIsNotResent(t *testing.T) {
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := serveADS(t, s).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{
		Node: &envoy_config_core_v3.Node{Id: "n"}, TypeUrl: endpoints.url(), ResourceNamesSubscribe: []string{"blue"},
	}); err != nil {
		t.Fatal(err)
	}
	rejected, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{
		TypeUrl: endpoints.url(), ResponseNonce: rejected.GetNonce(), ErrorDetail: &statuspb.Status{Message: "rejected by the test"},
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cache waits for a new snapshot after the NACK, instead of resending the rejected one", func() bool { return waiting(s, true) })

	update(t, s, "blue", map[string]int{"blue": 2})
	next, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(next.GetResources()) != 1 || len(rejected.GetResources()) != 1 {
		t.Fatalf("responses carry %d then %d assignments, want 1 each", len(rejected.GetResources()), len(next.GetResources()))
	}
	if got, old := next.GetResources()[0].GetVersion(), rejected.GetResources()[0].GetVersion(); got == old {
		t.Fatalf("the rejected assignment version %s was sent again", old)
	}
	if n := counter(t, s, "rukou_xds_nacks_total", "endpoints"); n != 1 {
		t.Errorf("endpoint NACKs counted: %v, want 1", n)
	}
}
