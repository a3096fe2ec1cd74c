package limiter

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"

	envoy_service_auth_v3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/rukou/rukou/limiter/wire"
)

// guard is what a route checks besides its auth URL: basic credentials,
// and with satisfy any the address ranges.
type guard struct {
	credentials, realm string
	satisfyAny         bool
	allow, deny        []netip.Prefix
}

func readGuard(ext map[string]string) (*guard, error) {
	g := &guard{credentials: ext[wire.AuthBasicCredentialsKey], realm: ext[wire.AuthBasicRealmKey], satisfyAny: ext[wire.AuthSatisfyAnyKey] == "true"}
	var err error
	if g.allow, err = wire.ParsePrefixes(ext[wire.AuthAllowKey]); err != nil {
		return nil, fmt.Errorf("allowed ranges: %w", err)
	}
	if g.deny, err = wire.ParsePrefixes(ext[wire.AuthDenyKey]); err != nil {
		return nil, fmt.Errorf("denied ranges: %w", err)
	}
	return g, nil
}

// admits says whether nginx's allow and deny rules admit client: the
// first rule that matches decides, and an allow list ends with "deny
// all". A client no rule matches (denied ranges only) is not admitted by
// them: with satisfy any it still needs an authentication.
func (g *guard) admits(client string) bool {
	a, ok := hostOf(client)
	if !ok || len(g.allow) == 0 {
		return false
	}
	for _, p := range g.deny {
		if p.Contains(a) {
			return false
		}
	}
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// checkAll decides a request of a route with basic authentication, or
// satisfy any, or both with an auth URL (s, nil without one), in nginx's
// access phase order: address ranges, basic credentials, auth request.
// With satisfy all each that is set must pass; with satisfy any one is
// enough, and a refusal is 401 when any said 401.
func (a *Auth) checkAll(ctx context.Context, o *original, g *guard, s *authSettings) (*envoy_service_auth_v3.CheckResponse, string) {
	if g.satisfyAny && g.admits(o.client) {
		return a.pass(g, s, authResult{}), "allowed"
	}
	basicFailed := false
	if g.credentials != "" {
		ok, err := a.basic.check(ctx, g.credentials, o.header)
		basicFailed = !ok
		switch {
		case err != nil:
			a.log.Warn("basic auth: refusing a request whose credentials cannot be read", "credentials", g.credentials, "error", err)
			return denied(http.StatusInternalServerError, nil), "error"
		case ok && (g.satisfyAny || s == nil):
			return a.pass(g, s, authResult{}), "allowed"
		case !ok && (!g.satisfyAny || s == nil):
			return a.unauthorized(o, g, s, nil, true), "unauthorized"
		}
	}
	if s == nil {
		return denied(http.StatusForbidden, nil), "forbidden" // satisfy any: ranges only, client outside
	}
	res, _ := a.ask(ctx, o, s)
	switch {
	case res.status >= 200 && res.status < 300:
		return a.pass(g, s, res), "allowed"
	case basicFailed && (res.status == http.StatusUnauthorized || res.status == http.StatusForbidden):
		// nginx keeps the 401 of one module over the 403 of another.
		return a.unauthorized(o, g, s, &res, true), "unauthorized"
	}
	return decide(o, s, res), resultName(res.status)
}

// pass admits a request: with the auth response's headers when the auth
// request admitted it, and never with the client's Authorization when
// basic authentication guards the route (nginx clears it).
func (a *Auth) pass(g *guard, s *authSettings, res authResult) *envoy_service_auth_v3.CheckResponse {
	if s == nil {
		s = &authSettings{}
	}
	if res.header == nil {
		res.header = http.Header{}
	}
	resp := allowed(s, res, res.header.Values("Set-Cookie"))
	if g.credentials != "" {
		ok := resp.GetOkResponse()
		ok.HeadersToRemove = append(ok.HeadersToRemove, "authorization")
	}
	return resp
}

// unauthorized answers 401 with the realm of the basic authentication,
// or redirects to the auth URL's signin page when it has one (nginx's
// error_page 401 catches every 401 of the location).
func (a *Auth) unauthorized(o *original, g *guard, s *authSettings, res *authResult, realm bool) *envoy_service_auth_v3.CheckResponse {
	if res == nil {
		res = &authResult{status: http.StatusUnauthorized, header: http.Header{}}
	}
	res.status = http.StatusUnauthorized
	if realm {
		res.header = res.header.Clone()
		res.header.Set("WWW-Authenticate", `Basic realm="`+g.realm+`"`)
	}
	if s == nil {
		s = &authSettings{}
	}
	return decide(o, s, *res)
}
