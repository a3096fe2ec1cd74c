package ingress

import (
	"reflect"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// shareRoutes makes the TLS listener read the plain listener's route
// table when one table can answer for both: Envoy builds a route table
// whole on every change, so two tables of the same hosts cost it twice
// the work (docs/benchmarks.md). The tables may differ only in
//   - literal headers, such as X-Forwarded-Port and
//     Strict-Transport-Security (and the scheme's headers when the
//     client's address comes from a PROXY header or a trusted proxy),
//     which become values of each listener (Vars) that the shared header
//     reads;
//   - the routes of a host, as a TLS host's redirects on the plain
//     listener: both lists go into the one host, each route matching the
//     scheme of its listener (the listener's, not what a request claims:
//     an HTTP/2 client may say https over plain TCP).
//
// Anything else keeps two tables, as do PROXY protocol connections, whose
// scheme follows the port the load balancer names rather than the
// listener.
func shareRoutes(plain, tls *ir.Listener) {
	if len(plain.PortRoutes) > 0 || len(tls.PortRoutes) > 0 || !sameTableSettings(plain, tls) {
		return
	}
	vars := map[string][2]string{}
	request, ok := shareRequestHeaders(plain.RequestHeaders, tls.RequestHeaders, vars)
	if !ok {
		return
	}
	response, ok := shareResponseHeaders(plain.ResponseHeaders, tls.ResponseHeaders, vars)
	if !ok {
		return
	}
	hosts, ok := shareHosts(plain.VirtualHosts, tls.VirtualHosts)
	if !ok {
		return
	}
	for i, l := range []*ir.Listener{plain, tls} {
		l.RequestHeaders, l.ResponseHeaders, l.VirtualHosts = request, response, hosts
		if len(vars) > 0 {
			l.Vars = make(map[string]string, len(vars))
			for k, v := range vars {
				l.Vars[k] = v[i]
			}
		}
	}
	plain.Scheme, tls.Scheme = "http", "https"
	tls.Routes = plain.Name
}

// sameTableSettings says whether the listeners' route tables would say the
// same apart from their headers and hosts.
func sameTableSettings(a, b *ir.Listener) bool {
	return slices.Equal(a.RemoveRequestHeaders, b.RemoveRequestHeaders) &&
		slices.Equal(a.RemoveResponseHeaders, b.RemoveResponseHeaders) &&
		reflect.DeepEqual(a.RealIP, b.RealIP) && reflect.DeepEqual(a.Block, b.Block) &&
		a.Server == b.Server && a.BackendServer == b.BackendServer
}

// shareRequestHeaders merges two lists of request headers, which are set
// in order (a later one may read an earlier one): the same names in the
// same places, a literal value that differs read from the listener.
func shareRequestHeaders(a, b []ir.Header, vars map[string][2]string) ([]ir.Header, bool) {
	if len(a) != len(b) {
		return nil, false
	}
	out := make([]ir.Header, len(a))
	for i := range a {
		h, ok := shareHeader("request."+strings.ToLower(b[i].Name), &a[i], &b[i], vars)
		if !ok {
			return nil, false
		}
		out[i] = h
	}
	return out, true
}

// shareResponseHeaders merges two lists of response headers, whose order
// does not matter: a literal header of one list only is read from the
// listener, empty (not sent) on the other.
func shareResponseHeaders(a, b []ir.Header, vars map[string][2]string) ([]ir.Header, bool) {
	out := make([]ir.Header, 0, len(b))
	for i := range b {
		j := slices.IndexFunc(a, func(h ir.Header) bool { return strings.EqualFold(h.Name, b[i].Name) })
		if j < 0 {
			j = len(a)
			a = append(slices.Clip(a), ir.Header{Name: b[i].Name})
		}
		h, ok := shareHeader("response."+strings.ToLower(b[i].Name), &a[j], &b[i], vars)
		if !ok {
			return nil, false
		}
		out = append(out, h)
	}
	for i := range a {
		if !slices.ContainsFunc(b, func(h ir.Header) bool { return strings.EqualFold(h.Name, a[i].Name) }) {
			h, ok := shareHeader("response."+strings.ToLower(a[i].Name), &a[i], &ir.Header{Name: a[i].Name}, vars)
			if !ok {
				return nil, false
			}
			out = append(out, h)
		}
	}
	return out, true
}

// shareHeader is the one header that sets a on one listener and b on the
// other: a literal that differs becomes the listener's value of key; a
// fallback (Else) that differs, the same way.
func shareHeader(key string, a, b *ir.Header, vars map[string][2]string) (ir.Header, bool) {
	switch {
	case reflect.DeepEqual(a, b):
		return *a, true
	case !strings.EqualFold(a.Name, b.Name):
		return ir.Header{}, false
	case literal(a) && literal(b):
		vars[key] = [2]string{a.Value, b.Value}
		return ir.Header{Name: b.Name, FromListener: key}, true
	case a.Else == nil || b.Else == nil:
		return ir.Header{}, false
	}
	x, y := *a, *b
	x.Else, y.Else = nil, nil
	if !reflect.DeepEqual(x, y) {
		return ir.Header{}, false
	}
	e, ok := shareHeader(key, a.Else, b.Else, vars)
	y.Else = &e
	return y, ok
}

// literal says whether a header's value is only its literal Value.
func literal(h *ir.Header) bool {
	return reflect.DeepEqual(*h, ir.Header{Name: h.Name, Value: h.Value})
}

// shareHosts merges the listeners' hosts, which come in the same order:
// a host whose routes are the same on both is kept; otherwise its routes
// are the plain listener's, each for its "http" only, then the TLS
// listener's, for its "https" unless the plain routes end with one that
// takes every request.
func shareHosts(a, b []*ir.VirtualHost) ([]*ir.VirtualHost, bool) {
	if len(a) != len(b) {
		return nil, false
	}
	out := make([]*ir.VirtualHost, len(a))
	for i, x := range a {
		y := b[i]
		if x.Name != y.Name || !slices.Equal(x.Domains, y.Domains) || x.NoAccessLog != y.NoAccessLog {
			return nil, false
		}
		if slices.Equal(x.Routes, y.Routes) {
			out[i] = x
			continue
		}
		vh := *x
		vh.Routes = make([]*ir.Route, 0, len(x.Routes)+len(y.Routes))
		for _, r := range x.Routes {
			vh.Routes = append(vh.Routes, forScheme(r, "http"))
		}
		catchAll := len(x.Routes) > 0 && reflect.DeepEqual(x.Routes[len(x.Routes)-1].Match, ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}})
		for _, r := range y.Routes {
			if !catchAll {
				r = forScheme(r, "https")
			}
			vh.Routes = append(vh.Routes, r)
		}
		out[i] = &vh
	}
	return out, true
}

// forScheme is a copy of a route that only requests of the scheme match.
func forScheme(r *ir.Route, scheme string) *ir.Route {
	c := *r
	c.Match.Scheme = scheme
	return &c
}
