package nginx

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// Settings are the controller-wide settings of ingress-nginx's ConfigMap
// (its `--configmap`), read into checked values. A key that is not set, or
// whose value cannot be used, keeps ingress-nginx's default, or rukou's
// where docs/configmap.md says they differ. Some settings are the defaults
// of annotations, which an Ingress's own annotations override.
type Settings struct {
	// SSLRedirect is the default of the ssl-redirect annotation.
	SSLRedirect bool
	// HSTS sends Strict-Transport-Security on HTTPS responses, with
	// HSTSMaxAge (seconds), includeSubDomains and preload as set.
	HSTS                  bool
	HSTSMaxAge            uint64
	HSTSIncludeSubdomains bool
	HSTSPreload           bool
	// ConnectTimeout, ReadTimeout and SendTimeout are the defaults of the
	// annotations of those names; SendTimeout zero leaves streams to the
	// listener's idle timeout unless the read timeout is longer.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	SendTimeout    time.Duration
	// Balance is the default of the load-balance annotation.
	Balance Balance
	// Retry is the default of the proxy-next-upstream annotations: when
	// and how often a request goes on to another endpoint.
	Retry Retry
	// RetryNonIdempotent lets every route's POST, PATCH and LOCK requests
	// go on to another endpoint once sent (retry-non-idempotent).
	RetryNonIdempotent bool
	// MaxBodyBytes is the default of proxy-body-size, 1m as in
	// ingress-nginx; zero means no limit.
	MaxBodyBytes uint64
	// LimitRate is the default of limit-rate, KiB per second of each
	// response; zero means no limit.
	LimitRate uint64
	// RequestBuffering is the default of proxy-request-buffering: request
	// bodies are held whole (up to MaxBodyBytes) before they are sent.
	RequestBuffering bool
	// ResponseHeaderKiB is the default of proxy-buffer-size, in KiB;
	// zero keeps Envoy's limit (60 KiB).
	ResponseHeaderKiB uint32
	// UnderscoresInHeaders keeps request headers whose names hold an
	// underscore; otherwise they are dropped, as nginx drops them.
	UnderscoresInHeaders bool
	// Allow and Deny are the defaults of allowlist-source-range and
	// denylist-source-range; DenyAll is set when either could not be read.
	Allow, Deny []netip.Prefix
	DenyAll     bool
	// Keepalive bounds the connections kept open to the endpoints.
	Keepalive Keepalive
	// LimitReqStatus is the status of requests over limit-rps or
	// limit-rpm; LimitConnStatus of those over limit-connections.
	LimitReqStatus uint32
	// GlobalRateLimitStatus is the status of requests over
	// global-rate-limit.
	GlobalRateLimitStatus uint32
	LimitConnStatus       uint32
	// CustomHTTPErrors are the backend statuses whose responses the
	// default backend's answer replaces (custom-http-errors).
	CustomHTTPErrors []uint32
	// AccessLog is what the access-log keys ask.
	AccessLog AccessLogSettings
	// Headers is what the keys about headers ask.
	Headers HeaderSettings
	// RealIP is how the client's address and the forwarded headers are
	// found (use-forwarded-headers, enable-real-ip, use-proxy-protocol and
	// the keys they read).
	RealIP RealIP
	// Block refuses requests from every host (block-cidrs,
	// block-user-agents, block-referers).
	Block ir.Block
	// Clients are the settings of client connections and of the Server
	// header.
	Clients Clients
	// Gzip and Brotli compress responses; both are off by default.
	Gzip, Brotli Compression
	// StreamTimeout closes a TCP service's connection after this long
	// without a byte either way; StreamConnectAttempts is how many
	// endpoints a connection that cannot connect tries in all.
	StreamTimeout         time.Duration
	StreamConnectAttempts uint32
	// GlobalAuth, when set, protects every route whose Ingress has no
	// auth-url and does not opt out (global-auth-url); GlobalAuthFail
	// makes those routes answer 503 instead, when it could not be read.
	// NoAuthLocations are path prefixes that no external authentication
	// protects.
	GlobalAuth      *ExternalAuth
	GlobalAuthFail  bool
	NoAuthLocations []string
	// TLS is what the HTTPS listener offers: ssl-protocols, ssl-ciphers
	// and ssl-ecdh-curve.
	TLS ir.TLSParams
	// Tracing is what the OpenTelemetry keys ask.
	Tracing Tracing
	// ProxyRedirectFrom, ProxyCookieDomain and ProxyCookiePath are the
	// defaults of the annotations of those names, as written ("off" by
	// default).
	ProxyRedirectFrom, ProxyCookieDomain, ProxyCookiePath string
	// RelativeRedirects is the default of the relative-redirects
	// annotation.
	RelativeRedirects bool
}

// DefaultSettings are ingress-nginx's defaults for the keys rukou reads,
// with rukou's where docs/configmap.md says they differ: what applies
// without a ConfigMap.
func DefaultSettings() Settings {
	return Settings{
		SSLRedirect:           true,
		HSTS:                  true,
		HSTSMaxAge:            31536000,
		HSTSIncludeSubdomains: true,
		ConnectTimeout:        5 * time.Second,
		Balance:               BalanceRoundRobin,
		ReadTimeout:           60 * time.Second,
		Retry:                 Retry{On: NextUpstream{Error: true, Timeout: true}, Tries: 3},
		Keepalive:             Keepalive{Connections: 320, Timeout: 60 * time.Second, Requests: 10000, Time: time.Hour},
		MaxBodyBytes:          1 << 20,
		RequestBuffering:      true,
		LimitReqStatus:        503,
		LimitConnStatus:       503,
		GlobalRateLimitStatus: 429,
		Clients:               defaultClients(),
		Gzip:                  defaultGzip(),
		Brotli:                defaultBrotli(),
		StreamTimeout:         600 * time.Second,
		StreamConnectAttempts: 3,
		RealIP: RealIP{
			ForwardedForHeader: "X-Forwarded-For",
			TrustedPeers:       []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")},
		},
		NoAuthLocations: []string{"/.well-known/acme-challenge"},
		TLS:             defaultTLS(),
		Tracing:         defaultTracing(),

		ProxyRedirectFrom: rewriteOff, ProxyCookieDomain: rewriteOff, ProxyCookiePath: rewriteOff,
	}
}

// HSTSValue is the Strict-Transport-Security header the settings ask for,
// "" when none.
func (s *Settings) HSTSValue() string {
	if !s.HSTS {
		return ""
	}
	v := "max-age=" + strconv.FormatUint(s.HSTSMaxAge, 10)
	if s.HSTSIncludeSubdomains {
		v += "; includeSubDomains"
	}
	if s.HSTSPreload {
		v += "; preload"
	}
	return v
}

// Key is one key of ingress-nginx's ConfigMap.
type Key struct {
	Name   string
	Status Status
	// Note says, for the docs' table, what differs or what happens.
	Note string
	// read reads the key into Settings, with the keys that readWith names
	// it; nil when another key's reader reads it, or when nothing does.
	read func(*reader, *Settings)
	// readWith names the key whose reader reads this one too.
	readWith string
}

// LookupKey returns the entry of a ConfigMap key.
func LookupKey(name string) (Key, bool) {
	return lookupSorted(Keys, name, func(k Key) string { return k.Name })
}

// KeyField is the field path of a ConfigMap key in diagnostics.
func KeyField(name string) string { return "data[" + name + "]" }

// ReadConfigMap reads the data of ingress-nginx's ConfigMap. Each key that
// is not honoured as written (unknown, refused, not yet read, or with a
// value that cannot be used) is reported, in the order of the names, and
// its default applies; one bad key never affects another.
func ReadConfigMap(data map[string]string) (Settings, []Issue) {
	s := DefaultSettings()
	if len(data) == 0 {
		return s, nil
	}
	r := &reader{values: map[string]string{}}
	for k, v := range data {
		r.values[k] = strings.TrimSpace(v)
	}
	for _, k := range Keys {
		if k.read != nil {
			k.read(r, &s)
		}
	}
	for _, name := range r.names() {
		k, known := LookupKey(name)
		switch {
		case !known:
			r.issue(name, ir.ReasonConfigKeyIgnored, "not a key of ingress-nginx's ConfigMap that rukou knows; ignored (see docs/configmap.md)")
		case k.Status == Refused && (strings.HasSuffix(k.Note, "configuration text") || name == "allow-snippet-annotations"):
			r.issue(name, ir.ReasonSnippetRefused, "refused: %s", k.Note)
		case k.Status == Refused:
			r.issue(name, ir.ReasonConfigKeyIgnored, "refused: %s", k.Note)
		case k.read == nil && k.readWith == "":
			r.issue(name, ir.ReasonConfigKeyIgnored, "not supported yet; ignored (see docs/configmap.md)")
		}
	}
	for i := range r.issues {
		// The reader's checks are the annotations'; here they judge a key.
		switch r.issues[i].Reason {
		case ir.ReasonInvalidAnnotation:
			r.issues[i].Reason = ir.ReasonInvalidConfigValue
		case ir.ReasonAnnotationIgnored:
			r.issues[i].Reason = ir.ReasonConfigKeyIgnored
		}
	}
	slices.SortStableFunc(r.issues, func(x, y Issue) int { return strings.Compare(x.Name, y.Name) })
	return s, r.issues
}

func readGlobalSSLRedirect(r *reader, s *Settings) {
	s.SSLRedirect = r.boolean("ssl-redirect", s.SSLRedirect)
}

func readHSTS(r *reader, s *Settings) {
	s.HSTS = r.boolean("hsts", s.HSTS)
	s.HSTSIncludeSubdomains = r.boolean("hsts-include-subdomains", s.HSTSIncludeSubdomains)
	s.HSTSPreload = r.boolean("hsts-preload", s.HSTSPreload)
	// nginx writes max-age as given; a browser reads a number of seconds.
	if n, ok := r.number("hsts-max-age", 0, 1<<31-1); ok {
		s.HSTSMaxAge = uint64(n)
	}
}

func readGlobalBalance(r *reader, s *Settings) {
	if b, ok := r.balance("load-balance"); ok {
		s.Balance = b
	}
}

func readGlobalTimeouts(r *reader, s *Settings) {
	if d := r.seconds("proxy-connect-timeout"); d != 0 {
		s.ConnectTimeout = d
	}
	if d := r.seconds("proxy-read-timeout"); d != 0 {
		s.ReadTimeout = d
	}
	if d := r.seconds("proxy-send-timeout"); d != 0 {
		s.SendTimeout = d
	}
}

// readGlobalNextUpstream reads the defaults of the proxy-next-upstream
// annotations and retry-non-idempotent.
func readGlobalNextUpstream(r *reader, s *Settings) {
	r.readNextUpstream(&s.Retry)
	s.RetryNonIdempotent = r.boolean("retry-non-idempotent", s.RetryNonIdempotent)
}

func readGlobalBodySize(r *reader, s *Settings) {
	if n, ok := r.size("proxy-body-size", "using 1m"); ok {
		s.MaxBodyBytes = n
	}
}

func readGlobalRelativeRedirects(r *reader, s *Settings) {
	s.RelativeRedirects = r.boolean("relative-redirects", s.RelativeRedirects)
}

func readUnderscores(r *reader, s *Settings) {
	s.UnderscoresInHeaders = r.boolean("enable-underscores-in-headers", s.UnderscoresInHeaders)
}

// readGlobalAccess reads the default client address ranges. A range that
// cannot be read makes every Ingress without its own ranges answer 403,
// rather than let through clients the key meant to keep out.
func readGlobalAccess(r *reader, s *Settings) {
	const fallback = "every request of Ingresses without their own ranges answers 403"
	allow, _, allowOK := r.addresses("whitelist-source-range", fallback)
	deny, _, denyOK := r.addresses("denylist-source-range", fallback)
	s.Allow, s.Deny, s.DenyAll = allow, deny, !allowOK || !denyOK
}

// readLimitStatus reads limit-req-status-code, limit-conn-status-code and
// global-rate-limit-status-code: client or server error statuses that HTTP
// defines (and Envoy can send: not 418, 425 or 451).
func readLimitStatus(r *reader, s *Settings) {
	for name, status := range map[string]*uint32{
		"limit-req-status-code": &s.LimitReqStatus, "limit-conn-status-code": &s.LimitConnStatus,
		"global-rate-limit-status-code": &s.GlobalRateLimitStatus,
	} {
		n, ok := r.number(name, 400, 599)
		if !ok {
			continue
		}
		if http.StatusText(int(n)) == "" || n == 418 || n == 425 || n == 451 {
			r.invalid(name, "is not an HTTP error status Envoy can answer with", fmt.Sprintf("using %d", *status))
			continue
		}
		*status = uint32(n)
	}
}

// ConfigTable renders Keys as docs/configmap.md's table of every key.
func ConfigTable() string {
	return statusTable("key", Keys, func(k Key) (string, Status, string) { return k.Name, k.Status, k.Note })
}

// Keys lists every key of ingress-nginx's ConfigMap reference
// (docs/user-guide/nginx-configuration/configmap.md), sorted by name.
var Keys = []Key{
	{Name: "access-log-params", Status: NotYet, Note: "Envoy buffers the log itself and flushes it every 10 seconds"},
	{Name: "access-log-path", Status: Differs, Note: logPathNote, read: readAccessLog},
	{Name: "add-headers", Status: Differs, Note: headersNote, readWith: "generate-request-id"},
	{Name: "allow-backend-server-header", Status: Supported, readWith: "keep-alive"},
	{Name: "allow-cross-namespace-resources", Status: NotYet},
	{Name: "allow-snippet-annotations", Status: Refused, Note: "rukou never honours snippet annotations, whatever the value"},
	{Name: "annotation-value-word-blocklist", Status: Refused, Note: "rukou checks every annotation value itself and never splices text into configuration"},
	{Name: "annotations-risk-level", Status: Refused, Note: "rukou checks every annotation value itself and never splices text into configuration"},
	{Name: "bind-address", Status: NotYet},
	{Name: "block-cidrs", Status: Differs, Note: "blocks on every route, first, also where an Ingress has its own allow or deny list (which replaces nginx's global `deny`)", read: readBlocks},
	{Name: "block-referers", Status: Differs, Note: "regular expressions are RE2 (`~` and `~*` as in nginx); what RE2 cannot express is refused", readWith: "block-cidrs"},
	{Name: "block-user-agents", Status: Differs, Note: "regular expressions are RE2 (`~` and `~*` as in nginx); what RE2 cannot express is refused", readWith: "block-cidrs"},
	{Name: "brotli-level", Status: Supported, readWith: "use-gzip"},
	{Name: "brotli-min-length", Status: Supported, readWith: "use-gzip"},
	{Name: "brotli-types", Status: Supported, readWith: "use-gzip"},
	{Name: "client-body-buffer-size", Status: Differs, Note: requestBufferNote, readWith: "proxy-request-buffering"},
	{Name: "client-body-timeout", Status: NotYet, Note: "Envoy has no timeout between two reads of a body; a stalled upload is closed by the stream idle timeout (5 minutes, or the route's read timeout when longer)"},
	{Name: "client-header-buffer-size", Status: Differs, Note: "counts only as a bound of a request's headers, when larger than `large-client-header-buffers` holds", readWith: "keep-alive"},
	{Name: "client-header-timeout", Status: Supported, readWith: "keep-alive"},
	{Name: "compute-full-forwarded-for", Status: Differs, Note: "entries are joined with `,` where nginx writes `, `; with `forwarded-for-header` X-Forwarded-For only", readWith: "use-forwarded-headers"},
	{Name: "custom-http-errors", Status: Differs, Note: "without a default backend the backend's answer passes through, where ingress-nginx sends its built-in page (docs/ingress.md#custom-error-pages)", read: readCustomHTTPErrors},
	{Name: "debug-connections", Status: NotYet},
	{Name: "default-type", Status: NotYet},
	{Name: "denylist-source-range", Status: Supported, Note: "the default of `denylist-source-range`", readWith: "whitelist-source-range"},
	{Name: "disable-access-log", Status: Supported, readWith: "access-log-path"},
	{Name: "disable-ipv6", Status: NotYet},
	{Name: "disable-ipv6-dns", Status: NotYet},
	{Name: "enable-access-log-for-default-backend", Status: Supported, Note: "the requests no rule serves", readWith: "access-log-path"},
	{Name: "enable-aio-write", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "enable-brotli", Status: Supported, readWith: "use-gzip"},
	{Name: "enable-modsecurity", Status: Refused, Note: wafNote},
	{Name: "enable-multi-accept", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "enable-ocsp", Status: NotYet},
	{Name: "enable-opentelemetry", Status: Differs, Note: "spans go over OTLP gRPC to `otlp-collector-host` (docs/tracing.md)", read: readTracing},
	{Name: "enable-owasp-modsecurity-crs", Status: Refused, Note: wafNote},
	{Name: "enable-real-ip", Status: Supported, readWith: "use-forwarded-headers"},
	{Name: "enable-serial-reloads", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "enable-syslog", Status: NotYet},
	{Name: "enable-underscores-in-headers", Status: Supported, read: readUnderscores},
	{Name: "error-log-level", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "error-log-path", Status: Differs, Note: "Envoy writes its own log on its standard error only", read: readErrorLogPath},
	{Name: "force-ssl-redirect", Status: NotYet},
	{Name: "forwarded-for-header", Status: Differs, Note: "a header other than X-Forwarded-For must hold one address, and needs `proxy-real-ip-cidr` to trust every peer", readWith: "use-forwarded-headers"},
	{Name: "forwarded-for-proxy-protocol-header", Status: Refused, Note: "names an intermediate header of nginx's configuration, which rukou does not need; ignored"},
	{Name: "generate-request-id", Status: Differs, Note: "a generated ID is a UUID (nginx: 32 hex digits)", read: readHeaderKeys},
	{Name: "geoip2-autoreload-in-minutes", Status: NotYet},
	{Name: "global-allowed-response-headers", Status: Supported, Note: "compared with the names of `custom-headers` as written", read: readAllowedResponseHeaders},
	{Name: "global-auth-always-set-cookie", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-cache-duration", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-cache-key", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-method", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-request-redirect", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-response-headers", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-signin", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-signin-redirect-param", Status: Supported, readWith: "global-auth-url"},
	{Name: "global-auth-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "global-auth-url", Status: Differs, Note: "a value that cannot be used makes the routes it would protect answer 503 (ingress-nginx serves them unprotected)", read: readGlobalAuth},
	{Name: "global-rate-limit-memcached-connect-timeout", Status: Refused, Note: memcachedNote},
	{Name: "global-rate-limit-memcached-host", Status: Refused, Note: memcachedNote},
	{Name: "global-rate-limit-memcached-max-idle-timeout", Status: Refused, Note: memcachedNote},
	{Name: "global-rate-limit-memcached-pool-size", Status: Refused, Note: memcachedNote},
	{Name: "global-rate-limit-memcached-port", Status: Refused, Note: memcachedNote},
	{Name: "global-rate-limit-status-code", Status: Supported, Note: "the status of `global-rate-limit`", readWith: "limit-req-status-code"},
	{Name: "grpc-buffer-size-kb", Status: NotYet},
	{Name: "gzip-disable", Status: Differs, Note: "RE2 expressions only (no look-arounds or back-references); `msie6` also matches MSIE 6 with SV1", readWith: "use-gzip"},
	{Name: "gzip-level", Status: Supported, readWith: "use-gzip"},
	{Name: "gzip-min-length", Status: Supported, readWith: "use-gzip"},
	{Name: "gzip-types", Status: Supported, readWith: "use-gzip"},
	{Name: "hide-headers", Status: Supported, Note: "removed from every response, also rukou's own", readWith: "generate-request-id"},
	{Name: "hsts", Status: Supported, read: readHSTS},
	{Name: "hsts-include-subdomains", Status: Supported, readWith: "hsts"},
	{Name: "hsts-max-age", Status: Supported, readWith: "hsts"},
	{Name: "hsts-preload", Status: Supported, readWith: "hsts"},
	{Name: "http-access-log-path", Status: Differs, Note: logPathNote, readWith: "access-log-path"},
	{Name: "http-redirect-code", Status: NotYet},
	{Name: "http-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "http2-max-concurrent-streams", Status: Supported, readWith: "keep-alive"},
	{Name: "http2-max-field-size", Status: Refused, Note: obsoleteHTTP2Note},
	{Name: "http2-max-header-size", Status: Refused, Note: obsoleteHTTP2Note},
	{Name: "http2-max-requests", Status: Refused, Note: obsoleteHTTP2Note},
	{Name: "ignore-invalid-headers", Status: NotYet},
	{Name: "jaeger-baggage-header", Status: NotYet},
	{Name: "jaeger-collector-host", Status: NotYet},
	{Name: "jaeger-collector-port", Status: NotYet},
	{Name: "jaeger-debug-header", Status: NotYet},
	{Name: "jaeger-endpoint", Status: NotYet},
	{Name: "jaeger-propagation-format", Status: NotYet},
	{Name: "jaeger-sampler-host", Status: NotYet},
	{Name: "jaeger-sampler-param", Status: NotYet},
	{Name: "jaeger-sampler-port", Status: NotYet},
	{Name: "jaeger-sampler-type", Status: NotYet},
	{Name: "jaeger-service-name", Status: NotYet},
	{Name: "jaeger-trace-baggage-header-prefix", Status: NotYet},
	{Name: "jaeger-trace-context-header-name", Status: NotYet},
	{Name: "keep-alive", Status: Supported, read: readClients},
	{Name: "keep-alive-requests", Status: Supported, readWith: "keep-alive"},
	{Name: "large-client-header-buffers", Status: Differs, Note: "bounds a request's line and headers together (number times size), not each line; too large answers 431 (nginx: 400 or 414)", readWith: "keep-alive"},
	{Name: "limit-conn-status-code", Status: Supported, Note: "the status of `limit-connections`", readWith: "limit-req-status-code"},
	{Name: "limit-conn-zone-variable", Status: NotYet},
	{Name: "limit-rate", Status: Differs, Note: limitRateNote, readWith: "proxy-request-buffering"},
	{Name: "limit-rate-after", Status: Differs, Note: limitRateAfterNote, readWith: "proxy-request-buffering"},
	{Name: "limit-req-status-code", Status: Supported, Note: "the status of `limit-rps` and `limit-rpm`", read: readLimitStatus},
	{Name: "load-balance", Status: Differs, Note: loadBalanceNote, read: readGlobalBalance},
	{Name: "location-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "log-format-escape-json", Status: Differs, Note: "only for a format that is a JSON object; members in key order, a lone variable keeps its type", readWith: "access-log-path"},
	{Name: "log-format-escape-none", Status: Supported, Note: "Envoy never escapes a text line", readWith: "access-log-path"},
	{Name: "log-format-stream", Status: NotYet, Note: streamLogNote},
	{Name: "log-format-upstream", Status: Differs, Note: "each variable as docs/edge.md maps it; a variable rukou cannot print is reported and the default format applies", readWith: "access-log-path"},
	{Name: "lua-shared-dicts", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "main-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "map-hash-bucket-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "max-worker-connections", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "max-worker-open-files", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "modsecurity-snippet", Status: Refused, Note: "ModSecurity configuration text"},
	{Name: "nginx-status-ipv4-whitelist", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "nginx-status-ipv6-whitelist", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "no-auth-locations", Status: Supported, readWith: "global-auth-url"},
	{Name: "no-tls-redirect-locations", Status: NotYet},
	{Name: "opentelemetry-config", Status: Refused, Note: "rukou writes no nginx module configuration; the otel-* keys set the tracer"},
	{Name: "opentelemetry-operation-name", Status: Supported, readWith: "enable-opentelemetry"},
	{Name: "opentelemetry-trust-incoming-span", Status: Supported, Note: "off, Envoy drops traceparent and tracestate before tracing, so the backend sees the new trace only", readWith: "enable-opentelemetry"},
	{Name: "otel-max-export-batch-size", Status: Refused, Note: otelBatchNote},
	{Name: "otel-max-queuesize", Status: Refused, Note: otelBatchNote},
	{Name: "otel-sampler", Status: Supported, readWith: "enable-opentelemetry"},
	{Name: "otel-sampler-parent-based", Status: Differs, Note: "read but not followed: Envoy samples every request by `otel-sampler` alone, as with `false`, whatever an incoming span's sampled flag says", readWith: "enable-opentelemetry"},
	{Name: "otel-sampler-ratio", Status: Supported, readWith: "enable-opentelemetry"},
	{Name: "otel-schedule-delay-millis", Status: Refused, Note: otelBatchNote},
	{Name: "otel-service-name", Status: Supported, readWith: "enable-opentelemetry"},
	{Name: "otlp-collector-host", Status: Supported, readWith: "enable-opentelemetry"},
	{Name: "otlp-collector-port", Status: Supported, readWith: "enable-opentelemetry"},
	{Name: "proxy-add-original-uri-header", Status: Supported, readWith: "generate-request-id"},
	{Name: "proxy-body-size", Status: Differs, Note: "gRPC backends get no limit unless their Ingress sets one; the body is held in memory", read: readGlobalBodySize},
	{Name: "proxy-buffer-size", Status: Differs, Note: bufferSizeNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-buffering", Status: Differs, Note: proxyBufferingNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-buffers-number", Status: Differs, Note: responseBufferNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-busy-buffers-size", Status: Differs, Note: responseBufferNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-connect-timeout", Status: Supported, read: readGlobalTimeouts},
	{Name: "proxy-cookie-domain", Status: Differs, Note: "the default of the annotation (annotations.md, Response headers); a regular expression (`~`) is not supported: reported, `off` applies", read: readGlobalRewrites},
	{Name: "proxy-cookie-path", Status: Differs, Note: "the default of the annotation (annotations.md, Response headers); a regular expression (`~`) is not supported: reported, `off` applies", readWith: "proxy-cookie-domain"},
	{Name: "proxy-headers-hash-bucket-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "proxy-headers-hash-max-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "proxy-next-upstream", Status: Differs, Note: nextUpstreamNote, read: readGlobalNextUpstream},
	{Name: "proxy-next-upstream-timeout", Status: Differs, Note: nextUpstreamTimeoutNote, readWith: "proxy-next-upstream"},
	{Name: "proxy-next-upstream-tries", Status: Differs, Note: nextUpstreamTriesNote, readWith: "proxy-next-upstream"},
	{Name: "proxy-protocol-header-timeout", Status: NotYet},
	{Name: "proxy-read-timeout", Status: Supported, readWith: "proxy-connect-timeout"},
	{Name: "proxy-real-ip-cidr", Status: Differs, Note: "with `use-proxy-protocol` alone, the PROXY header's address is taken from every peer", readWith: "use-forwarded-headers"},
	{Name: "proxy-redirect-from", Status: Differs, Note: "the default of the annotation; with no `proxy-redirect-to` key (ingress-nginx documents none), it applies where an Ingress sets `proxy-redirect-to`", readWith: "proxy-cookie-domain"},
	{Name: "proxy-request-buffering", Status: Differs, Note: requestBufferingNote, read: readGlobalTuning},
	{Name: "proxy-send-timeout", Status: Differs, Note: "a stream idle timeout, at least the read timeout (as the annotation)", readWith: "proxy-connect-timeout"},
	{Name: "proxy-set-headers", Status: Differs, Note: headersNote, readWith: "generate-request-id"},
	{Name: "proxy-ssl-location-only", Status: NotYet, Note: "rukou always behaves as with `true`: the proxy-ssl-* annotations apply to their Ingress's own paths only"},
	{Name: "proxy-stream-next-upstream", Status: Supported, Note: "TCP services (docs/tcp-udp.md)", read: readStreamKeys},
	{Name: "proxy-stream-next-upstream-timeout", Status: NotYet},
	{Name: "proxy-stream-next-upstream-tries", Status: Differs, Note: "TCP services; `0`, nginx's no limit, is taken as 3", readWith: "proxy-stream-next-upstream"},
	{Name: "proxy-stream-responses", Status: NotYet, Note: "a UDP session lasts until it has been idle for a minute (docs/tcp-udp.md)"},
	{Name: "proxy-stream-timeout", Status: Differs, Note: "TCP services only; UDP sessions end after a minute without datagrams (docs/tcp-udp.md)", readWith: "proxy-stream-next-upstream"},
	{Name: "relative-redirects", Status: Supported, Note: "the default of the annotation", read: readGlobalRelativeRedirects},
	{Name: "retry-non-idempotent", Status: Supported, Note: "adds `non_idempotent` to every `proxy-next-upstream`", readWith: "proxy-next-upstream"},
	{Name: "reuse-port", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "server-name-hash-bucket-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "server-name-hash-max-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "server-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "server-tokens", Status: Differs, Note: "`\"true\"` sends `server: envoy` (nginx: its name and version); by default no Server header, as ingress-nginx", readWith: "keep-alive"},
	{Name: "service-upstream", Status: NotYet},
	{Name: "skip-access-log-urls", Status: Differs, Note: "regular expressions are RE2", readWith: "access-log-path"},
	{Name: "ssl-buffer-size", Status: NotYet},
	{Name: "ssl-ciphers", Status: Differs, Note: "names Envoy's BoringSSL does not know (DHE suites, CBC suites with SHA-384, cipher keywords such as `HIGH`) are reported and left out; ingress-nginx's default list without its two DHE suites, which nginx offers only with `ssl-dh-param`", read: readSSLCiphers},
	{Name: "ssl-dh-param", Status: NotYet},
	{Name: "ssl-ecdh-curve", Status: Supported, Note: "`auto` is Envoy's own list; OpenSSL names (`prime256v1`, `secp384r1`, `X25519`) are read", read: readSSLECDHCurve},
	{Name: "ssl-protocols", Status: Differs, Note: "Envoy offers a range of versions: a list with a gap (`TLSv1 TLSv1.2`) offers the versions in between too, and is reported; `SSLv2` and `SSLv3` are never offered", read: readSSLProtocols},
	{Name: "ssl-redirect", Status: Supported, Note: "the default of the `ssl-redirect` annotation", read: readGlobalSSLRedirect},
	{Name: "ssl-reject-handshake", Status: NotYet},
	{Name: "ssl-session-cache", Status: NotYet},
	{Name: "ssl-session-cache-size", Status: NotYet},
	{Name: "ssl-session-ticket-key", Status: NotYet},
	{Name: "ssl-session-tickets", Status: NotYet},
	{Name: "ssl-session-timeout", Status: NotYet},
	{Name: "stream-access-log-path", Status: NotYet, Note: streamLogNote},
	{Name: "stream-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "strict-validate-path-type", Status: NotYet},
	{Name: "syslog-host", Status: NotYet},
	{Name: "syslog-port", Status: NotYet},
	{Name: "upstream-keepalive-connections", Status: Differs, Note: "only `0` (a connection per request) changes anything: Envoy keeps every idle connection until `upstream-keepalive-timeout`, with no count to cap", read: readKeepalive},
	{Name: "upstream-keepalive-requests", Status: Supported, Note: "Envoy's `max_requests_per_connection`", readWith: "upstream-keepalive-connections"},
	{Name: "upstream-keepalive-time", Status: Supported, Note: "Envoy's `max_connection_duration`", readWith: "upstream-keepalive-connections"},
	{Name: "upstream-keepalive-timeout", Status: Supported, Note: "Envoy's upstream `idle_timeout`", readWith: "upstream-keepalive-connections"},
	{Name: "use-forwarded-headers", Status: Differs, Note: "an X-Forwarded-Host list gives its whole value, nginx its first entry", read: readRealIP},
	{Name: "use-geoip", Status: NotYet},
	{Name: "use-geoip2", Status: NotYet},
	{Name: "use-gzip", Status: Supported, read: readCompression},
	{Name: "use-http2", Status: Supported, readWith: "keep-alive"},
	{Name: "use-proxy-protocol", Status: Supported, readWith: "use-forwarded-headers"},
	{Name: "variables-hash-bucket-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "variables-hash-max-size", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "whitelist-source-range", Status: Supported, Note: "the default of `allowlist-source-range`", read: readGlobalAccess},
	{Name: "worker-cpu-affinity", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "worker-processes", Status: Refused, Note: "nginx tuning with no Envoy counterpart; ignored"},
	{Name: "worker-shutdown-timeout", Status: NotYet},
}

// logPathNote is the note of the access log's path keys.
const logPathNote = "`/dev/stdout` or `/dev/stderr` only: Envoy writes no log file"

// streamLogNote is the note of the stream log's keys.
const streamLogNote = "the TCP and UDP services log in ingress-nginx's default stream format (docs/tcp-udp.md); this key does not change it yet"

// headersNote is the note of proxy-set-headers and add-headers.
const headersNote = "the named ConfigMap must be in a namespace that rukou watches (that of `--configmap`, say); variables as docs/configmap.md lists them"

// obsoleteHTTP2Note is the note of the HTTP/2 keys that nginx itself
// ignores since 1.19.7.
const obsoleteHTTP2Note = "obsolete: the nginx of ingress-nginx ignores it; `large-client-header-buffers` and `keep-alive-requests` apply to HTTP/2"

// The notes of the proxy-next-upstream keys and annotations.
// memcachedNote is the note of ingress-nginx's memcached keys, which its
// global-rate-limit counted in.
const memcachedNote = "rukou counts `global-rate-limit` in envoyproxy/ratelimit with Redis, not memcached (`rukou serve --global-rate-limit-service`, docs/ratelimit.md); ignored"

const (
	nextUpstreamNote        = "Envoy's retry policy; `error` also retries a read timeout, and `invalid_header` any dropped connection (docs/edge.md)"
	nextUpstreamTimeoutNote = "Envoy's route timeout: it bounds the whole response too, not only the time to retry"
	nextUpstreamTriesNote   = "`0` (nginx: no limit) keeps the default; at most 10"
)

// otelBatchNote is why the OpenTelemetry batching keys are refused.
const otelBatchNote = "Envoy's tracer batches spans by itself (`max_cache_size` 1024, sent every 5 seconds or 5 spans); ignored"
