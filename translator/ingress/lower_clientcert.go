package ingress

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// clientCertHeaders are the request headers ingress-nginx sets from the
// client's certificate on every path of a host that verifies clients. A
// client's own copies are removed, so that none can pass for verified.
var clientCertHeaders = []string{"ssl-client-cert", "ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn"}

// verifiesClients reports whether a host's own chain asks clients for
// certificates.
func (vh *VirtualHost) verifiesClients() bool {
	c := vh.ClientCert
	return c != nil && c.Failed == "" && c.Verify != nginx.VerifyOff && vh.ChainSecret != ""
}

// hostChains gives each host with client certificates or TLS settings of
// its own a filter chain of its own, selected by its name, with its
// certificate, and takes the host out of the chain it shared; a chain
// left without names is dropped (it would become the default chain).
// Its name holds a ":", which no Secret's namespace/name does, so that
// it never takes a certificate chain's name.
func hostChains(m *Model, chains []*ir.FilterChain) []*ir.FilterChain {
	var own []*ir.FilterChain
	for _, vh := range m.VirtualHosts {
		if vh.ChainSecret == "" || !vh.verifiesClients() && vh.Ciphers == nil {
			continue
		}
		fc := &ir.FilterChain{Name: "host:" + vh.Host, ServerNames: []string{vh.Host}, Secret: vh.ChainSecret}
		if vh.verifiesClients() {
			fc.Clients = &ir.ClientValidation{CA: clientCAPrefix + vh.ClientCert.Secret, Depth: vh.ClientCert.Depth}
		}
		if c := vh.Ciphers; c != nil {
			fc.CipherSuites = slices.Clone(c.Suites)
			fc.PreferClientCiphers = c.PreferServer != nil && !*c.PreferServer
		}
		own = append(own, fc)
	}
	if len(own) == 0 {
		return chains
	}
	out := make([]*ir.FilterChain, 0, len(chains)+len(own))
	for _, fc := range chains {
		if len(fc.ServerNames) > 0 {
			names := slices.DeleteFunc(slices.Clone(fc.ServerNames), func(h string) bool {
				return slices.ContainsFunc(own, func(o *ir.FilterChain) bool { return o.ServerNames[0] == h })
			})
			if len(names) == 0 {
				continue
			}
			copied := *fc
			copied.ServerNames = names
			fc = &copied
		}
		out = append(out, fc)
	}
	return append(out, own...)
}

// clientCASecrets are the CAs of the hosts that verify clients, once per
// Secret, by name.
func clientCASecrets(m *Model) []*ir.Secret {
	var out []*ir.Secret
	for _, vh := range m.VirtualHosts {
		c := vh.ClientCert
		if !vh.verifiesClients() || slices.ContainsFunc(out, func(s *ir.Secret) bool { return s.Name == clientCAPrefix+c.Secret }) {
			continue
		}
		out = append(out, &ir.Secret{Name: clientCAPrefix + c.Secret, CA: c.CA, CRL: c.CRL})
	}
	slices.SortFunc(out, func(x, y *ir.Secret) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// certState is one outcome of a client's certificate: what a route
// matches, and what ssl-client-verify tells the backend.
type certState struct {
	match  ir.CertMatch
	verify string
}

var (
	yes, no   = true, false
	validated = certState{ir.CertMatch{Validated: &yes}, "SUCCESS"}
	none      = certState{ir.CertMatch{Presented: &no}, "NONE"}
	failed    = certState{ir.CertMatch{Presented: &yes, Validated: &no}, "FAILED"}
)

// admitted splits the outcomes into those a verify mode admits and those
// it refuses, as nginx's ssl_verify_client.
func admitted(v nginx.VerifyClient) (ok, refused []certState) {
	switch v {
	case nginx.VerifyOptional:
		return []certState{validated, none}, []certState{failed}
	case nginx.VerifyOptionalNoCA:
		return []certState{validated, none, failed}, nil
	case nginx.VerifyOff:
		return []certState{none}, nil
	}
	return []certState{validated}, []certState{none, failed}
}

// clientCertRoutes puts a host's client certificate authentication in
// front of its routes. Over TLS, each only for connections whose SNI
// named the host (whose chain verified the certificate): first what a
// refused certificate gets (400, or the error page), then 403 when the
// subject lacks match-cn, then the host's routes once per admitted
// outcome, each telling the backend about the certificate; last 421 for
// requests that came over another host's connection. Over plain HTTP
// no certificate is presented: the routes that redirect to HTTPS stay.
func clientCertRoutes(vh *VirtualHost, routes []*ir.Route, plain bool) []*ir.Route {
	c := vh.ClientCert
	root := ir.Match{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}
	if c.Failed != "" {
		return []*ir.Route{{Match: root, Direct: &ir.Direct{Status: 503}, Source: c.Source}}
	}
	ok, refused := admitted(c.Verify)
	if plain || !vh.verifiesClients() {
		return plainCertRoutes(c, routes, slices.Contains(ok, none))
	}
	var out []*ir.Route
	sni := serverNameMatch(vh.Host)
	for _, s := range refused {
		m := root
		m.ClientCert, m.ServerName = &s.match, sni
		out = append(out, refusal(c, m, s))
	}
	if c.MatchCN != "" {
		m := root
		m.ClientCert, m.ServerName = &ir.CertMatch{SubjectLacks: c.MatchCN}, sni
		out = append(out, &ir.Route{Match: m, Direct: &ir.Direct{Status: 403, Body: "client certificate unauthorized\n"}, Source: c.Source})
	}
	for _, r := range routes {
		for _, s := range ok {
			cr := withCertHeaders(r, c, s)
			cr.Match.ClientCert, cr.Match.ServerName = &s.match, sni
			out = append(out, cr)
		}
	}
	return append(out, &ir.Route{Match: root, Direct: &ir.Direct{Status: 421, Body: "Misdirected Request\n"}, Source: c.Source})
}

// plainCertRoutes are a host's routes where no certificate can be
// presented: over plain HTTP, or with verification off. A route that
// redirects stays; the others answer as nginx answers a client without a
// certificate.
func plainCertRoutes(c *ClientCert, routes []*ir.Route, noneAdmitted bool) []*ir.Route {
	out := make([]*ir.Route, 0, len(routes))
	for _, r := range routes {
		switch {
		case r.Redirect != nil:
			out = append(out, r)
		case !noneAdmitted:
			out = append(out, refusal(c, r.Match, none))
		case c.MatchCN != "":
			out = append(out, &ir.Route{Match: r.Match, Direct: &ir.Direct{Status: 403, Body: "client certificate unauthorized\n"}, Source: c.Source})
		default:
			out = append(out, withCertHeaders(r, c, none))
		}
	}
	return out
}

// refusal answers a refused certificate as nginx does: 400 with nginx's
// reason, or a 302 to auth-tls-error-page.
func refusal(c *ClientCert, m ir.Match, s certState) *ir.Route {
	r := &ir.Route{Match: m, Source: c.Source}
	if c.ErrorPage != "" {
		r.Redirect = errorPageRedirect(c.ErrorPage)
		return r
	}
	body := "The SSL certificate error\n"
	if s.verify == "NONE" {
		body = "No required SSL certificate was sent\n"
	}
	r.Direct = &ir.Direct{Status: 400, Body: body}
	return r
}

// errorPageRedirect is the 302 to an error page: a URL, or a path on the
// request's own host.
func errorPageRedirect(page string) *ir.Redirect {
	rd := &ir.Redirect{Code: 302, Path: page, StripQuery: true}
	u, err := url.Parse(page)
	if err != nil || u.Scheme == "" {
		return rd
	}
	rd.Scheme, rd.Host, rd.Path = u.Scheme, u.Hostname(), u.Path
	if rd.Path == "" {
		rd.Path = "/"
	}
	if p, err := strconv.ParseUint(u.Port(), 10, 32); err == nil {
		rd.Port = uint32(p)
	}
	return rd
}

// withCertHeaders is a copy of a route that tells the backend about the
// client's certificate, with the client's own copies of those headers
// removed.
func withCertHeaders(r *ir.Route, c *ClientCert, s certState) *ir.Route {
	cr := *r
	cr.Match.Headers = slices.Clone(r.Match.Headers)
	cr.RemoveRequestHeaders = append(slices.Clone(r.RemoveRequestHeaders), clientCertHeaders...)
	cr.RequestHeaders = append(slices.Clone(r.RequestHeaders), ir.Header{Name: "ssl-client-verify", Value: s.verify})
	if s.verify != "NONE" {
		cr.RequestHeaders = append(cr.RequestHeaders,
			ir.Header{Name: "ssl-client-subject-dn", FromConnection: ir.ClientCertSubject},
			ir.Header{Name: "ssl-client-issuer-dn", FromConnection: ir.ClientCertIssuer})
		if c.PassCertificate {
			cr.RequestHeaders = append(cr.RequestHeaders, ir.Header{Name: "ssl-client-cert", FromConnection: ir.ClientCertPEM})
		}
	}
	return &cr
}

// serverNameMatch matches the SNI of a host's clients: the name, in any
// letter case, or one label under a one-label wildcard.
func serverNameMatch(host string) *ir.StringMatch {
	if suffix, ok := strings.CutPrefix(host, "*."); ok {
		return &ir.StringMatch{Regex: `(?i)[^.]+\.` + regexp.QuoteMeta(suffix)}
	}
	return &ir.StringMatch{Exact: host, IgnoreCase: true}
}
