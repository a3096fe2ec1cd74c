package envoy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/rukou/rukou/translator/ir"
)

// TestVariantIsTheRouteRendered: the two routes that renderRoutes makes of
// a route whose retries on statuses are for idempotent methods only are
// what rendering the derived model routes whole gives, for a route that
// sets every field a route may carry: first every method but POST, PATCH
// and LOCK with every retry, then any method with connection retries
// only; both without the replay filter.
func TestVariantIsTheRouteRendered(t *testing.T) {
	r := &ir.Route{
		Match: ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/api"}, Headers: []ir.HeaderMatch{{Name: "x-canary", Exact: "1"}}},
		Forward: &ir.Forward{
			Backends:    []ir.WeightedCluster{{Cluster: "a", Weight: 90, CookieTag: "t1"}, {Cluster: "b", Weight: 10}},
			HostRewrite: "internal", IdleTimeout: ir.Duration(5e9), StreamIdleTimeout: ir.Duration(7e9), Timeout: ir.Duration(9e9),
			PathRewrite:   &ir.RegexRewrite{Pattern: "^/api(.*)", Substitution: `\1`},
			SessionCookie: &ir.SessionCookie{Name: "route", Path: "/"},
			Retry:         &ir.Retry{Attempts: 2, ConnectFailure: true, Statuses: []uint32{502}},
		},
		Policy: &ir.Policy{
			MaxBodyBytes: new(uint64(1024)),
			Access:       &ir.Access{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
			RateLimit:    &ir.RateLimit{PerSecond: 5, BurstMultiplier: 5},
		},
		RequestHeaders:  []ir.Header{{Name: "X-Forwarded-Prefix", Value: "/api"}},
		ResponseHeaders: []ir.Header{{Name: "Access-Control-Allow-Origin", Value: "*"}},
		UpstreamName:    "default-web-80",
		NoTrace:         true,
		TraceOperation:  "web",
	}
	got := newShared().renderRoutes(r)
	if len(got) != 2 {
		t.Fatalf("%d routes, want the route for idempotent methods and the route for the rest", len(got))
	}
	idempotent := *r
	idempotent.Match.Headers = append(r.Match.Headers[:1:1],
		ir.HeaderMatch{Name: ":method", Exact: "POST", Invert: true},
		ir.HeaderMatch{Name: ":method", Exact: "PATCH", Invert: true},
		ir.HeaderMatch{Name: ":method", Exact: "LOCK", Invert: true})
	want := newShared().route(&idempotent)
	replayOff(want)
	if !proto.Equal(got[0], want) {
		t.Errorf("the route for idempotent methods differs from the route rendered whole:\ngot  %v\nwant %v", got[0], want)
	}
	// Whatever a later field of the route, the second route carries it
	// too: every field set on the first is set on the second.
	second := got[1].ProtoReflect()
	got[0].ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !second.Has(fd) {
			t.Errorf("the route for POST, PATCH and LOCK lacks %s", fd.Name())
		}
		return true
	})
	rest := *r
	fw := *r.Forward
	fw.Retry = &ir.Retry{Attempts: 2, ConnectFailure: true}
	rest.Forward = &fw
	want = newShared().route(&rest)
	replayOff(want)
	if !proto.Equal(got[1], want) {
		t.Errorf("the route for POST, PATCH and LOCK differs from the route rendered whole:\ngot  %v\nwant %v", got[1], want)
	}
}

// TestIssuedCookie: the cookie that a route issues itself carries the
// Max-Age, Path and attributes of the model's, with "%" escaped for
// Envoy's formatter, and the request gets the same value before its own
// cookies.
func TestIssuedCookie(t *testing.T) {
	c := &ir.SessionCookie{Name: "aff", TTL: ir.Duration(120e9), Path: "/a%20b",
		Attributes: []ir.CookieAttribute{{Name: "Domain", Value: "x.test"}, {Name: "Secure"}}}
	req, resp := issuedCookie(c, "t1")
	value := "aff=%START_TIME(%s%6f)%.%DOWNSTREAM_REMOTE_PORT%|t1"
	if got := req.GetHeader().GetValue(); got != value+"; %REQ(cookie)%" {
		t.Errorf("request cookie = %q, want %q", got, value)
	}
	if got, want := resp.GetHeader().GetValue(), value+"; Max-Age=120; Path=/a%%20b; Domain=x.test; Secure; HttpOnly"; got != want {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
	c.TTL = 0
	if _, resp := issuedCookie(c, "t1"); strings.Contains(resp.GetHeader().GetValue(), "Max-Age") {
		t.Errorf("Set-Cookie = %q, want a session cookie (no Max-Age)", resp.GetHeader().GetValue())
	}
}

// TestCommonMessagesAreShared: the method match of the routes for
// non-idempotent requests, the routes' timeouts and the clusters' config
// source are one message each for the whole rendering, not one per route
// or cluster (at 10,000 Ingresses, about 8 MB per configuration in memory).
func TestCommonMessagesAreShared(t *testing.T) {
	sh := newShared()
	route := func(cluster string) []*envoy_config_route_v3.Route {
		return sh.renderRoutes(&ir.Route{
			Match:   ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/" + cluster}},
			Forward: &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: cluster, Weight: 1}}, Retry: &ir.Retry{Attempts: 2, ConnectFailure: true, Statuses: []uint32{502}}},
		})
	}
	a, b := route("a"), route("b")
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("%d and %d routes, want the POST route and the route each", len(a), len(b))
	}
	if a[0].Match.Headers[0] != b[0].Match.Headers[0] {
		t.Error("the method match is rendered once per route")
	}
	if a[1].GetRoute().Timeout != b[1].GetRoute().Timeout {
		t.Error("the routes' timeout is rendered once per route")
	}
	ca, cb := sh.cluster(&ir.Cluster{Name: "a"}), sh.cluster(&ir.Cluster{Name: "b"})
	if ca.EdsClusterConfig.EdsConfig != cb.EdsClusterConfig.EdsConfig || ca.ConnectTimeout != cb.ConnectTimeout {
		t.Error("the clusters' config source or connect timeout is rendered once per cluster")
	}
}

// TestOneRoutePerPathForRetries: a forward's retry renders one route,
// whose policy holds only the conditions every method may retry when the
// replay filter adds the rest (resets, and the statuses), and turns the
// filter off where its conditions are not the route's, a forward without
// a retry included.
func TestOneRoutePerPathForRetries(t *testing.T) {
	const connect = "connect-failure,refused-stream,reset-before-request"
	for _, tc := range []struct {
		name      string
		retry     *ir.Retry
		routes    int
		retryOn   string
		tries     uint32
		replayOff bool
	}{
		{"nginx's default", &ir.Retry{Attempts: 2, ConnectFailure: true, Reset: true}, 1, connect, 2, false},
		{"with statuses", &ir.Retry{Attempts: 2, ConnectFailure: true, Reset: true, Statuses: []uint32{502}}, 1, connect, 2, false},
		{"non_idempotent", &ir.Retry{Attempts: 2, ConnectFailure: true, Reset: true, NonIdempotent: true}, 1, connect + ",reset", 2, false},
		{"non_idempotent without resets", &ir.Retry{Attempts: 2, Statuses: []uint32{503}, NonIdempotent: true}, 1, "retriable-status-codes", 2, true},
		{"failed connections only", &ir.Retry{Attempts: 2, ConnectFailure: true}, 1, connect, 2, true},
		{"statuses without resets", &ir.Retry{Attempts: 2, ConnectFailure: true, Statuses: []uint32{502}}, 2, connect + ",retriable-status-codes", 2, true},
		{"no retry", nil, 1, "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newShared().renderRoutes(&ir.Route{
				Match:   ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
				Forward: &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: "a", Weight: 1}}, Retry: tc.retry},
			})
			if len(got) != tc.routes {
				t.Fatalf("%d routes, want %d", len(got), tc.routes)
			}
			p := got[0].GetRoute().GetRetryPolicy()
			if p.GetRetryOn() != tc.retryOn || p.GetNumRetries().GetValue() != tc.tries {
				t.Errorf("retry_on %q with %v tries, want %q with %d", p.GetRetryOn(), p.GetNumRetries(), tc.retryOn, tc.tries)
			}
			// The filter's retriable-status-codes reads the route's list.
			if tc.retry != nil && !slices.Equal(p.GetRetriableStatusCodes(), tc.retry.Statuses) {
				t.Errorf("retriable status codes %v, want %v", p.GetRetriableStatusCodes(), tc.retry.Statuses)
			}
			for _, r := range got {
				if off := r.TypedPerFilterConfig[replayFilter] != nil; off != tc.replayOff {
					t.Errorf("replay filter turned off: %v, want %v", off, tc.replayOff)
				}
			}
		})
	}
}

// TestSchemeOfTheConnection: as the edge, Envoy sets X-Forwarded-Proto to
// the connection's scheme itself, so the route table leaves that header
// out, and the others of the scheme read what the listener recorded of the
// connection, which no header of the request can change; a listener that
// trusts a client address from elsewhere keeps every header it was given.
func TestSchemeOfTheConnection(t *testing.T) {
	scheme := []ir.Header{
		{Name: "X-Forwarded-Proto", FromConnection: ir.Scheme},
		{Name: "X-Scheme", FromConnection: ir.Scheme},
	}
	l := &ir.Listener{Name: "http", Scheme: "http", RequestHeaders: scheme}
	rc := routeConfiguration(l, newShared())
	if len(rc.RequestHeadersToAdd) != 1 {
		t.Fatalf("route table sets %v, want X-Scheme alone", rc.RequestHeadersToAdd)
	}
	if h := rc.RequestHeadersToAdd[0].Header; h.Key != "X-Scheme" || h.Value != "%FILTER_STATE("+schemeKey+":PLAIN)%" {
		t.Errorf("X-Scheme set as %v, want the listener's record of the connection's scheme", h)
	}
	if f := listener(l, false).FilterChains[0].Filters[0]; f.Name != "envoy.filters.network.set_filter_state" {
		t.Errorf("the listener's first network filter is %s, want the one that records the scheme", f.Name)
	}
	trusting := &ir.Listener{Name: "http", RequestHeaders: scheme, RealIP: &ir.RealIP{ProxyProtocol: true}}
	if rc := routeConfiguration(trusting, newShared()); len(rc.RequestHeadersToAdd) != 2 {
		t.Errorf("behind the PROXY protocol the route table sets %v, want both headers", rc.RequestHeadersToAdd)
	}
}
