package nginx

import "slices"

// Status is what rukou does with an annotation.
type Status string

const (
	// Supported annotations behave as in ingress-nginx.
	Supported Status = "supported"
	// Differs marks annotations that behave as in ingress-nginx except
	// where the entry's note says.
	Differs Status = "supported with differences"
	// Refused annotations are never honoured, on purpose, and reported.
	Refused Status = "refused"
	// NotYet annotations are not honoured yet, and reported.
	NotYet Status = "not yet"
)

// On is the kind of Ingress an annotation is read on.
type On int

const (
	// OnPrimary annotations are read on Ingresses that are not canaries;
	// on a canary they are reported, since its paths follow the primary.
	OnPrimary On = iota
	// OnCanary annotations are read on canary Ingresses only.
	OnCanary
	// OnBoth annotations are read on either.
	OnBoth
)

// Entry is one annotation of ingress-nginx.
type Entry struct {
	// Name is the annotation's name without Prefix.
	Name string
	// Former is the name it had before, still read when Name is not set.
	Former string
	Status Status
	// Note says, for the docs' table, what differs or what happens.
	Note string
	On   On
	// read reads the annotation into Annotations, with those that
	// readWith names it; nil when another entry's reader reads it, or
	// when nothing does.
	read func(*reader, *Annotations)
	// readWith names the entry whose reader reads this one too.
	readWith string
}

func (e Entry) appliesTo(canary bool) bool {
	switch e.On {
	case OnCanary:
		return canary
	case OnPrimary:
		return !canary
	}
	return true
}

// Lookup returns the entry of an annotation, by its name or by its former
// name.
func Lookup(name string) (Entry, bool) {
	i, ok := byName[name]
	if !ok {
		return Entry{}, false
	}
	return Registry[i], true
}

// byName indexes Registry by name and former name, and readers lists the
// entries with a reader, in the registry's order. Both are derived from
// Registry once and never change.
var (
	byName  = indexByName(Registry)
	readers = slices.DeleteFunc(slices.Clone(Registry), func(e Entry) bool { return e.read == nil })
)

func indexByName(entries []Entry) map[string]int {
	out := make(map[string]int, len(entries)+2)
	for i, e := range entries {
		out[e.Name] = i
		if e.Former != "" {
			out[e.Former] = i
		}
	}
	return out
}

// Registry lists every annotation of ingress-nginx's reference (its
// annotations page and its annotation risk table, which holds the newer
// names), sorted by name. The readers run in this order, so an annotation
// that another depends on comes first by name (rewrite-target before
// x-forwarded-prefix).
var Registry = []Entry{
	{Name: "affinity", Status: Supported, Note: "`cookie`, the only type", On: OnBoth, read: readAffinity},
	{Name: "affinity-canary-behavior", Status: Supported, Note: "`sticky`: the session cookie's value names the side that issued it, and a cookie of either side keeps the client there before the canary's header, cookie and weight are consulted; `legacy`: only the primary issues the cookie (and keeps its clients), the canary is chosen as if there were no affinity", On: OnCanary, readWith: "canary"},
	{Name: "affinity-mode", Status: Differs, Note: "`balanced` (Envoy's ring hash), `persistent` (Envoy's stateful session: the cookie names the endpoint, and a session never moves while its endpoint stays); on a route with a canary, `persistent` acts as `balanced`, as the cookie must name the side that issued it", On: OnBoth, readWith: "affinity"},
	{Name: "allowlist-source-range", Former: "whitelist-source-range", Status: Supported, read: readAccess},
	{Name: "app-root", Status: Supported, read: readAppRoot},
	{Name: "auth-always-set-cookie", Status: Supported, readWith: "auth-url"},
	{Name: "auth-cache-duration", Status: Differs, Note: "a value that cannot be read answers 503 (ingress-nginx drops the authentication); `Cache-Control` max-age and `Expires` of the auth response are not read", readWith: "auth-url"},
	{Name: "auth-cache-key", Status: Supported, readWith: "auth-url"},
	{Name: "auth-keepalive", Status: Supported, readWith: "auth-url"},
	{Name: "auth-keepalive-requests", Status: Supported, readWith: "auth-url"},
	{Name: "auth-keepalive-share-vars", Status: Differs, Note: "nothing to share: rukou has no nginx variables", readWith: "auth-url"},
	{Name: "auth-keepalive-timeout", Status: Supported, readWith: "auth-url"},
	{Name: "auth-method", Status: Supported, readWith: "auth-url"},
	{Name: "auth-proxy-set-headers", Status: Supported, Note: "a ConfigMap of the Ingress's namespace", readWith: "auth-url"},
	{Name: "auth-realm", Status: Differs, Note: "a realm ingress-nginx's validation refuses, or `off`, answers 503 (ingress-nginx drops the authentication)", readWith: "auth-type"},
	{Name: "auth-request-redirect", Status: Supported, readWith: "auth-url"},
	{Name: "auth-response-headers", Status: Supported, readWith: "auth-url"},
	{Name: "auth-secret", Status: Supported, Note: "a Secret of the Ingress's namespace (`allow-cross-namespace-resources` is not supported); missing, or without its key: 503", readWith: "auth-type"},
	{Name: "auth-secret-type", Status: Supported, Note: "`auth-file`, `auth-map`; hashes: bcrypt, `$apr1$`, `$1$`, `{SHA}`, `{SSHA}`, `$5$`, `$6$`", readWith: "auth-type"},
	{Name: "auth-signin", Status: Supported, readWith: "auth-url"},
	{Name: "auth-signin-redirect-param", Status: Supported, readWith: "auth-url"},
	{Name: "auth-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "auth-tls-error-page", Status: Differs, Note: "an http(s) URL or a path, answered with a 302 to it (nginx serves a path from the same host itself); an nginx location (`@name`) answers 503", readWith: "auth-tls-secret"},
	{Name: "auth-tls-match-cn", Status: Supported, Note: "RE2, searched in the subject DN (RFC 2253) as nginx does; no match answers 403 for the whole host", readWith: "auth-tls-secret"},
	{Name: "auth-tls-pass-certificate-to-upstream", Status: Supported, Note: "`ssl-client-cert`: the URL-encoded PEM", readWith: "auth-tls-secret"},
	{Name: "auth-tls-secret", Status: Differs, Note: clientCertNote, read: readClientCert},
	{Name: "auth-tls-verify-client", Status: Differs, Note: "`on`, `off`, `optional`, `optional_no_ca`; with `optional_no_ca` a certificate that fails (expired, revoked, unknown CA) is admitted with `ssl-client-verify: FAILED` (nginx adds the reason after `FAILED:`)", readWith: "auth-tls-secret"},
	{Name: "auth-tls-verify-depth", Status: Supported, readWith: "auth-tls-secret"},
	{Name: "auth-type", Status: Differs, Note: "`basic` (see authentication.md); `digest` answers 503 (`AuthenticationUnsupported`)", read: readBasicAuth},
	{Name: "auth-url", Status: Differs, Note: "see authentication.md: the URL the auth service is told is the normalised one; the timeout is for the whole auth request", read: readAuthURL},
	{Name: "backend-protocol", Status: Differs, Note: "`FCGI` and `AJP` answer 503; `AUTO_HTTP` speaks the client's scheme, as ingress-nginx's `$scheme`", read: readProtocol},
	{Name: "canary", Status: Supported, On: OnBoth, read: readCanary},
	{Name: "canary-by-cookie", Status: Supported, On: OnCanary, readWith: "canary"},
	{Name: "canary-by-header", Status: Supported, On: OnCanary, readWith: "canary"},
	{Name: "canary-by-header-pattern", Status: Differs, Note: "RE2; a pattern RE2 refuses keeps requests with the header on the primary, as ingress-nginx does on a pattern error", On: OnCanary, readWith: "canary"},
	{Name: "canary-by-header-value", Status: Supported, On: OnCanary, readWith: "canary"},
	{Name: "canary-weight", Status: Supported, On: OnCanary, readWith: "canary"},
	{Name: "canary-weight-total", Status: Differs, Note: "totals below 100 honoured", On: OnCanary, readWith: "canary"},
	{Name: "client-body-buffer-size", Status: Differs, Note: requestBufferNote, readWith: "proxy-request-buffering"},
	{Name: "configuration-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "connection-proxy-header", Status: Supported, Note: "`close`, `keep-alive`", readWith: "proxy-request-buffering"},
	{Name: "cors-allow-credentials", Status: Supported, readWith: "enable-cors"},
	{Name: "cors-allow-headers", Status: Supported, readWith: "enable-cors"},
	{Name: "cors-allow-methods", Status: Supported, readWith: "enable-cors"},
	{Name: "cors-allow-origin", Status: Differs, Note: "matched completely; an entry ingress-nginx's whole-value check refuses (one with a path, say) is left out and reported, where ingress-nginx then allows every origin", readWith: "enable-cors"},
	{Name: "cors-expose-headers", Status: Supported, readWith: "enable-cors"},
	{Name: "cors-max-age", Status: Supported, readWith: "enable-cors"},
	{Name: "custom-headers", Status: Differs, Note: customHeadersNote, read: readCustomHeaders},
	{Name: "custom-http-errors", Status: Differs, Note: "without a default backend the backend's answer passes through, where ingress-nginx sends its built-in page (docs/ingress.md#custom-error-pages)", read: readErrorPages},
	{Name: "default-backend", Status: Differs, Note: "serves the custom-http-errors only; a Service without endpoints still answers 503", readWith: "custom-http-errors"},
	{Name: "denylist-source-range", Status: Supported, readWith: "allowlist-source-range"},
	{Name: "disable-proxy-intercept-errors", Status: Supported, readWith: "custom-http-errors"},
	{Name: "enable-access-log", Status: Supported, read: readAccessLogAnnotation},
	{Name: "enable-cors", Status: Differs, Note: "see CORS", read: readCORS},
	{Name: "enable-global-auth", Status: Supported, read: readEnableGlobalAuth},
	{Name: "enable-influxdb", Status: Refused, Note: influxNote},
	{Name: "enable-modsecurity", Status: Refused, Note: wafNote},
	{Name: "enable-opentelemetry", Status: Supported, Note: "see docs/tracing.md", read: readRouteTracing},
	{Name: "enable-opentracing", Status: Refused, Note: openTracingNote},
	{Name: "enable-owasp-core-rules", Status: Refused, Note: wafNote},
	{Name: "enable-rewrite-log", Status: Refused, Note: "nginx's debug log of its rewrites; Envoy has no such log (the access log shows the path the client sent; `rukou translate` shows each route's rewrite)"},
	{Name: "fastcgi-index", Status: Refused, Note: fastCGINote},
	{Name: "fastcgi-params-configmap", Status: Refused, Note: fastCGINote},
	{Name: "force-ssl-redirect", Status: Differs, Note: "`X-Forwarded-Proto` is not trusted", read: readForceSSLRedirect},
	{Name: "from-to-www-redirect", Status: Differs, Note: "the path keeps its trailing slash", read: readFromToWWW},
	{Name: "global-rate-limit", Status: Differs, Note: globalRateLimitNote, read: readGlobalRateLimit},
	{Name: "global-rate-limit-ignored-cidrs", Status: Supported, readWith: "global-rate-limit"},
	{Name: "global-rate-limit-key", Status: Differs, Note: "`$remote_addr`, `$request_uri` (the normalised path), `$host` (as sent, with its port), `$http_*`, `$arg_*` and their combinations, up to 4 (text between variables is left out); another variable is reported and `$remote_addr` counts", readWith: "global-rate-limit"},
	{Name: "global-rate-limit-window", Status: Differs, Note: "fixed windows of a second, minute, hour or day (ingress-nginx: a sliding window of any length); another window counts in the longest of those below it with the limit scaled down, reported", readWith: "global-rate-limit"},
	{Name: "http2-push-preload", Status: Refused, Note: "Envoy has no HTTP/2 server push, which browsers have dropped"},
	{Name: "influxdb-host", Status: Refused, Note: influxNote},
	{Name: "influxdb-measurement", Status: Refused, Note: influxNote},
	{Name: "influxdb-port", Status: Refused, Note: influxNote},
	{Name: "influxdb-server-name", Status: Refused, Note: influxNote},
	{Name: "limit-allowlist", Former: "limit-whitelist", Status: Supported, readWith: "limit-rps"},
	{Name: "limit-burst-multiplier", Status: Supported, readWith: "limit-rps"},
	{Name: "limit-connections", Status: Differs, Note: "counted until the response headers", readWith: "limit-rps"},
	{Name: "limit-rate", Status: Differs, Note: limitRateNote, readWith: "proxy-request-buffering"},
	{Name: "limit-rate-after", Status: Differs, Note: limitRateAfterNote, readWith: "proxy-request-buffering"},
	{Name: "limit-rpm", Status: Differs, Note: "see Rate limits", readWith: "limit-rps"},
	{Name: "limit-rps", Status: Differs, Note: "see Rate limits", read: readRateLimit},
	{Name: "load-balance", Status: Differs, Note: loadBalanceNote, On: OnBoth, read: readLoadBalance},
	{Name: "mirror-host", Status: Supported, readWith: "mirror-target"},
	{Name: "mirror-request-body", Status: Differs, Note: "`off` cannot be honoured (Envoy always sends the body with the copy): reported, and the Ingress's requests are not mirrored", readWith: "mirror-target"},
	{Name: "mirror-target", Status: Differs, Note: mirrorNote, read: readMirror},
	{Name: "modsecurity-snippet", Status: Refused, Note: "ModSecurity configuration text"},
	{Name: "modsecurity-transaction-id", Status: Refused, Note: wafNote},
	{Name: "opentelemetry-operation-name", Status: Supported, Note: "the span's name", readWith: "enable-opentelemetry"},
	{Name: "opentelemetry-trust-incoming-span", Status: Refused, Note: "Envoy joins or starts a trace before it picks a route, so it cannot differ per Ingress: the ConfigMap's `opentelemetry-trust-incoming-span` decides for all"},
	{Name: "opentracing-trust-incoming-span", Status: Refused, Note: openTracingNote},
	{Name: "permanent-redirect", Status: Differs, Note: "of nginx's variables, only a trailing `$request_uri`", read: readRedirect},
	{Name: "permanent-redirect-code", Status: Differs, Note: "301, 302, 303, 307, 308", readWith: "permanent-redirect"},
	{Name: "preserve-trailing-slash", Status: Supported, Note: "rukou always preserves the path", read: readPreserveTrailingSlash},
	{Name: "proxy-body-size", Status: Differs, Note: "gRPC backends get no default limit; the body is held in memory", read: readBodySize},
	{Name: "proxy-buffer-size", Status: Differs, Note: bufferSizeNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-buffering", Status: Differs, Note: proxyBufferingNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-buffers-number", Status: Differs, Note: responseBufferNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-busy-buffers-size", Status: Differs, Note: responseBufferNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-connect-timeout", Status: Supported, read: readConnectTimeout},
	{Name: "proxy-cookie-domain", Status: Differs, Note: cookieRewriteNote, read: readCookieRewrites},
	{Name: "proxy-cookie-path", Status: Differs, Note: cookieRewriteNote, readWith: "proxy-cookie-domain"},
	{Name: "proxy-http-version", Status: Differs, Note: "`1.1`; `1.0` is reported and HTTP/1.1 spoken: Envoy's HTTP/1 client speaks no 1.0", readWith: "proxy-request-buffering"},
	{Name: "proxy-max-temp-file-size", Status: Differs, Note: responseBufferNote, readWith: "proxy-request-buffering"},
	{Name: "proxy-next-upstream", Status: Differs, Note: nextUpstreamNote, read: readRetry},
	{Name: "proxy-next-upstream-timeout", Status: Differs, Note: nextUpstreamTimeoutNote, readWith: "proxy-next-upstream"},
	{Name: "proxy-next-upstream-tries", Status: Differs, Note: nextUpstreamTriesNote, readWith: "proxy-next-upstream"},
	{Name: "proxy-read-timeout", Status: Supported, read: readReadTimeout},
	{Name: "proxy-redirect-from", Status: Differs, Note: redirectRewriteNote, read: readProxyRedirect},
	{Name: "proxy-redirect-to", Status: Differs, Note: redirectRewriteNote, readWith: "proxy-redirect-from"},
	{Name: "proxy-request-buffering", Status: Differs, Note: requestBufferingNote, read: readProxyTuning},
	{Name: "proxy-send-timeout", Status: Differs, Note: "a stream idle timeout, at least the read timeout", read: readSendTimeout},
	{Name: "proxy-ssl-ciphers", Status: Differs, Note: "OpenSSL suite names; keywords such as `HIGH` are reported and left out (none left: `DEFAULT`, Envoy's list); TLS 1.3 suites are not configurable", readWith: "proxy-ssl-secret"},
	{Name: "proxy-ssl-name", Status: Differs, Note: "a host name or address, matched against the certificate's subject alternative names only (never its common name); nginx variables are not read", readWith: "proxy-ssl-secret"},
	{Name: "proxy-ssl-protocols", Status: Supported, Note: "`TLSv1.2` (the default) and `TLSv1.3`", readWith: "proxy-ssl-secret"},
	{Name: "proxy-ssl-secret", Status: Differs, Note: proxySSLNote, read: readProxySSL},
	{Name: "proxy-ssl-server-name", Status: Supported, Note: "sends proxy-ssl-name as SNI, else `upstream_balancer` as ingress-nginx does", readWith: "proxy-ssl-secret"},
	{Name: "proxy-ssl-verify", Status: Differs, Note: "without proxy-ssl-name the certificate must name `upstream_balancer`, as in ingress-nginx; a Secret without `ca.crt` answers 503 where ingress-nginx does not verify; the chain's length is not bounded (see proxy-ssl-verify-depth)", readWith: "proxy-ssl-secret"},
	{Name: "proxy-ssl-verify-depth", Status: Refused, Note: "Envoy bounds the length of a certificate chain only where it verifies clients, never a backend's: a backend's chain that `ca.crt` verifies is accepted whatever its length (ingress-nginx's default, 1, refuses chains with two intermediate CAs or more)"},
	{Name: "relative-redirects", Status: Supported, Note: "applies to the relative URLs of `permanent-redirect` and `temporal-redirect`, the only redirects nginx makes absolute", read: readRedirectForm},
	{Name: "rewrite-target", Status: Differs, Note: "RE2, `$1` … `$9` only", read: readRewriteTarget},
	{Name: "satisfy", Status: Supported, Note: "between the address ranges, `auth-type` and `auth-url`", read: readSatisfy},
	{Name: "server-alias", Status: Supported, Note: "an alias that a rule names as its host, or that an older Ingress's host already has, is left out (reported); the first Ingress naming a host sets its aliases", read: readServerAlias},
	{Name: "server-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "service-upstream", Status: Supported, Note: "a Service without a ClusterIP (headless) is reported and its endpoints are used, as in ingress-nginx", read: readServiceUpstream},
	{Name: "session-cookie-change-on-failure", Status: Differs, Note: "`true`: when the session's endpoint fails and a retry (`proxy-next-upstream`) reaches another, the cookie is set for that one (Envoy's stateful session, so sessions also stay put when endpoints join, as in `persistent` mode; not on a route with a canary). `false`: the cookie is kept, and the retry goes to another endpoint where ingress-nginx retries the same one; in `persistent` mode the cookie changes as with `true`", On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-conditional-samesite-none", Status: Differs, Note: "reported and ignored: Envoy does not look at the User-Agent", On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-domain", Status: Supported, On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-expires", Status: Differs, Note: "the cookie gets `Expires` that many seconds after the response that sets it (added by rukou's Lua filter, as Envoy's session cookies carry `Max-Age` only), and, when `session-cookie-max-age` is not set, `Max-Age` of the same seconds too, which Envoy needs to set the cookie (ingress-nginx sends `Expires` alone; browsers give the cookie the same lifetime). `0` makes a session cookie (ingress-nginx's expires at once)", On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-max-age", Status: Supported, On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-name", Status: Supported, On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-partitioned", Status: Supported, On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-path", Status: Supported, On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-samesite", Status: Supported, On: OnBoth, readWith: "affinity"},
	{Name: "session-cookie-secure", Status: Supported, Note: "over TLS the cookie is always `Secure`", On: OnBoth, readWith: "affinity"},
	{Name: "ssl-ciphers", Status: Differs, Note: "for the host, set by the first Ingress naming it with ssl-ciphers; TLS 1.2 suites by their OpenSSL names: names BoringSSL does not know (DHE suites, keywords such as `HIGH`) are reported and left out; TLS 1.3 suites are BoringSSL's own", read: readHostCiphers},
	{Name: "ssl-passthrough", Status: Differs, Note: passthroughNote, read: readSSLPassthrough},
	{Name: "ssl-prefer-server-ciphers", Status: Differs, Note: "for the host, set by the first Ingress naming it with it; `false` lets the client's order pick among TLS 1.2 suites (TLS 1.3 suites are picked by BoringSSL)", readWith: "ssl-ciphers"},
	{Name: "ssl-redirect", Status: Supported, read: readSSLRedirect},
	{Name: "stream-snippet", Status: Refused, Note: "nginx configuration text"},
	{Name: "temporal-redirect", Status: Differs, Note: "of nginx's variables, only a trailing `$request_uri`", readWith: "permanent-redirect"},
	{Name: "temporal-redirect-code", Status: Differs, Note: "301, 302, 303, 307, 308", readWith: "permanent-redirect"},
	{Name: "upstream-hash-by", Status: Differs, Note: "`$request_uri`, `$host`, `$remote_addr`, `$http_*`, `$cookie_*`, `$arg_*` and their combinations, on Envoy's ring hash (a combination hashes each variable and combines the hashes; text between variables is left out); another variable is reported and round robin applies; `affinity` wins over it, as in ingress-nginx", On: OnBoth, read: readHashBy},
	{Name: "upstream-hash-by-subset", Status: Differs, Note: "Envoy's ring hash has no subsets: a key reaches one endpoint, as without the subset, where ingress-nginx spreads it at random over `upstream-hash-by-subset-size` endpoints; reported when the size is more than 1", On: OnBoth, readWith: "upstream-hash-by"},
	{Name: "upstream-hash-by-subset-size", Status: Differs, Note: "read and checked (1 or more, default 3); see `upstream-hash-by-subset`", On: OnBoth, readWith: "upstream-hash-by"},
	{Name: "upstream-vhost", Status: Supported, read: readUpstreamHost},
	{Name: "use-port-in-redirects", Status: Differs, Note: "the port is the one the client named in `Host` (nginx: the port it listens on, unless 80 or 443); applies to the relative URLs of `permanent-redirect` and `temporal-redirect`", readWith: "relative-redirects"},
	{Name: "use-regex", Status: Differs, Note: "RE2", read: readUseRegex},
	{Name: "x-forwarded-prefix", Status: Supported, read: readForwardedPrefix},
}

// The notes of the annotations and keys refused for want of an Envoy
// counterpart.
const (
	fastCGINote     = "Envoy has no FastCGI client (`backend-protocol: FCGI` answers 503)"
	wafNote         = "rukou has no web application firewall until a WAF engine is chosen: requests are not inspected"
	influxNote      = "nginx's InfluxDB module; Envoy's statistics serve instead (docs/metrics.md)"
	openTracingNote = "OpenTracing is retired (ingress-nginx removed it); OpenTelemetry takes its place"
)

// clientCertNote is the note of auth-tls-secret, which docs/authentication.md
// explains.
const clientCertNote = "see authentication.md: the first Ingress naming a host with auth-tls-secret sets it for the whole host; a missing Secret, one without `ca.crt` or one that does not parse answers 503 (ingress-nginx answers 403); the client's TLS server name must be the host (else 421); the ssl-client-* headers a client sends are removed"

// The notes of the annotations that change the backends' responses.
const (
	customHeadersNote   = "see Response headers: the ConfigMap must be in the Ingress's namespace and among those rukou reads (`--configmap`'s namespace); otherwise, or missing, or with a header `global-allowed-response-headers` does not list, 503"
	redirectRewriteNote = "see Response headers (Envoy's Lua filter); a regular expression (`~`) is not supported: reported, nothing rewritten"
	cookieRewriteNote   = "see Response headers (Envoy's Lua filter); a regular expression (`~`) is not supported: reported, nothing rewritten"
)

// mirrorNote says how mirror-target differs from ingress-nginx's.
const mirrorNote = "`scheme://host[:port]$request_uri` only (the copy keeps the request's path and query; `/$request_uri` is read the same, without nginx's double slash); another variable or a path of the target's own is reported and nothing is mirrored; a loopback target on one of the proxy's own ports is refused; the client's answer never waits for the mirror (nginx's does)"

// passthroughNote says how ssl-passthrough differs from ingress-nginx's.
const passthroughNote = "needs `--enable-ssl-passthrough` (without it, reported and ignored); TLS connections whose SNI names the host go unopened to the backend of its path `/` (else of its Ingress's defaultBackend); other paths and annotations apply to plain HTTP only (reported); a wildcard host passes through every deeper name too (Envoy's SNI match), where ingress-nginx passes none; the HTTP requests Envoy still proxies to that backend (plain HTTP not redirected, HTTPS without SNI) go over HTTPS, as in ingress-nginx, which does so without the flag too"

// globalRateLimitNote says how global-rate-limit is counted.
const globalRateLimitNote = "counted by envoyproxy/ratelimit in Redis through Envoy's rate limit filter (docs/ratelimit.md); needs `rukou serve --global-rate-limit-service`, without which the Ingress is served unlimited and reported (`GlobalRateLimitUnavailable`); an unreachable service lets requests through after 100 ms"

// proxySSLNote is the docs' note on proxy-ssl-secret.
const proxySSLNote = "a Secret of the Ingress's namespace; missing, holding neither a key pair nor `ca.crt`, not PEM, or without `ca.crt` under `proxy-ssl-verify: on`: 503. It applies to `HTTPS`, `GRPCS` and `AUTO_HTTP` over TLS (ingress-nginx's `grpc_pass` ignores it for `GRPCS`), with its key pair presented even without `ca.crt` (ingress-nginx then presents none), and to the Ingress's own paths only (as `proxy-ssl-location-only: true`; ingress-nginx also gives the host's other paths the first Ingress's settings)"
