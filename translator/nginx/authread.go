package nginx

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// The readers of external authentication: the annotations of one Ingress,
// the ConfigMap's global-auth-* keys, and the auth-proxy-set-headers
// ConfigMap. Each reads its values with readExternalAuth (auth.go).

// readAuthURL reads auth-url and the annotations that go with it. Settings
// that cannot be used make the Ingress's paths answer 503: serving them
// without the authentication they ask for would expose what it protects.
func readAuthURL(r *reader, a *Annotations) {
	ext, fail := readExternalAuth(r, annotationAuth)
	if ext == nil {
		return
	}
	if fail != nil {
		if a.Unservable == nil {
			a.Unservable = &Issue{fail.name, ir.ReasonInvalidAnnotation, fail.msg + "; the Ingress's paths answer 503 rather than serve without authentication"}
		}
		return
	}
	r.authKeepalive(ext)
	if v, ok := r.get("auth-proxy-set-headers"); ok && v != "" {
		ns, name, found := strings.Cut(v, "/")
		ingressNS, _, _ := strings.Cut(r.ingress, "/")
		if !found {
			ns, name = ingressNS, v
		}
		if ns != ingressNS || name == "" || strings.Contains(name, "/") {
			a.Unservable = &Issue{"auth-proxy-set-headers", ir.ReasonInvalidAnnotation, fmt.Sprintf(
				"%q does not name a ConfigMap of the Ingress's namespace (ingress-nginx refuses other namespaces by default); the Ingress's paths answer 503 rather than serve without authentication", v)}
			return
		}
		ext.ProxySetHeaders = ns + "/" + name
	}
	a.policy().ExternalAuth = ext
}

// ingress-nginx's keepalive defaults for auth requests.
const (
	defaultAuthKeepaliveRequests = 1000
	defaultAuthKeepaliveTimeout  = 60
)

// authKeepalive reads auth-keepalive and its settings; as in ingress-nginx,
// a value it cannot use leaves connections unshared, and so does a
// variable in the URL's host.
func (r *reader) authKeepalive(ext *ExternalAuth) {
	n, ok := r.number("auth-keepalive", 0, 1<<16)
	if !ok || n == 0 {
		return
	}
	raw, _ := r.get("auth-url")
	if u, err := url.Parse(raw); err != nil || strings.Contains(u.Host, "$") {
		r.issue("auth-keepalive", ir.ReasonAnnotationIgnored, "the auth URL's host holds a variable; no connection is kept, as in ingress-nginx")
		return
	}
	reqs, timeout := int64(defaultAuthKeepaliveRequests), int64(defaultAuthKeepaliveTimeout)
	if v, ok := r.number("auth-keepalive-requests", 1, 1<<31-1); ok {
		reqs = v
	}
	if v, ok := r.number("auth-keepalive-timeout", 1, maxSeconds); ok {
		timeout = v
	}
	ext.Keepalive, ext.KeepaliveRequests = uint32(n), uint32(reqs)
	ext.KeepaliveTimeout = ir.Duration(timeout * 1e9)
	r.boolean("auth-keepalive-share-vars", false) // nothing to share: rukou has no nginx variables
}

// readEnableGlobalAuth reads enable-global-auth: "false" exempts the
// Ingress from the ConfigMap's global-auth-url.
func readEnableGlobalAuth(r *reader, a *Annotations) {
	if !r.boolean("enable-global-auth", true) {
		a.policy().NoGlobalAuth = true
	}
}

// readGlobalAuth reads the ConfigMap's global-auth-* keys and
// no-auth-locations. A global authentication that cannot be used makes
// every route it would protect answer 503 (GlobalAuthFail), where
// ingress-nginx would serve them without it.
func readGlobalAuth(r *reader, s *Settings) {
	if v, ok := r.get("no-auth-locations"); ok {
		s.NoAuthLocations = nil
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); l != "" {
				s.NoAuthLocations = append(s.NoAuthLocations, l)
			}
		}
	}
	ext, fail := readExternalAuth(r, globalAuth)
	if fail != nil {
		r.issue(fail.name, ir.ReasonInvalidConfigValue, "%s; every route global-auth-url would protect answers 503 rather than serve without authentication", fail.msg)
		s.GlobalAuthFail = true
		return
	}
	s.GlobalAuth = ext
}

// AuthRequestHeaders reads the data of an auth-proxy-set-headers ConfigMap:
// header names, and values that may hold nginx variables, sorted by name.
func AuthRequestHeaders(data map[string]string) ([]ir.TextHeader, error) {
	var out []ir.TextHeader
	for name, v := range data {
		if !authHeaderName.MatchString(name) {
			return nil, fmt.Errorf("%q is not a header name", name)
		}
		text, err := nginxText(v)
		if err != nil {
			return nil, fmt.Errorf("header %s: %q %v", name, v, err)
		}
		out = append(out, ir.TextHeader{Name: name, Value: text})
	}
	slices.SortFunc(out, func(x, y ir.TextHeader) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}
