package envoy

import (
	"net/netip"
	"strings"
	"testing"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/rukou/rukou/translator/ir"
)

// TestVariantIsTheRouteRendered: the two routes that renderRoutes makes of
// a route whose retries are for idempotent methods only are what
// rendering the derived model routes whole gives, for a route that sets
// every field a route may carry: first every method but POST, PATCH and
// LOCK with every retry, then any method with connection retries only.
func TestVariantIsTheRouteRendered(t *testing.T) {
	r := &ir.Route{
		Match: ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/api"}, Headers: []ir.HeaderMatch{{Name: "x-canary", Exact: "1"}}},
		Forward: &ir.Forward{
			Backends:    []ir.WeightedCluster{{Cluster: "a", Weight: 90, CookieTag: "t1"}, {Cluster: "b", Weight: 10}},
			HostRewrite: "internal", IdleTimeout: ir.Duration(5e9), StreamIdleTimeout: ir.Duration(7e9), Timeout: ir.Duration(9e9),
			PathRewrite:   &ir.RegexRewrite{Pattern: "^/api(.*)", Substitution: `\1`},
			SessionCookie: &ir.SessionCookie{Name: "route", Path: "/"},
			Retry:         &ir.Retry{Attempts: 2, ConnectFailure: true, Reset: true, Statuses: []uint32{502}},
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
	if want := newShared().route(&idempotent); !proto.Equal(got[0], want) {
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
	if want := newShared().route(&rest); !proto.Equal(got[1], want) {
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
			Forward: &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: cluster, Weight: 1}}, Retry: &ir.Retry{Attempts: 2, ConnectFailure: true, Reset: true}},
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
