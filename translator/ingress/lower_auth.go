package ingress

import (
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// protect adds external authentication to the routes lowered from r that
// reach a backend, as ingress-nginx's auth_request guards a location:
// the Ingress's auth-url, else the ConfigMap's global-auth-url unless the
// Ingress opts out, and neither on a path under no-auth-locations.
// Redirects and direct answers are not guarded (nginx returns them before
// its access phase). A global authentication that could not be read turns
// the routes it would guard into 503s.
func (lw *lowering) protect(routes []*ir.Route, r *Route, host string) {
	s := lw.settings
	if slices.ContainsFunc(s.NoAuthLocations, func(l string) bool { return strings.HasPrefix(r.Path, l) }) {
		return
	}
	var ext *nginx.ExternalAuth
	global := r.Policy == nil || !r.Policy.NoGlobalAuth
	switch {
	case r.Policy != nil && r.Policy.ExternalAuth != nil:
		ext = r.Policy.ExternalAuth
	case global && s.GlobalAuthFail:
		for _, lr := range routes {
			if lr.Forward != nil {
				lr.Forward, lr.Policy, lr.Direct = nil, nil, &ir.Direct{Status: 503}
			}
		}
		return
	case global && s.GlobalAuth != nil:
		ext = s.GlobalAuth
	default:
		return
	}
	auth := lw.externalAuth(ext, r, host)
	for _, lr := range routes {
		if lr.Forward == nil {
			continue
		}
		if lr.Policy == nil {
			lr.Policy = &ir.Policy{}
		}
		lr.Policy.ExternalAuth = auth
	}
}

// externalAuth is the authentication of one route: the auth request has
// the ConfigMap's timeouts (nginx's auth location inherits them from the
// server, not from the Ingress's location), and the cache is kept per
// host and path, as nginx keys it.
func (lw *lowering) externalAuth(ext *nginx.ExternalAuth, r *Route, host string) *ir.ExternalAuth {
	out := ext.ExternalAuth
	out.Timeout, out.ConnectTimeout = ir.Duration(lw.settings.ReadTimeout), ir.Duration(lw.settings.ConnectTimeout)
	if r.FromHostless || r.CatchAll {
		host = "_" // ingress-nginx's server of hostless rules
	}
	if out.Cache != nil {
		c := *out.Cache
		c.Scope = host + " " + string(r.Match) + " " + r.Path
		out.Cache = &c
	}
	return &out
}
