package nginx

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// UpstreamBalancer is the name nginx verifies a backend's certificate
// against, and sends as SNI, when proxy-ssl-name is not set: its default
// proxy_ssl_name is $proxy_host, the host of proxy_pass, which in
// ingress-nginx is always its Lua balancer's upstream "upstream_balancer".
const UpstreamBalancer = "upstream_balancer"

// ProxySSL is TLS to a backend as the proxy-ssl-* annotations ask. It is
// read only with proxy-ssl-secret, as in ingress-nginx, and applies to
// backends spoken to over TLS.
type ProxySSL struct {
	// Secret is the namespace/name of the Secret: tls.crt and tls.key,
	// the certificate presented to the backend; ca.crt, the certificates
	// that its certificate is verified against.
	Secret string
	// Verify checks the backend's certificate (proxy-ssl-verify: on),
	// however long its chain: proxy-ssl-verify-depth is refused.
	Verify bool
	// Name is the name the backend's certificate must hold, and the SNI
	// sent with ServerName (proxy-ssl-name; UpstreamBalancer when unset).
	Name string
	// ServerName sends Name as SNI (proxy-ssl-server-name: on).
	ServerName bool
	// Params are the versions (proxy-ssl-protocols) and TLS 1.2 suites
	// (proxy-ssl-ciphers; none for nginx's DEFAULT) offered.
	Params ir.TLSParams
	// Certificate and CA are the Secret's contents, which the frontend
	// resolves: nil when the Secret has no key pair, or no ca.crt.
	Certificate *ir.Secret
	CA          *ir.Secret
}

// proxySSLNames are the annotations read with proxy-ssl-secret.
var proxySSLNames = []string{"proxy-ssl-ciphers", "proxy-ssl-name", "proxy-ssl-protocols", "proxy-ssl-server-name", "proxy-ssl-verify"}

// readProxySSL reads proxy-ssl-secret and the annotations that go with
// it. A Secret reference that cannot be used makes the Ingress's paths
// answer 503, as ingress-nginx denies its locations; the others fall back
// to ingress-nginx's defaults (verify off, TLSv1.2, DEFAULT, no SNI).
func readProxySSL(r *reader, a *Annotations) {
	const name = "proxy-ssl-secret"
	v, ok := r.get(name)
	if !ok {
		r.ignoredWithout(name, proxySSLNames...)
		return
	}
	own, _, _ := strings.Cut(r.ingress, "/")
	ns, secret, _ := strings.Cut(v, "/")
	var problem string
	switch {
	case ns == "" || secret == "" || strings.Contains(secret, "/"):
		problem = "is not namespace/name"
	case ns != own:
		problem = "names a Secret of another namespace, which ingress-nginx refuses too"
	}
	if problem != "" {
		if a.Unservable == nil {
			a.Unservable = &Issue{name, ir.ReasonInvalidAnnotation,
				fmt.Sprintf("%q %s; the Ingress's paths answer 503, as ingress-nginx denies them", v, problem)}
		}
		return
	}
	p := &ProxySSL{Secret: v, Name: UpstreamBalancer}
	p.Verify, _ = r.onOff("proxy-ssl-verify")
	p.ServerName, _ = r.onOff("proxy-ssl-server-name")
	if n, ok := r.get("proxy-ssl-name"); ok {
		if n = strings.ToLower(n); validServerName(n) {
			p.Name = n
		} else {
			r.invalid("proxy-ssl-name", "is not a host name or address (nginx variables are not read)", "using "+UpstreamBalancer+", as nginx's $proxy_host")
		}
	}
	p.Params = r.proxySSLParams()
	a.ProxySSL = p
	if a.Protocol == ProtocolHTTP || a.Protocol == ProtocolGRPC {
		r.issue(name, ir.ReasonAnnotationIgnored, "applies to backends spoken to over TLS only (backend-protocol HTTPS, GRPCS or AUTO_HTTP), as in ingress-nginx; its Secret is still checked")
	}
}

// validServerName reports a name that a certificate can hold: a host
// name without wildcard, or an address.
func validServerName(n string) bool {
	if _, err := netip.ParseAddr(n); err == nil {
		return true
	}
	return valid.Host(n) && !strings.HasPrefix(n, "*.")
}

// proxySSLParams reads proxy-ssl-protocols (TLSv1.2 and TLSv1.3 only, as
// ingress-nginx checks it; TLSv1.2 by default) and proxy-ssl-ciphers.
func (r *reader) proxySSLParams() ir.TLSParams {
	p := ir.TLSParams{MinVersion: ir.TLS12, MaxVersion: ir.TLS12}
	if v, ok := r.get("proxy-ssl-protocols"); ok {
		var listed []ir.TLSVersion
		for _, f := range strings.Fields(v) {
			if f != string(ir.TLS12) && f != string(ir.TLS13) {
				listed = nil
				break
			}
			listed = append(listed, ir.TLSVersion(f))
		}
		if len(listed) == 0 {
			r.invalid("proxy-ssl-protocols", "is not a list of TLSv1.2 and TLSv1.3", "using TLSv1.2")
		} else {
			p.MinVersion, p.MaxVersion = slices.Min(listed), slices.Max(listed)
		}
	}
	if v, ok := r.get("proxy-ssl-ciphers"); ok && v != "DEFAULT" {
		suites, unknown := cipherSuites(v)
		if r.someKept("proxy-ssl-ciphers", suites, unknown, "TLS 1.2 cipher suites rukou can offer (keywords such as HIGH are not read; TLS 1.3 suites are not configurable)", "DEFAULT") {
			p.CipherSuites = suites
		}
	}
	return p
}
