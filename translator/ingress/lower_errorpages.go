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
// goes to the error backend's path of ir.InternalHost, with the headers
// ingress-nginx sends its default backend. internalHost sets the secret.
func errorPages(r *Route) *ir.ErrorPages {
	ns, name, _ := strings.Cut(r.Source, "/")
	return &ir.ErrorPages{
		Statuses: r.ErrorPages.Statuses, Path: "/" + r.ErrorPages.Backend, StatusHeader: "X-Code",
		RequestHeaders: []ir.Header{
			{Name: "X-Format", FromRequest: "accept"},
			// The path as the client sent it, before any rewrite.
			{Name: "X-Original-URI", FromRequest: "x-envoy-original-path", Else: &ir.Header{FromRequest: ":path"}},
			{Name: "X-Namespace", Value: ns},
			{Name: "X-Ingress-Name", Value: name},
			{Name: "X-Service-Name", Value: r.Service},
			{Name: "X-Service-Port", Value: r.ServicePort},
			{Name: "X-Request-ID", FromRequest: "x-request-id"},
		},
	}
}

// internalHost adds to each listener that has routes with error pages the
// virtual host ir.InternalHost, whose routes serve their internal
// requests: one per error backend, matched on its path and on the secret
// header, which the route removes before the backend sees it. The backend
// gets the path "/", as ingress-nginx sends it.
func internalHost(listeners []*ir.Listener, secret string) {
	if secret == "" {
		secret = fixedInternalSecret
	}
	for _, l := range listeners {
		var paths []string
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Policy != nil && r.Policy.ErrorPages != nil {
					// Routes may be shared between listeners: setting
					// is idempotent.
					r.Policy.ErrorPages.Secret = secret
					paths = append(paths, r.Policy.ErrorPages.Path)
				}
			}
		}
		if len(paths) == 0 {
			continue
		}
		slices.Sort(paths)
		vh := &ir.VirtualHost{Name: ir.InternalHost, Domains: []string{ir.InternalHost}, NoAccessLog: true}
		for _, p := range slices.Compact(paths) {
			vh.Routes = append(vh.Routes, &ir.Route{
				Match: ir.Match{
					Path:    ir.PathMatch{Kind: ir.PathExact, Value: p},
					Headers: []ir.HeaderMatch{{Name: ir.InternalHeader, Exact: secret}},
				},
				Forward: &ir.Forward{
					Backends:    []ir.WeightedCluster{{Cluster: strings.TrimPrefix(p, "/")}},
					PathRewrite: &ir.RegexRewrite{Pattern: "^.*$", Substitution: "/"},
				},
				RemoveRequestHeaders: []string{ir.InternalHeader},
				NoAccessLog:          true,
			})
		}
		l.VirtualHosts = append(l.VirtualHosts, vh)
	}
}
