package envoy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rukou/rukou/limiter/wire"
	"github.com/rukou/rukou/translator/ir"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_extensions_filters_http_ext_authz_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	envoy_extensions_transport_sockets_tls_v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	envoy_type_v3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// External authentication (nginx's auth_request) needs what Envoy's HTTP
// ext_authz service cannot give: a URL and headers built from the request,
// a redirect to a signin page on 401, a cache per key. So the ext_authz
// filter asks rukou's limiter over gRPC, and the limiter makes the auth
// request (see package limiter). The route's settings travel as the
// check's context extensions (keys in limiter/wire), built from typed
// values.

// authFilterTimeout bounds a check; the limiter's own auth request stops
// a second before, so that it, not Envoy, answers (500).
const authFilterTimeout = 5 * time.Minute

// externalAuth is the listeners' ext_authz filter. It never lets a request
// through that was not checked: a limiter that cannot be reached or does
// not answer in time gets 500, as nginx answers when its auth request
// fails. The request body is never sent.
func externalAuth() *envoy_extensions_filters_http_ext_authz_v3.ExtAuthz {
	return &envoy_extensions_filters_http_ext_authz_v3.ExtAuthz{
		Services: &envoy_extensions_filters_http_ext_authz_v3.ExtAuthz_GrpcService{GrpcService: &envoy_config_core_v3.GrpcService{
			TargetSpecifier: &envoy_config_core_v3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &envoy_config_core_v3.GrpcService_EnvoyGrpc{ClusterName: wire.LimiterCluster}},
			Timeout:         durationpb.New(authFilterTimeout),
		}},
		TransportApiVersion: envoy_config_core_v3.ApiVersion_V3,
		FailureModeAllow:    false,
		StatusOnError:       &envoy_type_v3.HttpStatus{Code: envoy_type_v3.StatusCode_InternalServerError},
	}
}

// externalAuthRoute is a route's authentication, for the limiter: basic,
// external or both, with the address ranges when satisfy any lets them
// admit a request on their own (the RBAC filter then stays off the route).
func externalAuthRoute(p *ir.Policy) *envoy_extensions_filters_http_ext_authz_v3.ExtAuthzPerRoute {
	ext := map[string]string{}
	if p.ExternalAuth != nil {
		ext = authExtensions(p.ExternalAuth)
	}
	if b := p.BasicAuth; b != nil {
		ext[wire.AuthBasicCredentialsKey] = b.Credentials
		ext[wire.AuthBasicRealmKey] = b.Realm
	}
	switch {
	case accessByAuth(p):
		ext[wire.AuthSatisfyAnyKey] = "true"
		ext[wire.AuthAllowKey] = wire.FormatPrefixes(p.Access.Allow)
		ext[wire.AuthDenyKey] = wire.FormatPrefixes(p.Access.Deny)
	case p.SatisfyAny && p.BasicAuth != nil && p.ExternalAuth != nil:
		// Without address ranges, satisfy any still lets the Basic
		// credentials admit a request that the auth service would refuse,
		// as nginx's access phase stops at the first module that admits.
		ext[wire.AuthSatisfyAnyKey] = "true"
	}
	return &envoy_extensions_filters_http_ext_authz_v3.ExtAuthzPerRoute{
		Override: &envoy_extensions_filters_http_ext_authz_v3.ExtAuthzPerRoute_CheckSettings{CheckSettings: &envoy_extensions_filters_http_ext_authz_v3.CheckSettings{
			ContextExtensions: ext,
		}},
	}
}

// accessByAuth says the limiter, not RBAC, checks the route's address
// ranges: with satisfy any, a client in them needs no credentials and one
// outside may still pass with them. Ranges that could not be read
// (DenyAll) stay with RBAC: they admit no one.
func accessByAuth(p *ir.Policy) bool {
	return p.SatisfyAny && p.Access != nil && !p.Access.DenyAll && (p.BasicAuth != nil || p.ExternalAuth != nil)
}

// authExtensions writes a route's external authentication as context
// extensions; settings at their defaults are left out.
func authExtensions(a *ir.ExternalAuth) map[string]string {
	ext := map[string]string{
		wire.AuthURLKey:            authText(a.URL).String(),
		wire.AuthTimeoutKey:        inMillis(min(time.Duration(a.Timeout), authFilterTimeout-time.Second)),
		wire.AuthConnectTimeoutKey: inMillis(time.Duration(a.ConnectTimeout)),
	}
	put := func(key, value string) {
		if value != "" {
			ext[key] = value
		}
	}
	put(wire.AuthMethodKey, a.Method)
	put(wire.AuthSigninKey, authText(a.SigninURL).String())
	put(wire.AuthSigninParamKey, a.SigninRedirectParam)
	put(wire.AuthResponseHeadersKey, strings.Join(a.ResponseHeaders, ","))
	put(wire.AuthRequestRedirectKey, a.RequestRedirect)
	if len(a.CookieStatuses) > 0 {
		ext[wire.AuthCookieStatusesKey] = joinStatuses(a.CookieStatuses, ",")
	}
	for _, h := range a.RequestHeaders {
		ext[wire.AuthSetHeaderPrefix+h.Name] = authText(h.Value).String()
	}
	if c := a.Cache; c != nil {
		ext[wire.AuthCacheKeyKey] = authText(c.Key).String()
		ext[wire.AuthCacheScopeKey] = c.Scope
		ext[wire.AuthCacheDurationKey] = wire.FormatCacheRules(cacheRules(c.Rules))
	}
	if a.Keepalive != 0 {
		ext[wire.AuthKeepaliveKey] = strconv.FormatUint(uint64(a.Keepalive), 10)
		ext[wire.AuthKeepaliveRequestsKey] = strconv.FormatUint(uint64(a.KeepaliveRequests), 10)
		ext[wire.AuthKeepaliveTimeoutKey] = inMillis(time.Duration(a.KeepaliveTimeout))
	}
	return ext
}

// inMillis writes a duration as whole milliseconds.
func inMillis(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// wireVars names each request value as the limiter knows it.
var wireVars = map[ir.RequestValue]string{
	ir.ValueHost: wire.VarHost, ir.ValueAuthority: wire.VarAuthority, ir.ValueScheme: wire.VarScheme,
	ir.ValueRequestURI: wire.VarRequestURI, ir.ValueEscapedRequestURI: wire.VarEscapedRequestURI,
	ir.ValuePath: wire.VarPath, ir.ValueQuery: wire.VarQuery, ir.ValueMethod: wire.VarMethod,
	ir.ValueClientAddress: wire.VarClientAddress, ir.ValueRemoteUser: wire.VarRemoteUser, ir.ValueHeader: wire.VarHeader,
	ir.ValueQueryParam: wire.VarQueryParam, ir.ValueCookie: wire.VarCookie,
}

// authText writes a Text as the limiter's template.
func authText(t ir.Text) wire.Template {
	out := make(wire.Template, 0, len(t))
	for _, p := range t {
		if p.Value == "" {
			out = append(out, wire.Part{Literal: p.Literal})
			continue
		}
		out = append(out, wire.Part{Var: wireVars[p.Value], Arg: p.Name})
	}
	return out
}

func cacheRules(rules []ir.CacheRule) []wire.CacheRule {
	out := make([]wire.CacheRule, len(rules))
	for i, r := range rules {
		out[i] = wire.CacheRule{Any: r.Any, TTL: time.Duration(r.TTL)}
		for _, s := range r.Statuses {
			out[i].Statuses = append(out[i].Statuses, int(s))
		}
	}
	return out
}

// authCookieHeaders send the auth service's cookies, which the limiter put
// in the check's dynamic metadata, with the responses whose status is one
// of the route's cookie statuses: Envoy adds the headers of an allowed
// check to every response, nginx only to those. A CEL expression that
// finds no cookie gives an empty value, and Envoy adds no empty header.
func authCookieHeaders(a *ir.ExternalAuth) []*envoy_config_core_v3.HeaderValueOption {
	if a == nil || len(a.CookieStatuses) == 0 {
		return nil
	}
	ns := "metadata.filter_metadata['" + extAuthFilter + "']"
	out := make([]*envoy_config_core_v3.HeaderValueOption, 0, wire.MaxAuthCookies)
	for i := range wire.MaxAuthCookies {
		key := wire.AuthCookieMetadataPrefix + strconv.Itoa(i)
		expr := fmt.Sprintf(`response.code in [%s] && '%s' in metadata.filter_metadata && '%s' in %s ? %s['%s'] : ""`,
			joinStatuses(a.CookieStatuses, ", "), extAuthFilter, key, ns, ns, key)
		out = append(out, &envoy_config_core_v3.HeaderValueOption{
			Header:       &envoy_config_core_v3.HeaderValue{Key: "Set-Cookie", Value: "%CEL(" + expr + ")%"},
			AppendAction: envoy_config_core_v3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
		})
	}
	return out
}

// joinStatuses writes statuses separated by sep.
func joinStatuses(statuses []uint32, sep string) string {
	s := make([]string, len(statuses))
	for i, c := range statuses {
		s[i] = strconv.FormatUint(uint64(c), 10)
	}
	return strings.Join(s, sep)
}

// credentialsSecret serves a route's users as a generic secret, which
// only rukou's limiter asks for: no listener names it, so Envoy never
// holds the hashes.
func credentialsSecret(c *ir.Credentials) *envoy_extensions_transport_sockets_tls_v3.Secret {
	return &envoy_extensions_transport_sockets_tls_v3.Secret{
		Name: c.Name,
		Type: &envoy_extensions_transport_sockets_tls_v3.Secret_GenericSecret{GenericSecret: &envoy_extensions_transport_sockets_tls_v3.GenericSecret{
			Secret: &envoy_config_core_v3.DataSource{Specifier: &envoy_config_core_v3.DataSource_InlineBytes{InlineBytes: c.Users}},
		}},
	}
}
