package limiter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rukou/rukou/limiter/wire"
)

// authSettings are one route's external authentication, as the Envoy
// backend wrote them in the check's context extensions (see wire).
type authSettings struct {
	url             wire.Template
	method          string
	signin          wire.Template
	signinParam     string
	responseHeaders []string
	requestRedirect string
	cacheKey        wire.Template
	cacheScope      string
	cacheRules      []wire.CacheRule
	// cookieStatuses are the statuses whose responses carry the auth
	// service's cookies; empty means every response.
	cookieStatuses []int
	timeout        time.Duration
	connectTimeout time.Duration
	pool           poolKey
	// setHeaders are the extra headers of the auth request, by name.
	setHeaders map[string]wire.Template
}

// Defaults for settings a check may lack: nginx's proxy_read_timeout and
// proxy_connect_timeout.
const (
	defaultAuthTimeout        = 60 * time.Second
	defaultAuthConnectTimeout = 5 * time.Second
)

// readAuthSettings reads a check's context extensions. Anything it cannot
// read is an error: the request is then refused, never let through.
func readAuthSettings(ext map[string]string) (*authSettings, error) {
	s := &authSettings{
		method: ext[wire.AuthMethodKey], signinParam: ext[wire.AuthSigninParamKey],
		requestRedirect: ext[wire.AuthRequestRedirectKey], cacheScope: ext[wire.AuthCacheScopeKey],
		setHeaders: map[string]wire.Template{},
	}
	var err error
	if s.url, err = wire.ParseTemplate(ext[wire.AuthURLKey]); err != nil || len(s.url) == 0 {
		return nil, fmt.Errorf("auth URL: %q %v", ext[wire.AuthURLKey], err)
	}
	if s.signin, err = wire.ParseTemplate(ext[wire.AuthSigninKey]); err != nil {
		return nil, err
	}
	if s.cacheKey, err = wire.ParseTemplate(ext[wire.AuthCacheKeyKey]); err != nil {
		return nil, err
	}
	if s.cacheRules, err = wire.ParseCacheRules(ext[wire.AuthCacheDurationKey]); err != nil {
		return nil, err
	}
	for _, c := range strings.Split(ext[wire.AuthCookieStatusesKey], ",") {
		if c == "" {
			continue
		}
		n, err := strconv.Atoi(c)
		if err != nil {
			return nil, fmt.Errorf("cookie statuses: %q", ext[wire.AuthCookieStatusesKey])
		}
		s.cookieStatuses = append(s.cookieStatuses, n)
	}
	for _, h := range strings.Split(ext[wire.AuthResponseHeadersKey], ",") {
		if h = strings.TrimSpace(h); h != "" {
			s.responseHeaders = append(s.responseHeaders, h)
		}
	}
	for k, v := range ext {
		if name, ok := strings.CutPrefix(k, wire.AuthSetHeaderPrefix); ok {
			if s.setHeaders[name], err = wire.ParseTemplate(v); err != nil {
				return nil, err
			}
		}
	}
	if err := s.readNumbers(ext); err != nil {
		return nil, err
	}
	return s, nil
}

// readNumbers reads the timeouts and the keepalive settings.
func (s *authSettings) readNumbers(ext map[string]string) error {
	n := func(key string, def int64) (int64, error) {
		v, ok := ext[key]
		if !ok {
			return def, nil
		}
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil || i < 0 {
			return 0, fmt.Errorf("%s: %q is not a whole number", key, v)
		}
		return i, nil
	}
	var vals [5]int64
	keys := []string{wire.AuthTimeoutKey, wire.AuthConnectTimeoutKey, wire.AuthKeepaliveKey, wire.AuthKeepaliveRequestsKey, wire.AuthKeepaliveTimeoutKey}
	defs := []int64{defaultAuthTimeout.Milliseconds(), defaultAuthConnectTimeout.Milliseconds(), 0, 1000, 60000}
	for i, k := range keys {
		v, err := n(k, defs[i])
		if err != nil {
			return err
		}
		vals[i] = v
	}
	s.timeout, s.connectTimeout = time.Duration(vals[0])*time.Millisecond, time.Duration(vals[1])*time.Millisecond
	s.pool = poolKey{
		connectTimeout: s.connectTimeout, keepalive: int(vals[2]),
		keepaliveRequests: int(vals[3]), keepaliveTimeout: time.Duration(vals[4]) * time.Millisecond,
	}
	return nil
}
