package ingress

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
)

// GeneratedSecret is the SDS name of the certificate rukou generates at
// start (Options.GeneratedCertificate). It holds no "/", so that no
// Kubernetes Secret (namespace/name) can take it; it is ingress-nginx's
// name for its own.
const GeneratedSecret = "default-fake-certificate"

// KeyPair is a PEM certificate chain and its private key.
type KeyPair struct {
	Chain, Key []byte
}

// Certificate is one TLS certificate served over SDS, and the hosts whose
// SNI selects it.
type Certificate struct {
	// Secret is the SDS name: namespace/name of the Kubernetes Secret, or
	// GeneratedSecret.
	Secret string
	// Hosts are the SNI names; empty for the default certificate, served
	// to clients whose SNI matches no other certificate.
	Hosts []string
	// Chain and Key are the PEM certificate chain and private key.
	Chain, Key []byte
	// Source is the Ingress the certificate came from first, or the flag.
	Source string
	// leaf is the parsed certificate, which says what names it is valid
	// for.
	leaf *x509.Certificate
}

// tlsState collects certificates while Ingresses are added, oldest first.
type tlsState struct {
	byHost map[string]*Certificate // the certificate of each SNI host
	byName map[string]*Certificate // by Secret
	// deflt is the controller's default certificate, nil when there is
	// none: it answers clients whose SNI names no host with a certificate
	// of its own, and serves the hosts in failed.
	deflt   *Certificate
	secrets map[string]*corev1.Secret // by namespace/name
	// read records each Secret looked up, found or not (Reads.Secrets).
	read map[types.NamespacedName]struct{}
	// failed are hosts that a TLS entry names but cannot serve with its
	// Secret (none, a bad one, or one not valid for the host).
	failed map[string]bool
}

func newTLSState(secrets []*corev1.Secret, read map[types.NamespacedName]struct{}) *tlsState {
	st := &tlsState{byHost: map[string]*Certificate{}, byName: map[string]*Certificate{}, secrets: map[string]*corev1.Secret{}, read: read, failed: map[string]bool{}}
	for _, s := range secrets {
		st.secrets[s.Namespace+"/"+s.Name] = s
	}
	return st
}

// secret looks up a Secret by namespace/name, recording that the model
// read it.
func (st *tlsState) secret(name string) (*corev1.Secret, bool) {
	ns, n, _ := strings.Cut(name, "/")
	st.read[types.NamespacedName{Namespace: ns, Name: n}] = struct{}{}
	s, ok := st.secrets[name]
	return s, ok
}

// defaultCertificate picks the controller's default certificate, as
// ingress-nginx does: the Secret of --default-ssl-certificate when it can
// be used, else the certificate generated at start.
func (b *builder) defaultCertificate() {
	gen := b.opts.GeneratedCertificate
	if name := b.opts.DefaultSSLCertificate; name != "" {
		c, err := b.tls.certificate(name, "--default-ssl-certificate")
		if err == nil {
			b.tls.deflt = c
			return
		}
		then := "no default certificate is served"
		if gen != nil {
			then = "the generated default certificate is served instead"
		}
		ns, n, _ := strings.Cut(name, "/")
		b.diags = append(b.diags, ir.Diagnostic{Kind: "Secret", Namespace: ns, Name: n, Reason: err.reason,
			Message: fmt.Sprintf("--default-ssl-certificate: %s; %s", err.msg, then)})
	}
	if gen == nil {
		return
	}
	pair, err := tls.X509KeyPair(gen.Chain, gen.Key)
	if err != nil {
		return // cmd makes it; a test that gives a bad one sees no default
	}
	b.tls.deflt = &Certificate{Secret: GeneratedSecret, Chain: gen.Chain, Key: gen.Key, Source: "generated", leaf: certificateLeaf(pair.Certificate)}
}

// fallback says, for diagnostics, how hosts without a usable certificate
// are served.
func (st *tlsState) fallback() string {
	if st.deflt == nil {
		return "served without TLS"
	}
	return "served with the default certificate"
}

// addTLS registers the certificates of an Ingress's spec.tls. A host
// whose Secret is missing, invalid or not valid for it is reported and
// served with the default certificate, as ingress-nginx serves it.
func (b *builder) addTLS(ing *networkingv1.Ingress) {
	for i, entry := range ing.Spec.TLS {
		field := fmt.Sprintf("spec.tls[%d]", i)
		hosts := make([]string, 0, len(entry.Hosts))
		for _, h := range entry.Hosts {
			h = strings.ToLower(h)
			if !valid.Host(h) {
				b.reportField(ing, field+".hosts", ir.ReasonInvalidHost, "TLS host %q is not a valid DNS name or one-label wildcard", h)
				continue
			}
			hosts = append(hosts, h)
		}
		if entry.SecretName == "" {
			// ingress-nginx documents an entry without secretName as the
			// way to serve hosts with the default certificate (and
			// redirect them); without one, that cannot be honoured.
			if b.tls.deflt == nil {
				b.reportField(ing, field+".secretName", ir.ReasonInvalidSecret, "no secretName: hosts %v are %s", hosts, b.tls.fallback())
			}
			b.tls.unserved(hosts)
			continue
		}
		name := ing.Namespace + "/" + entry.SecretName
		cert, err := b.tls.certificate(name, ing.Namespace+"/"+ing.Name)
		if err != nil {
			b.reportField(ing, field+".secretName", err.reason, "%s: hosts %v are %s", err.msg, hosts, b.tls.fallback())
			b.tls.unserved(hosts)
			continue
		}
		for _, h := range hosts {
			b.addTLSHost(ing, field, h, cert)
		}
	}
}

// addTLSHost gives a host of a TLS entry the entry's certificate, unless
// an older Ingress gave it another or the certificate is not valid for it.
func (b *builder) addTLSHost(ing *networkingv1.Ingress, field, h string, cert *Certificate) {
	if prev, ok := b.tls.byHost[h]; ok {
		if prev != cert {
			b.reportField(ing, field+".hosts", ir.ReasonConflict, "TLS for host %q ignored: Ingress %s is older and already serves it with Secret %s", h, prev.Source, prev.Secret)
		}
		return
	}
	if cert.leaf != nil && !certCovers(cert.leaf, h) && b.tls.deflt != nil {
		b.reportField(ing, field+".hosts", ir.ReasonCertificateMismatch, "the certificate of Secret %q is not valid for host %q: the host is %s", cert.Secret, h, b.tls.fallback())
		b.tls.unserved([]string{h})
		return
	}
	b.tls.byHost[h] = cert
}

// inferTLS gives a rule host of an Ingress with spec.tls, when no entry of
// any Ingress names it, the certificate of one of the Ingress's own entries
// that is valid for it, as ingress-nginx matches rule hosts against its
// certificates' names (an entry without hosts, for example). When none is
// valid for it, the host is served with the default certificate, as
// ingress-nginx serves it; that is reported when the Ingress names Secrets
// and the default certificate is not valid for the host either (an
// Ingress whose entries name no Secret asks for the default certificate,
// as ingress-nginx documents). Either way the host is served over TLS and
// redirected from plain HTTP.
func (b *builder) inferTLS(ing *networkingv1.Ingress) {
	if len(ing.Spec.TLS) == 0 {
		return
	}
	var certs []*Certificate
	namesSecrets := false
	for _, entry := range ing.Spec.TLS {
		namesSecrets = namesSecrets || entry.SecretName != ""
		if c := b.tls.byName[ing.Namespace+"/"+entry.SecretName]; entry.SecretName != "" && c != nil && c.leaf != nil {
			certs = append(certs, c)
		}
	}
	for i, rule := range ing.Spec.Rules {
		h := strings.ToLower(rule.Host)
		if h == "" || !valid.Host(h) || b.tls.covers(h) || b.tls.failed[h] {
			continue
		}
		if j := slices.IndexFunc(certs, func(c *Certificate) bool { return certCovers(c.leaf, h) }); j >= 0 {
			b.tls.byHost[h] = certs[j]
			continue
		}
		if d := b.tls.deflt; d != nil {
			if namesSecrets && (d.leaf == nil || !certCovers(d.leaf, h)) {
				b.reportField(ing, fmt.Sprintf("spec.rules[%d].host", i), ir.ReasonCertificateMismatch,
					"no TLS entry names host %q and no certificate of spec.tls is valid for it: the host is %s", h, b.tls.fallback())
			}
			b.tls.byHost[h] = d
		}
	}
}

// unserved records hosts that a TLS entry names but cannot serve: they
// take the default certificate once every Ingress is read (an entry of a
// newer Ingress that serves them wins), rather than one by inference.
func (st *tlsState) unserved(hosts []string) {
	for _, h := range hosts {
		st.failed[h] = true
	}
}

// serveFailed gives the hosts that no entry could serve the default
// certificate, when there is one.
func (st *tlsState) serveFailed() {
	if st.deflt == nil {
		return
	}
	for h := range st.failed {
		if _, ok := st.byHost[h]; !ok {
			st.byHost[h] = st.deflt
		}
	}
}

// certificate returns the Certificate of a Secret, reading it the first
// time; source names who uses it first.
func (st *tlsState) certificate(name, source string) (*Certificate, *backendError) {
	if c, ok := st.byName[name]; ok {
		return c, nil
	}
	s, ok := st.secret(name)
	if !ok {
		return nil, &backendError{ir.ReasonSecretNotFound, fmt.Sprintf("TLS Secret %q not found", name)}
	}
	chain, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(chain) == 0 || len(key) == 0 {
		return nil, &backendError{ir.ReasonInvalidSecret, fmt.Sprintf("Secret %q has no %s and %s", name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)}
	}
	// Envoy would refuse a pair that does not parse or does not match, and
	// with it every other certificate in the same update.
	pair, err := tls.X509KeyPair(chain, key)
	if err != nil {
		return nil, &backendError{ir.ReasonInvalidSecret, fmt.Sprintf("Secret %q does not hold a valid certificate and key: %v", name, err)}
	}
	c := &Certificate{Secret: name, Chain: chain, Key: key, Source: source, leaf: certificateLeaf(pair.Certificate)}
	st.byName[name] = c
	return c, nil
}

// certificates lists the certificates in use with their hosts, by Secret.
func (st *tlsState) certificates() []*Certificate {
	used := map[*Certificate][]string{}
	for h, c := range st.byHost {
		used[c] = append(used[c], h)
	}
	var out []*Certificate
	for c, hosts := range used {
		slices.Sort(hosts)
		out = append(out, &Certificate{Secret: c.Secret, Hosts: hosts, Chain: c.Chain, Key: c.Key, Source: c.Source})
	}
	if st.deflt != nil {
		d := *st.deflt
		d.Hosts = nil
		out = append(out, &d)
	}
	// By Secret; a Secret used both for hosts and as the default appears
	// twice, hosts first.
	slices.SortFunc(out, func(x, y *Certificate) int {
		return cmp.Or(cmp.Compare(x.Secret, y.Secret), cmp.Compare(len(y.Hosts), len(x.Hosts)))
	})
	return out
}

// covers reports whether a rule host has a certificate: its own, or that of
// the one-label wildcard above it.
func (st *tlsState) covers(host string) bool {
	return st.certificateOf(host) != nil
}

// certificateOf returns the certificate a rule host is served with, or nil.
func (st *tlsState) certificateOf(host string) *Certificate {
	if c, ok := st.byHost[host]; ok {
		return c
	}
	if _, parent, ok := strings.Cut(host, "."); ok && !strings.HasPrefix(host, "*.") {
		return st.byHost["*."+parent]
	}
	return nil
}

// certCovers reports whether a certificate is valid for a host as
// ingress-nginx checks it: against its DNS names, or its common name when
// it has none (older certificates), where a leading "*" label stands for
// any one label. A one-label wildcard host is covered by the same wildcard.
func certCovers(c *x509.Certificate, host string) bool {
	names := c.DNSNames
	if len(names) == 0 {
		names = []string{c.Subject.CommonName}
	}
	return slices.ContainsFunc(names, func(pattern string) bool { return matchHostname(pattern, host) })
}

// matchHostname matches a host against a certificate name, label by label,
// in any letter case.
func matchHostname(pattern, host string) bool {
	p := strings.Split(strings.ToLower(strings.TrimSuffix(pattern, ".")), ".")
	h := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	if pattern == "" || host == "" || len(p) != len(h) {
		return false
	}
	for i := range p {
		if p[i] != h[i] && (i > 0 || p[i] != "*") {
			return false
		}
	}
	return true
}
