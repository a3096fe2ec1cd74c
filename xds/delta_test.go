package xds

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	envoy_config_cluster_v3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rukou/rukou/translator/envoy"
)

// The delta tests play one Envoy over a real gRPC delta ADS stream to
// go-control-plane's delta server and rukou's delta cache: the Envoy takes
// every cluster, asks for the endpoints of each cluster it holds, and
// applies what it receives. Whatever the changes, and however far behind it
// falls, what it holds must end as what rukou serves, and an endpoint
// change must reach it as that assignment alone.

type deltaClient struct {
	t      *testing.T
	stream envoy_service_discovery_v3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	in     <-chan *envoy_service_discovery_v3.DeltaDiscoveryResponse
	// held are the versions it holds, by kind and name.
	held [numKinds]map[string]string
	// got are the responses applied, by kind: resources and removals.
	got [numKinds][]*envoy_service_discovery_v3.DeltaDiscoveryResponse
	// unacked are responses taken but not acknowledged, while hold is set.
	hold    bool
	unacked []*envoy_service_discovery_v3.DeltaDiscoveryResponse
}

// openDelta opens a delta stream that subscribes to every cluster; initial
// are the versions it says it holds, by kind, as an Envoy that connects
// again does.
func openDelta(t *testing.T, s *Server, initial [numKinds]map[string]string) *deltaClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := serveADS(t, s).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &deltaClient{t: t, stream: stream, in: responses(stream.Recv)}
	for k := range numKinds {
		c.held[k] = maps.Clone(initial[k])
		if c.held[k] == nil {
			c.held[k] = map[string]string{}
		}
	}
	c.send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{
		Node: &envoy_config_core_v3.Node{Id: "delta-test"}, TypeUrl: clusters.url(), InitialResourceVersions: initial[clusters],
	})
	if len(initial[endpoints]) > 0 {
		c.send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{
			TypeUrl: endpoints.url(), ResourceNamesSubscribe: slices.Sorted(maps.Keys(initial[endpoints])), InitialResourceVersions: initial[endpoints],
		})
	}
	return c
}

func (c *deltaClient) send(req *envoy_service_discovery_v3.DeltaDiscoveryRequest) {
	c.t.Helper()
	if err := c.stream.Send(req); err != nil {
		c.t.Fatal(err)
	}
}

// apply takes one response: it updates what the client holds, subscribes
// to the endpoints of new clusters and drops those of removed ones, and
// acknowledges it unless the client holds its acknowledgements.
func (c *deltaClient) apply(resp *envoy_service_discovery_v3.DeltaDiscoveryResponse) {
	c.t.Helper()
	k, ok := kindOf(resp.GetTypeUrl())
	if !ok {
		c.t.Fatalf("a response of type %s", resp.GetTypeUrl())
	}
	c.got[k] = append(c.got[k], resp)
	var added []string
	for _, r := range resp.GetResources() {
		if _, had := c.held[k][r.GetName()]; !had {
			added = append(added, r.GetName())
		}
		c.held[k][r.GetName()] = r.GetVersion()
	}
	// A removal of endpoints it dropped with their cluster is no error:
	// the response may have left before its unsubscription arrived, and
	// Envoy ignores it.
	for _, name := range resp.GetRemovedResources() {
		delete(c.held[k], name)
	}
	if c.hold {
		c.unacked = append(c.unacked, resp)
		return
	}
	c.ack(resp)
	if k == clusters && (len(added) > 0 || len(resp.GetRemovedResources()) > 0) {
		c.send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{
			TypeUrl: endpoints.url(), ResourceNamesSubscribe: added, ResourceNamesUnsubscribe: resp.GetRemovedResources(),
		})
		for _, name := range resp.GetRemovedResources() {
			delete(c.held[endpoints], name)
		}
	}
}

func (c *deltaClient) ack(resp *envoy_service_discovery_v3.DeltaDiscoveryResponse) {
	c.send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()})
}

// release acknowledges the responses held back.
func (c *deltaClient) release() {
	c.hold = false
	for _, resp := range c.unacked {
		c.ack(resp)
	}
	c.unacked = nil
}

// settle applies responses until the client holds what s serves of
// clusters and endpoints, for at most 5 s.
func (c *deltaClient) settle(s *Server) {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for !c.holdsServed(s) {
		select {
		case resp, ok := <-c.in:
			if !ok {
				c.t.Fatal("the stream ended")
			}
			c.apply(resp)
		case <-deadline:
			c.t.Fatalf("after 5 s the client holds other versions than served of clusters %v and of endpoints %v",
				differing(c.held[clusters], versionsOf(c.t, s, clusters)), differing(c.held[endpoints], versionsOf(c.t, s, endpoints)))
		}
	}
}

func (c *deltaClient) holdsServed(s *Server) bool {
	return maps.Equal(c.held[clusters], versionsOf(c.t, s, clusters)) && maps.Equal(c.held[endpoints], versionsOf(c.t, s, endpoints))
}

// differing are the names whose versions differ between a and b.
func differing(a, b map[string]string) []string {
	var out []string
	for name := range maps.Keys(a) {
		if v, ok := b[name]; !ok || v != a[name] {
			out = append(out, name)
		}
	}
	for name := range maps.Keys(b) {
		if _, ok := a[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// quiet says that no response comes within d.
func (c *deltaClient) quiet(d time.Duration) {
	c.t.Helper()
	if resp := within(c.t, c.in, d); resp != nil {
		c.t.Fatalf("an unexpected %s response: %d resources, %d removed", (*resp).GetTypeUrl(), len((*resp).GetResources()), len((*resp).GetRemovedResources()))
	}
}

// deltaWatches counts the delta watches s holds open.
func deltaWatches(s *Server) int {
	return s.cache.snapshots.(nackCache).SnapshotCache.(splitCache).delta.watching()
}

// fleetConfig follows a set of clusters and their endpoints' ports through
// changes.
type fleetConfig struct {
	t     *testing.T
	ports map[string]int
	res   *envoy.Resources
}

func newFleetConfig(t *testing.T, n int) *fleetConfig {
	f := &fleetConfig{t: t, ports: map[string]int{}}
	for i := range n {
		f.ports[fmt.Sprintf("c%03d", i)] = 1000 + i
	}
	f.res = config(t, "c000", f.ports)
	return f
}

// moveEndpoints gives the clusters names new ports, in a translation that
// shares every other resource with the one before, as the translator's
// endpoint path makes it.
func (f *fleetConfig) moveEndpoints(names ...string) *envoy.Resources {
	for _, name := range names {
		f.ports[name]++
	}
	fresh := config(f.t, "c000", f.ports)
	next := *f.res
	next.Endpoints = slices.Clone(f.res.Endpoints)
	for i, cla := range next.Endpoints {
		if slices.Contains(names, cla.ClusterName) {
			next.Endpoints[i] = fresh.Endpoints[i]
		}
	}
	f.res = &next
	return f.res
}

// setClusters makes the clusters those of ports, in a new translation.
func (f *fleetConfig) setClusters(ports map[string]int) *envoy.Resources {
	f.ports = ports
	f.res = config(f.t, "c000", f.ports)
	return f.res
}

func TestDeltaEndpointChangeSendsThatAssignmentAlone(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(time.Hour)
	f := newFleetConfig(t, 200)
	if err := s.Update(ctx, f.res); err != nil {
		t.Fatal(err)
	}
	c := openDelta(t, s, [numKinds]map[string]string{})
	c.settle(s)
	if n := len(c.held[endpoints]); n != 200 {
		t.Fatalf("the client holds %d assignments, want 200", n)
	}

	for i := range 20 {
		name := fmt.Sprintf("c%03d", (i*37)%200)
		before := [numKinds]int{len(c.got[clusters]), len(c.got[endpoints])}
		if err := s.Update(ctx, f.moveEndpoints(name)); err != nil {
			t.Fatal(err)
		}
		c.settle(s)
		c.quiet(50 * time.Millisecond)
		if n := len(c.got[clusters]) - before[0]; n != 0 {
			t.Errorf("change %d: %d cluster responses for an endpoint change", i, n)
		}
		eds := c.got[endpoints][before[1]:]
		if len(eds) != 1 || len(eds[0].GetResources()) != 1 || eds[0].GetResources()[0].GetName() != name || len(eds[0].GetRemovedResources()) != 0 {
			t.Fatalf("change %d of %s: endpoint responses %v, want that one assignment", i, name, eds)
		}
	}
}

func TestDeltaStreamFollowsChangesAndCatchesUp(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(time.Hour)
	f := newFleetConfig(t, 40)
	if err := s.Update(ctx, f.res); err != nil {
		t.Fatal(err)
	}
	c := openDelta(t, s, [numKinds]map[string]string{})
	c.settle(s)
	rng := rand.New(rand.NewPCG(1, 2))

	// Endpoint changes and cluster changes, mixed; the client follows.
	for i := range 60 {
		if i%5 == 4 {
			ports := maps.Clone(f.ports)
			delete(ports, slices.Sorted(maps.Keys(ports))[1+rng.IntN(len(ports)-1)])
			ports[fmt.Sprintf("n%03d", i)] = 2000 + i
			if err := s.Update(ctx, f.setClusters(ports)); err != nil {
				t.Fatal(err)
			}
		} else {
			names := slices.Sorted(maps.Keys(f.ports))
			if err := s.Update(ctx, f.moveEndpoints(names[rng.IntN(len(names))], names[rng.IntN(len(names))])); err != nil {
				t.Fatal(err)
			}
		}
		c.settle(s)
	}

	// Far behind: more changes than the cache keeps go by while the client
	// holds its acknowledgements, so it gets no watch; then it catches up.
	c.hold = true
	for range deltaSteps + 10 {
		names := slices.Sorted(maps.Keys(f.ports))
		if err := s.Update(ctx, f.moveEndpoints(names[rng.IntN(len(names))])); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 {
		if resp := within(t, c.in, 20*time.Millisecond); resp != nil {
			c.apply(*resp)
		}
		if len(c.unacked) > 0 && deltaWatches(s) == 1 {
			break // the endpoint response went out; the clusters still wait
		}
	}
	c.release()
	c.settle(s)

	// A few behind: the changes kept are enough.
	c.hold = true
	for i := range 3 {
		if err := s.Update(ctx, f.moveEndpoints(slices.Sorted(maps.Keys(f.ports))[i])); err != nil {
			t.Fatal(err)
		}
	}
	if resp := within(t, c.in, 5*time.Second); resp != nil {
		c.apply(*resp)
	}
	c.release()
	c.settle(s)
}

func TestDeltaEnvoyThatConnectsAgainGetsOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	f := newFleetConfig(t, 30)
	s := newTestServer(time.Hour)
	if err := s.Update(ctx, f.res); err != nil {
		t.Fatal(err)
	}
	first := openDelta(t, s, [numKinds]map[string]string{})
	first.settle(s)

	// rukou restarts, with one assignment changed meanwhile; the Envoy
	// connects again naming the versions it holds.
	again := newTestServer(time.Hour)
	if err := again.Update(ctx, f.moveEndpoints("c007")); err != nil {
		t.Fatal(err)
	}
	c := openDelta(t, again, first.held)
	c.settle(again)
	c.quiet(100 * time.Millisecond)
	if n := len(c.got[clusters]); n != 1 || len(c.got[clusters][0].GetResources()) != 0 {
		t.Errorf("the clusters it holds were sent again: %d responses, the first with %d clusters", n, len(c.got[clusters][0].GetResources()))
	}
	var sent []string
	for _, resp := range c.got[endpoints] {
		for _, r := range resp.GetResources() {
			sent = append(sent, r.GetName())
		}
	}
	if !slices.Equal(sent, []string{"c007"}) {
		t.Errorf("assignments sent after connecting again: %v, want the changed c007 alone", sent)
	}
}

// TestDeltaClusterChangedInPlaceGoesBeforeItsEndpoints: Envoy warms a
// cluster changed in place with endpoints that arrive after it, so the
// cluster's response must come first.
func TestDeltaClusterChangedInPlaceGoesBeforeItsEndpoints(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(time.Hour)
	f := newFleetConfig(t, 5)
	if err := s.Update(ctx, f.res); err != nil {
		t.Fatal(err)
	}
	c := openDelta(t, s, [numKinds]map[string]string{})
	c.settle(s)
	waitFor(t, "both watches open", func() bool {
		return deltaWatches(s) == 2
	})

	next := *f.res
	next.Clusters = slices.Clone(f.res.Clusters)
	changed := proto.Clone(next.Clusters[2]).(*envoy_config_cluster_v3.Cluster)
	changed.ConnectTimeout = durationpb.New(7 * time.Second)
	next.Clusters[2] = changed
	if err := s.Update(ctx, &next); err != nil {
		t.Fatal(err)
	}
	var order []string
	for range 2 {
		resp := within(t, c.in, 5*time.Second)
		if resp == nil {
			t.Fatalf("responses after the cluster changed: %v, want two", order)
		}
		k, _ := kindOf((*resp).GetTypeUrl())
		for _, r := range (*resp).GetResources() {
			order = append(order, k.String()+" "+r.GetName())
		}
		c.apply(*resp)
	}
	if want := []string{"clusters c002", "endpoints c002"}; !slices.Equal(order, want) {
		t.Errorf("sent %v, want %v", order, want)
	}
	c.settle(s)
}
