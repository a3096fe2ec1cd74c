package ingress

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// fixedInternalSecret admits internal requests when Options give no
// secret: offline translations, whose output nobody serves.
const fixedInternalSecret = "rukou-offline"

// errorPages lowers a route's custom-http-errors: the internal request
// goes to ir.InternalHost, with the headers ingress-nginx sends its default
// backend. internalHost puts the secret before the token's cluster.
func errorPages(r *Route) *ir.ErrorPages {
	ns, name, _ := strings.Cut(r.Source, "/")
	return &ir.ErrorPages{
		Statuses: r.ErrorPages.Statuses, Token: r.ErrorPages.Backend, StatusHeader: "X-Code",
		RequestHeaders: []ir.Header{
			{Name: "X-Format", FromRequest: "accept"},
			// The route sets X-Original-URI (originalURI), which the
			// redirect copies; with proxy-add-original-uri-header the
			// listener sets it again from x-envoy-original-path, the
			// path before any rewrite, which carries the client's one
			// over the redirect, whose own path is "/".
			{Name: "x-envoy-original-path", FromRequest: "x-original-uri"},
			{Name: "X-Namespace", Value: ns},
			{Name: "X-Ingress-Name", Value: name},
			{Name: "X-Service-Name", Value: r.Service},
			{Name: "X-Service-Port", Value: r.ServicePort},
			{Name: "X-Request-ID", FromRequest: "x-request-id"},
		},
	}
}

// originalURI is the request header by which the internal request of
// error pages learns the client's path: the redirect's own headers are
// computed after its path is set.
var originalURI = ir.Header{Name: "X-Original-URI", Fields: []ir.LogField{{Value: ir.LogPath}}}

// internalHost adds to each listener that has routes with error pages the
// virtual host ir.InternalHost, whose routes serve their internal
// requests: one per error backend, matched on the secret header with the
// backend's name, which the route removes before the backend sees it. The
// backend gets the path "/", as ingress-nginx sends it.
//
// The access log keeps the request: it is logged once, when the internal
// request ends, with the client's path (x-envoy-original-path) and the
// upstream named as ingress-nginx names its error pages' upstream. (Envoy
// ends a stream for the redirect too, whose line the access log's filter
// leaves out: envoy.logRule.) The pages of a route that is not logged
// (enable-access-log: "false") have routes of their own, not logged
// either: their token ends in unloggedToken.
func internalHost(listeners []*ir.Listener, m *Model, opts Options) {
	secret := cmp.Or(opts.InternalSecret, fixedInternalSecret)
	for _, l := range listeners {
		if l.Routes != "" {
			continue // it reads another listener's table
		}
		var tokens []string
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if e := errorPagesOf(r); e != nil {
					// Routes may be shared between listeners: the
					// token gets its secret once.
					if !strings.HasPrefix(e.Token, secret+" ") {
						e.Token = secret + " " + e.Token
						if r.NoAccessLog {
							e.Token += unloggedToken
						}
					}
					tokens = append(tokens, strings.TrimPrefix(e.Token, secret+" "))
				}
			}
		}
		if len(tokens) == 0 {
			continue
		}
		slices.Sort(tokens)
		vh := &ir.VirtualHost{Name: ir.InternalHost, Domains: []string{ir.InternalHost}}
		names := errorUpstreamNames(m, opts)
		for _, token := range slices.Compact(tokens) {
			c, unlogged := strings.CutSuffix(token, unloggedToken)
			vh.Routes = append(vh.Routes, &ir.Route{
				Match: ir.Match{
					Path:    ir.PathMatch{Kind: ir.PathPrefix, Value: "/"},
					Headers: []ir.HeaderMatch{{Name: ir.InternalHeader, Exact: secret + " " + token}},
				},
				Forward:              &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: c}}},
				RemoveRequestHeaders: []string{ir.InternalHeader},
				UpstreamName:         names[c],
				NoAccessLog:          unlogged,
			})
		}
		l.VirtualHosts = append(l.VirtualHosts, vh)
	}
	for _, l := range listeners {
		if l.Routes == "" {
			continue
		}
		for _, owner := range listeners {
			if owner.Name == l.Routes {
				l.VirtualHosts = owner.VirtualHosts
			}
		}
	}
}

// unloggedToken ends the token of the error pages of a route that is not
// logged. (A cluster's name has no space.)
const unloggedToken = " unlogged"

// errorPagesOf returns a route's error pages, nil when it has none.
func errorPagesOf(r *ir.Route) *ir.ErrorPages {
	if r.Policy == nil {
		return nil
	}
	return r.Policy.ErrorPages
}

// errorUpstreamNames is what the access log names each backend that may
// answer error pages: upstream-default-backend for the controller's, as
// ingress-nginx, and namespace-service-port for the others.
func errorUpstreamNames(m *Model, opts Options) map[string]string {
	names := map[string]string{}
	for _, be := range m.Backends {
		names[be.Name] = nginx.UpstreamName(be.Namespace, be.Service, strconv.Itoa(int(be.Port)))
		if be.Namespace+"/"+be.Service == opts.DefaultBackendService {
			names[be.Name] = DefaultUpstreamName
		}
	}
	return names
}
