package nginx

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// Mirror sends a copy of each request of an Ingress to another server,
// whose answer is ignored (mirror-target). The copy keeps the request's
// method, path, query, headers and body.
type Mirror struct {
	// TLS is set for an https target.
	TLS bool
	// Host is the target's DNS name or IP address (IPv6 without
	// brackets), lowercased; Port its port.
	Host string
	Port uint32
	// HostHeader is the Host of the copies: mirror-host, else the target's
	// host name without its port, as ingress-nginx sends it.
	HostHeader string
}

// readMirror reads mirror-target, mirror-host and mirror-request-body.
// Envoy's mirror keeps the request's path, so a target must end in
// $request_uri right after its host (ingress-nginx's documented form); one
// with a path of its own, or another variable, is reported and nothing is
// mirrored. Envoy always sends the body with the copy: "off" is reported
// and nothing is mirrored, rather than send the mirror bodies the Ingress
// keeps from it.
func readMirror(r *reader, a *Annotations) {
	target, ok := r.get("mirror-target")
	if !ok {
		r.ignoredWithout("mirror-target", "mirror-host", "mirror-request-body")
		return
	}
	m, problem := parseMirrorTarget(target)
	if problem != "" {
		r.invalid("mirror-target", problem, "no request is mirrored")
		return
	}
	if h, set := r.get("mirror-host"); set {
		if !hostWithPort(h) {
			r.invalid("mirror-host", "is not a host name with an optional port", "no request is mirrored")
			return
		}
		m.HostHeader = h
	}
	switch body, _ := r.get("mirror-request-body"); body {
	case "", "on":
	case "off":
		r.issue("mirror-request-body", ir.ReasonAnnotationIgnored, "\"off\" cannot be honoured: Envoy always sends the request body with the copy; no request is mirrored, rather than send the mirror bodies the Ingress keeps from it")
		return
	default:
		r.invalid("mirror-request-body", "is not on or off", "using on")
	}
	a.policy().Mirror = m
}

// parseMirrorTarget reads scheme://host[:port]$request_uri (or with "/"
// before $request_uri, which nginx would send as a double slash and Envoy
// sends as the request's path), or says why it cannot.
func parseMirrorTarget(v string) (*Mirror, string) {
	base, ok := strings.CutSuffix(v, requestURI)
	if !ok || strings.Contains(base, "$") {
		return nil, "is not scheme://host[:port]$request_uri: Envoy sends the copy with the request's own path and query, and no other nginx variable is read"
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, "is not an http or https URL with a host and no path of its own, followed by $request_uri"
	}
	m := &Mirror{TLS: u.Scheme == "https", Host: strings.ToLower(u.Hostname()), Port: 80}
	if m.TLS {
		m.Port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, "has a port that is not from 1 to 65535"
		}
		m.Port = uint32(n)
	}
	if _, err := netip.ParseAddr(m.Host); err != nil && (!valid.Host(m.Host) || strings.HasPrefix(m.Host, "*")) {
		return nil, "has a host that is neither a DNS name nor an IP address"
	}
	m.HostHeader = u.Hostname()
	return m, ""
}

// hostWithPort reports whether v is a host name or an IP address,
// optionally with a port, as a Host header may be.
func hostWithPort(v string) bool {
	host, port := v, ""
	if h, p, found := strings.Cut(v, ":"); found && !strings.Contains(p, ":") {
		host, port = h, p
	}
	_, addrErr := netip.ParseAddr(strings.Trim(host, "[]"))
	ok := addrErr == nil || (valid.Host(strings.ToLower(host)) && !strings.HasPrefix(host, "*."))
	if n, err := strconv.ParseUint(port, 10, 16); port != "" && (err != nil || n == 0) {
		ok = false
	}
	return ok
}
