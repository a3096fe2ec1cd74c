package xds

import (
	"context"
	"slices"
	"testing"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_config_listener_v3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	envoy_extensions_filters_network_http_connection_manager_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_service_discovery_v3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The tests here play an Envoy that rejected the HTTPS listener (its port
// was taken): it asks for the routes of the plain listener only, and for no
// secret, until a later listeners update brings the HTTPS listener back.

// withHTTPS adds to a config an "https" listener with its route
// configuration and the default certificate, as rukou always serves them.
func withHTTPS(t *testing.T, routeTo string) *Server {
	t.Helper()
	s := newTestServer(time.Hour)
	res := config(t, routeTo, map[string]int{routeTo: 1})
	hcm, err := anypb.New(&envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager{
		StatPrefix: "https",
		RouteSpecifier: &envoy_extensions_filters_network_http_connection_manager_v3.HttpConnectionManager_Rds{
			Rds: &envoy_extensions_filters_network_http_connection_manager_v3.Rds{
				RouteConfigName: "https",
				ConfigSource:    &envoy_config_core_v3.ConfigSource{ConfigSourceSpecifier: &envoy_config_core_v3.ConfigSource_Ads{}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Listeners = append(res.Listeners, &envoy_config_listener_v3.Listener{
		Name: "https",
		FilterChains: []*envoy_config_listener_v3.FilterChain{{Filters: []*envoy_config_listener_v3.Filter{{
			Name: "envoy.filters.network.http_connection_manager", ConfigType: &envoy_config_listener_v3.Filter_TypedConfig{TypedConfig: hcm},
		}}}},
	})
	route := proto.Clone(res.Routes[0]).(*envoy_config_route_v3.RouteConfiguration)
	route.Name = "https"
	res.Routes = append(res.Routes, route)
	res.Secrets = append(res.Secrets, &envoy_extensions_transport_sockets_tls_v3.Secret{
		Name: "default-fake-certificate",
		Type: &envoy_extensions_transport_sockets_tls_v3.Secret_TlsCertificate{TlsCertificate: &envoy_extensions_transport_sockets_tls_v3.TlsCertificate{
			CertificateChain: &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineString{InlineString: "cert"}},
		}},
	})
	if err := s.Update(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	return s
}

// responses receives from a stream until it ends, so that a test can wait
// for a response with a deadline.
func responses[T any](recv func() (T, error)) <-chan T {
	out := make(chan T, 16)
	go func() {
		defer close(out)
		for {
			r, err := recv()
			if err != nil {
				return
			}
			out <- r
		}
	}()
	return out
}

// within returns the next response, or nil when none comes within d.
func within[T any](t *testing.T, in <-chan T, d time.Duration) *T {
	t.Helper()
	select {
	case r, ok := <-in:
		if !ok {
			t.Fatal("the stream ended")
		}
		return &r
	case <-time.After(d):
		return nil
	}
}

func resourceNames(t *testing.T, resp *envoy_service_discovery_v3.DiscoveryResponse) []string {
	t.Helper()
	var names []string
	for _, r := range resp.GetResources() {
		m, err := r.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, cachev3.GetResourceName(m))
	}
	slices.Sort(names)
	return names
}

// openSotwStream opens a state-of-the-world ADS stream to a server that
// serves an HTTPS listener, with the responses it receives.
func openSotwStream(t *testing.T) (envoy_service_discovery_v3.AggregatedDiscoveryService_StreamAggregatedResourcesClient, <-chan *envoy_service_discovery_v3.DiscoveryResponse) {
	t.Helper()
	s := withHTTPS(t, "blue")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	stream, err := serveADS(t, s).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return stream, responses(stream.Recv)
}

func TestStateOfTheWorldRoutesOfTheListenersEnvoyKept(t *testing.T) {
	stream, in := openSotwStream(t)
	node := &envoy_config_core_v3.Node{Id: "n"}
	if err := stream.Send(&envoy_service_discovery_v3.DiscoveryRequest{Node: node, TypeUrl: routes.url(), ResourceNames: []string{"http"}}); err != nil {
		t.Fatal(err)
	}
	first := within(t, in, 5*time.Second)
	if first == nil {
		t.Fatal("Envoy asked for the routes of the listener it kept and got no answer: the plain listener waits for routes behind the rejected one")
	}
	if got := resourceNames(t, *first); !slices.Equal(got, []string{"http"}) {
		t.Fatalf("routes sent %v, want only the one asked for, http", got)
	}

	t.Log("the HTTPS listener is accepted at last: Envoy asks for its routes too, at the version it holds")
	if err := stream.Send(&envoy_service_discovery_v3.DiscoveryRequest{
		TypeUrl: routes.url(), ResourceNames: []string{"http", "https"}, VersionInfo: (*first).GetVersionInfo(), ResponseNonce: (*first).GetNonce(),
	}); err != nil {
		t.Fatal(err)
	}
	next := within(t, in, 5*time.Second)
	if next == nil {
		t.Fatal("the routes of the listener Envoy accepted later were never sent")
	}
	if got := resourceNames(t, *next); !slices.Equal(got, []string{"http", "https"}) {
		t.Fatalf("routes sent %v, want http and https", got)
	}
}

func TestStateOfTheWorldNoSecretAskedNoneSent(t *testing.T) {
	stream, in := openSotwStream(t)
	node := &envoy_config_core_v3.Node{Id: "n"}
	// What Envoy sends once the only listener with TLS is gone: no names.
	if err := stream.Send(&envoy_service_discovery_v3.DiscoveryRequest{Node: node, TypeUrl: secrets.url()}); err != nil {
		t.Fatal(err)
	}
	if r := within(t, in, 300*time.Millisecond); r != nil {
		t.Fatalf("a request for no secret was answered with %v; Envoy ignores them and asks again, for ever", resourceNames(t, *r))
	}
	if err := stream.Send(&envoy_service_discovery_v3.DiscoveryRequest{TypeUrl: secrets.url(), ResourceNames: []string{"default-fake-certificate"}}); err != nil {
		t.Fatal(err)
	}
	r := within(t, in, 5*time.Second)
	if r == nil || !slices.Equal(resourceNames(t, *r), []string{"default-fake-certificate"}) {
		t.Fatal("the secret a listener names was not sent once Envoy asked for it")
	}
}

func TestDeltaSecretAskedLaterIsSent(t *testing.T) {
	s := withHTTPS(t, "blue")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := serveADS(t, s).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := responses(stream.Recv)
	// Envoy's first secrets request names nothing when the listener that
	// needed the secret was rejected before the request went out.
	if err := stream.Send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{Node: &envoy_config_core_v3.Node{Id: "n"}, TypeUrl: secrets.url()}); err != nil {
		t.Fatal(err)
	}
	if r := within(t, in, 300*time.Millisecond); r != nil {
		t.Fatalf("a request for no secret was answered with %d secrets, which the server then counts as delivered", len((*r).GetResources()))
	}
	if err := stream.Send(&envoy_service_discovery_v3.DeltaDiscoveryRequest{TypeUrl: secrets.url(), ResourceNamesSubscribe: []string{"default-fake-certificate"}}); err != nil {
		t.Fatal(err)
	}
	r := within(t, in, 5*time.Second)
	if r == nil || len((*r).GetResources()) != 1 || (*r).GetResources()[0].GetName() != "default-fake-certificate" {
		t.Fatal("the secret the accepted HTTPS listener names was not sent: the listener would stay warming")
	}
}

func TestRejectedListenersGoAgainWithTheNextChangeOnly(t *testing.T) {
	s := newTestServer(time.Hour)
	update(t, s, "blue", map[string]int{"blue": 1})
	envoy := connectDelta(t, s, 1, "node-1")
	envoy.receive(s, listeners, []string{"http"}, "cannot bind '127.0.0.1:8443': Address already in use")
	rejected := s.Status().Types["listeners"].Version

	update(t, s, "blue", map[string]int{"blue": 2})
	if v := s.Status().Types["listeners"].Version; v != rejected {
		t.Fatalf("an endpoint change sent the listeners again (%s): endpoint churn would make a listener rejected for good a NACK loop", v)
	}

	t.Log("a change of routes: the listeners go again once the routes do, not before")
	update(t, s, "green", map[string]int{"green": 3})
	if v := s.Status().Types["listeners"].Version; v != rejected {
		t.Fatalf("the listeners were sent again (%s) while the routes waited for the new cluster", v)
	}
	envoy.receive(s, endpoints, []string{"green"}, "")
	settle(t, s)
	again := s.Status().Types["listeners"].Version
	if again == rejected || routedTo(t, s) != "green" {
		t.Fatalf("with the new routes, listeners version %s, want the rejected listeners again under a new version", again)
	}

	t.Log("Envoy takes them: the next change leaves them be")
	envoy.receive(s, listeners, []string{"http"}, "")
	update(t, s, "blue", map[string]int{"blue": 4})
	envoy.receive(s, endpoints, []string{"blue"}, "")
	settle(t, s)
	if v := s.Status().Types["listeners"].Version; v != again || routedTo(t, s) != "blue" {
		t.Fatalf("listeners version %s after a change with no NACK since, want %s unchanged", v, again)
	}
}
