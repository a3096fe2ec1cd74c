package ingress

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// listenerPair is the plain and the TLS listener of settings s, as Lower
// makes them, both holding hosts (the TLS one tlsHosts when not nil).
func listenerPair(s *nginx.Settings, hosts, tlsHosts []*ir.VirtualHost) (*ir.Listener, *ir.Listener) {
	plain := edgeListener(HTTPListener, "0.0.0.0", 8080, "http", publicHTTPPort, s)
	tls := edgeListener(HTTPSListener, "0.0.0.0", 8443, "https", 443, s)
	tls.ResponseHeaders = []ir.Header{{Name: "Strict-Transport-Security", Value: s.HSTSValue()}}
	if tlsHosts == nil {
		tlsHosts = hosts
	}
	plain.VirtualHosts, tls.VirtualHosts = hosts, tlsHosts
	return plain, tls
}

func headerNamed(hs []ir.Header, name string) ir.Header {
	for _, h := range hs {
		if h.Name == name {
			return h
		}
	}
	return ir.Header{}
}

func TestShareRoutesDefaultSettings(t *testing.T) {
	s := nginx.DefaultSettings()
	served := &ir.Route{Match: ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}, Forward: &ir.Forward{}}
	hosts := []*ir.VirtualHost{{Name: "a.test", Domains: []string{"a.test"}, Routes: []*ir.Route{served}}}
	plain, tls := listenerPair(&s, hosts, nil)
	shareRoutes(plain, tls)
	if tls.Routes != HTTPListener || plain.Routes != "" {
		t.Fatalf("routes read by plain %q, TLS %q; want the TLS listener to read %q", plain.Routes, tls.Routes, HTTPListener)
	}
	if plain.Scheme != "http" || tls.Scheme != "https" {
		t.Errorf("schemes %q and %q, want http and https", plain.Scheme, tls.Scheme)
	}
	if plain.VirtualHosts[0] != hosts[0] || tls.VirtualHosts[0] != hosts[0] {
		t.Error("a host the same on both listeners must be kept as it is")
	}
	port := headerNamed(plain.RequestHeaders, "X-Forwarded-Port")
	if port.FromListener == "" || plain.Vars[port.FromListener] != "80" || tls.Vars[port.FromListener] != "443" {
		t.Errorf("X-Forwarded-Port %+v with vars %v and %v, want each listener's port", port, plain.Vars, tls.Vars)
	}
	// The scheme is the connection's, which needs no value of the listener.
	for _, name := range []string{"X-Forwarded-Proto", "X-Forwarded-Scheme", "X-Scheme"} {
		if h := headerNamed(tls.RequestHeaders, name); h.FromConnection != ir.Scheme || h.FromListener != "" {
			t.Errorf("%s %+v, want the scheme of the connection", name, h)
		}
	}
	hsts := headerNamed(tls.ResponseHeaders, "Strict-Transport-Security")
	if hsts.FromListener == "" || tls.Vars[hsts.FromListener] != s.HSTSValue() || plain.Vars[hsts.FromListener] != "" {
		t.Errorf("HSTS %+v with vars %v and %v, want it on the TLS listener only", hsts, plain.Vars, tls.Vars)
	}
}

func TestShareRoutesForwardedHeaders(t *testing.T) {
	s := nginx.DefaultSettings()
	s.RealIP.UseForwardedHeaders = true
	plain, tls := listenerPair(&s, nil, nil)
	shareRoutes(plain, tls)
	if tls.Routes != HTTPListener {
		t.Fatal("with use-forwarded-headers the listeners must still share a table")
	}
	proto := headerNamed(plain.RequestHeaders, "X-Forwarded-Proto")
	if proto.FromRequest != "x-forwarded-proto" || proto.Else == nil || plain.Vars[proto.Else.FromListener] != "http" {
		t.Errorf("X-Forwarded-Proto %+v, want the client's, else the listener's scheme", proto)
	}
	port := headerNamed(plain.RequestHeaders, "X-Forwarded-Port")
	if port.FromRequest != "x-forwarded-port" || port.Else == nil || tls.Vars[port.Else.FromListener] != "443" {
		t.Errorf("X-Forwarded-Port %+v, want the client's, else the listener's port", port)
	}
}

func TestShareRoutesTLSHost(t *testing.T) {
	s := nginx.DefaultSettings()
	all := ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}
	api := ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/api"}}
	redirect := &ir.Route{Match: all, Redirect: &ir.Redirect{Scheme: "https", Code: 308}}
	apiRedirect := &ir.Route{Match: api, Redirect: &ir.Redirect{Scheme: "https", Code: 308}}
	served := &ir.Route{Match: all, Forward: &ir.Forward{}}
	for _, c := range []struct {
		name          string
		plain         []*ir.Route
		tlsNeedsMatch bool
	}{
		{"redirect_of_every_path", []*ir.Route{redirect}, false},
		{"redirect_of_some_paths", []*ir.Route{apiRedirect}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			host := func(routes ...*ir.Route) []*ir.VirtualHost {
				return []*ir.VirtualHost{{Name: "a.test", Domains: []string{"a.test"}, Routes: routes}}
			}
			plain, tls := listenerPair(&s, host(c.plain...), host(served))
			shareRoutes(plain, tls)
			routes := tls.VirtualHosts[0].Routes
			if len(routes) != 2 {
				t.Fatalf("%d routes, want the plain one then the TLS one", len(routes))
			}
			if s := routes[0].Match.Scheme; s != "http" {
				t.Errorf("plain listener's route matches scheme %q, want http", s)
			}
			if s := routes[1].Match.Scheme; (s == "https") != c.tlsNeedsMatch {
				t.Errorf("TLS listener's route matches scheme %q; a match wanted: %v", s, c.tlsNeedsMatch)
			}
			if c.plain[0].Match.Scheme != "" || served.Match.Scheme != "" {
				t.Error("the listeners' own routes must not change")
			}
		})
	}
}

func TestShareRoutesRefused(t *testing.T) {
	s := nginx.DefaultSettings()
	for _, c := range []struct {
		name   string
		change func(plain, tls *ir.Listener)
	}{
		{"proxy_protocol_ports", func(plain, _ *ir.Listener) {
			plain.PortRoutes = []ir.PortRoutes{{Port: 443, Routes: HTTPSListener}}
		}},
		{"a_header_from_another_request_header", func(_, tls *ir.Listener) {
			tls.RequestHeaders = append(tls.RequestHeaders[:len(tls.RequestHeaders):len(tls.RequestHeaders)], ir.Header{Name: "X-Other", FromRequest: "a"})
		}},
		{"other_hosts", func(_, tls *ir.Listener) {
			tls.VirtualHosts = []*ir.VirtualHost{{Name: "b.test", Domains: []string{"b.test"}}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hosts := []*ir.VirtualHost{{Name: "a.test", Domains: []string{"a.test"}}}
			plain, tls := listenerPair(&s, hosts, nil)
			c.change(plain, tls)
			before := headerNamed(plain.RequestHeaders, "X-Forwarded-Port")
			shareRoutes(plain, tls)
			if tls.Routes != "" || plain.Vars != nil {
				t.Errorf("shared (routes %q, vars %v); want two tables", tls.Routes, plain.Vars)
			}
			if after := headerNamed(plain.RequestHeaders, "X-Forwarded-Port"); after.Value != before.Value || after.FromListener != "" {
				t.Errorf("X-Forwarded-Port changed to %+v", after)
			}
		})
	}
}
