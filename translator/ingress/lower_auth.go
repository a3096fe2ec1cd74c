package ingress

import (
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// protect adds authentication to the routes lowered from r that reach a
// backend, as ingress-nginx guards a location: basic authentication
// (auth-type), and external authentication (auth_request) with the
// Ingress's auth-url, else the ConfigMap's global-auth-url unless the
// Ingress opts out; neither on a path under no-auth-locations. Redirects
// and direct answers are not guarded (nginx returns them before its
// access phase). A global authentication that could not be read turns
// the routes it would guard into 503s.
func (lw *lowering) protect(routes []*ir.Route, r *Route, host string) {
	s := lw.settings
	if slices.ContainsFunc(s.NoAuthLocations, func(l string) bool { return strings.HasPrefix(r.Path, l) }) {
		return
	}
	ext, ok := lw.routeExternalAuth(r)
	if !ok {
		for _, lr := range routes {
			if lr.Forward != nil {
				lr.Forward, lr.Policy, lr.Direct = nil, nil, &ir.Direct{Status: 503}
			}
		}
		return
	}
	var auth *ir.ExternalAuth
	if ext != nil {
		auth = lw.externalAuth(ext, r, host)
	}
	basic := lw.basicAuth(r)
	if auth == nil && basic == nil {
		return
	}
	for _, lr := range routes {
		if lr.Forward == nil {
			continue
		}
		if lr.Policy == nil {
			lr.Policy = &ir.Policy{}
		}
		lr.Policy.ExternalAuth, lr.Policy.BasicAuth = auth, basic
		lr.Policy.SatisfyAny = r.Policy != nil && r.Policy.SatisfyAny
	}
}

// routeExternalAuth is the external authentication of r, nil when it has
// none; ok is false when the ConfigMap's global one applies and could not
// be read.
func (lw *lowering) routeExternalAuth(r *Route) (ext *nginx.ExternalAuth, ok bool) {
	s := lw.settings
	global := r.Policy == nil || !r.Policy.NoGlobalAuth
	switch {
	case r.Policy != nil && r.Policy.ExternalAuth != nil:
		return r.Policy.ExternalAuth, true
	case global && s.GlobalAuthFail:
		return nil, false
	case global && s.GlobalAuth != nil:
		return s.GlobalAuth, true
	}
	return nil, true
}

// basicAuth is the basic authentication of r, nil without one; the users
// it checks join the configuration's credentials.
func (lw *lowering) basicAuth(r *Route) *ir.BasicAuth {
	if r.Policy == nil || r.Policy.BasicAuth == nil || r.Policy.BasicAuth.Credentials == nil {
		return nil
	}
	ba := r.Policy.BasicAuth
	lw.credentials[ba.Credentials.Name] = ba.Credentials
	return &ir.BasicAuth{Realm: ba.Realm, Credentials: ba.Credentials.Name}
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
