package limiter

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"time"

	envoy_config_core_v3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	envoy_service_auth_v3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	envoy_type_v3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/rukou/rukou/limiter/wire"
)

// Auth answers Envoy's ext_authz filter for the routes with external
// authentication (auth-url): it asks the route's auth service about each
// request, as nginx's auth_request does in ingress-nginx, and tells Envoy
// to let the request through (with the auth service's headers), redirect
// it to the signin page, or refuse it.
//
// It never lets a request through that the auth service did not admit:
// settings it cannot read, an auth service that cannot be reached or
// answers anything but 2xx, 401 and 403 all answer 500 (503 for a route
// whose authentication could not be configured).
type Auth struct {
	envoy_service_auth_v3.UnimplementedAuthorizationServer

	log     *slog.Logger
	basic   *basicChecker
	clients *clients
	cache   *authCache
	now     func() time.Time

	checks *prometheus.CounterVec
}

// maxAuthBody bounds what is read of an auth response's body, which is
// discarded: enough to keep its connection for the next request.
const maxAuthBody = 64 << 10

// NewAuth returns the authentication service, with an empty cache; it
// finds the users of basic authentication in creds (nil: every basic
// check answers 500).
func NewAuth(log *slog.Logger, creds Credentials) *Auth {
	a := &Auth{
		log: log, basic: newBasicChecker(creds), clients: newClients(), cache: newAuthCache(maxCacheEntries), now: time.Now,
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_external_auth_checks_total",
			Help: "Requests of routes with external authentication that the limiter decided, by result (allowed, unauthorized, forbidden, error) and whether the cache answered.",
		}, []string{"result", "cached"}),
	}
	for _, r := range []string{"allowed", "unauthorized", "forbidden", "error"} {
		a.checks.WithLabelValues(r, "false")
	}
	return a
}

// Register adds the service to a gRPC server.
func (a *Auth) Register(s grpc.ServiceRegistrar) {
	envoy_service_auth_v3.RegisterAuthorizationServer(s, a)
}

// Collectors returns the service's metrics, for a Prometheus registry.
func (a *Auth) Collectors() []prometheus.Collector {
	return []prometheus.Collector{a.checks}
}

// Check decides one request.
func (a *Auth) Check(ctx context.Context, req *envoy_service_auth_v3.CheckRequest) (*envoy_service_auth_v3.CheckResponse, error) {
	o := originalOf(req)
	ext := req.GetAttributes().GetContextExtensions()
	g, err := readGuard(ext)
	var s *authSettings
	if _, withURL := ext[wire.AuthURLKey]; err == nil && (withURL || g.credentials == "" && !g.satisfyAny) {
		s, err = readAuthSettings(ext)
	}
	if err != nil {
		a.log.Warn("external auth: refusing a request whose route's settings cannot be read", "error", err)
		a.checks.WithLabelValues("error", "false").Inc()
		return denied(http.StatusServiceUnavailable, nil), nil
	}
	if g.credentials != "" || g.satisfyAny {
		resp, result := a.checkAll(ctx, o, g, s)
		a.checks.WithLabelValues(result, "false").Inc()
		return resp, nil
	}
	res, cached := a.ask(ctx, o, s)
	a.checks.WithLabelValues(resultName(res.status), boolName(cached)).Inc()
	return decide(o, s, res), nil
}

// authResult is what the auth service answered: its status and headers;
// status 0 when it could not be asked or did not answer in time.
type authResult struct {
	status int
	header http.Header
}

// ask returns the auth service's answer about o, from the cache when the
// route caches and it holds one.
func (a *Auth) ask(ctx context.Context, o *original, s *authSettings) (authResult, bool) {
	var key string
	if len(s.cacheKey) > 0 {
		key = s.cacheScope + "\x00" + o.expand(s.cacheKey)
		if res, ok := a.cache.get(key, a.now()); ok {
			return res, true
		}
	}
	res := a.send(ctx, o, s)
	if key != "" {
		if ttl := cacheTTL(s.cacheRules, res); ttl > 0 {
			a.cache.put(key, res, a.now().Add(ttl))
		}
	}
	return res, false
}

// send makes the auth request and reads the answer.
func (a *Auth) send(ctx context.Context, o *original, s *authSettings) authResult {
	req, err := authRequest(o, s)
	if err != nil {
		a.log.Warn("external auth: cannot make the auth request", "error", err)
		return authResult{}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var conn *countedConn
	ctx = httptrace.WithClientTrace(ctx, connTrace(&conn))
	resp, err := a.clients.get(s.pool).Do(req.WithContext(ctx))
	if err != nil {
		a.log.Warn("external auth: the auth service did not answer", "url", req.URL.Redacted(), "error", err)
		return authResult{}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAuthBody))
	resp.Body.Close()
	if s.pool.keepalive > 0 {
		retire(conn, s.pool.keepaliveRequests)
	}
	return authResult{status: resp.StatusCode, header: resp.Header}
}

// decide turns the auth service's answer into Envoy's, as nginx's
// auth_request does: 2xx lets the request through, 401 redirects to the
// signin page when there is one, 401 and 403 are passed on, and anything
// else is 500.
func decide(o *original, s *authSettings, res authResult) *envoy_service_auth_v3.CheckResponse {
	cookies := res.header.Values("Set-Cookie")
	switch {
	case res.status >= 200 && res.status < 300:
		return allowed(s, res, cookies)
	case res.status == http.StatusUnauthorized && len(s.signin) > 0:
		h := append(s.cookiesFor(http.StatusFound, cookies), header("Location", signinURL(o, s), false))
		return denied(http.StatusFound, h)
	}
	code := http.StatusInternalServerError
	if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
		code = res.status
	}
	h := s.cookiesFor(code, cookies)
	if v := res.header.Get("WWW-Authenticate"); v != "" && code == http.StatusUnauthorized {
		h = append(h, header("WWW-Authenticate", v, false))
	}
	return denied(code, h)
}

// cookiesFor returns the auth service's cookies as headers of a response
// with status code, when the route sends them with that status (nginx's
// add_header, "always" or not).
func (s *authSettings) cookiesFor(code int, cookies []string) []*envoy_config_core_v3.HeaderValueOption {
	if len(s.cookieStatuses) == 0 || slices.Contains(s.cookieStatuses, code) {
		return headerValues("Set-Cookie", cookies)
	}
	return nil
}

// allowed lets a request through with the auth response's headers that
// the route names in place of the client's (removed when the auth
// response lacks them, as nginx's empty proxy_set_header does), and the
// auth service's cookies on the response.
func allowed(s *authSettings, res authResult, cookies []string) *envoy_service_auth_v3.CheckResponse {
	ok := &envoy_service_auth_v3.OkHttpResponse{}
	resp := &envoy_service_auth_v3.CheckResponse{
		Status:       &status.Status{Code: int32(codes.OK)},
		HttpResponse: &envoy_service_auth_v3.CheckResponse_OkResponse{OkResponse: ok},
	}
	if len(s.cookieStatuses) == 0 {
		ok.ResponseHeadersToAdd = headerValues("Set-Cookie", cookies)
	} else if len(cookies) > 0 {
		// The backend's status is not known yet: the route's response
		// headers add the cookies from the metadata when it is one of
		// the statuses.
		resp.DynamicMetadata = cookieMetadata(cookies)
	}
	for _, name := range s.responseHeaders {
		if v := res.header.Values(name); len(v) > 0 && strings.Join(v, "") != "" {
			ok.Headers = append(ok.Headers, header(name, strings.Join(v, ", "), false))
		} else {
			ok.HeadersToRemove = append(ok.HeadersToRemove, strings.ToLower(name))
		}
	}
	return resp
}

// cookieMetadata holds the first wire.MaxAuthCookies cookies by index.
func cookieMetadata(cookies []string) *structpb.Struct {
	md := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for i, c := range cookies[:min(len(cookies), wire.MaxAuthCookies)] {
		md.Fields[wire.AuthCookieMetadataPrefix+strconv.Itoa(i)] = structpb.NewStringValue(c)
	}
	return md
}

// denied answers the client with code and headers, without the request
// reaching the backend.
func denied(code int, h []*envoy_config_core_v3.HeaderValueOption) *envoy_service_auth_v3.CheckResponse {
	return &envoy_service_auth_v3.CheckResponse{
		Status: &status.Status{Code: int32(codes.PermissionDenied)},
		HttpResponse: &envoy_service_auth_v3.CheckResponse_DeniedResponse{DeniedResponse: &envoy_service_auth_v3.DeniedHttpResponse{
			Status:  &envoy_type_v3.HttpStatus{Code: envoy_type_v3.StatusCode(code)},
			Headers: h,
		}},
	}
}

// header is one header to set (replacing) or, with add, to add.
func header(name, value string, add bool) *envoy_config_core_v3.HeaderValueOption {
	action := envoy_config_core_v3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	if add {
		action = envoy_config_core_v3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
	}
	return &envoy_config_core_v3.HeaderValueOption{
		Header:       &envoy_config_core_v3.HeaderValue{Key: name, Value: value},
		AppendAction: action,
	}
}

// headerValues adds one header per value.
func headerValues(name string, values []string) []*envoy_config_core_v3.HeaderValueOption {
	var out []*envoy_config_core_v3.HeaderValueOption
	for _, v := range values {
		out = append(out, header(name, v, true))
	}
	return out
}

func resultName(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "allowed"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusForbidden:
		return "forbidden"
	}
	return "error"
}

func boolName(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
