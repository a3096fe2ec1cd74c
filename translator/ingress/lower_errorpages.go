package ingress

import (
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
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
func internalHost(listeners []*ir.Listener, secret string) {
	if secret == "" {
		secret = fixedInternalSecret
	}
	for _, l := range listeners {
		var clusters []string
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if e := errorPagesOf(r); e != nil {
					// Routes may be shared between listeners: the
					// token gets its secret once.
					if !strings.HasPrefix(e.Token, secret+" ") {
						e.Token = secret + " " + e.Token
					}
					clusters = append(clusters, strings.TrimPrefix(e.Token, secret+" "))
				}
			}
		}
		if len(clusters) == 0 {
			continue
		}
		slices.Sort(clusters)
		vh := &ir.VirtualHost{Name: ir.InternalHost, Domains: []string{ir.InternalHost}, NoAccessLog: true}
		for _, c := range slices.Compact(clusters) {
			vh.Routes = append(vh.Routes, &ir.Route{
				Match: ir.Match{
					Path:    ir.PathMatch{Kind: ir.PathPrefix, Value: "/"},
					Headers: []ir.HeaderMatch{{Name: ir.InternalHeader, Exact: secret + " " + c}},
				},
				Forward:              &ir.Forward{Backends: []ir.WeightedCluster{{Cluster: c}}},
				RemoveRequestHeaders: []string{ir.InternalHeader},
				NoAccessLog:          true,
			})
		}
		l.VirtualHosts = append(l.VirtualHosts, vh)
	}
}

// errorPagesOf returns a route's error pages, nil when it has none.
func errorPagesOf(r *ir.Route) *ir.ErrorPages {
	if r.Policy == nil {
		return nil
	}
	return r.Policy.ErrorPages
}
