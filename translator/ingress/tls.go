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
)

// Certificate is one TLS certificate served over SDS, and the hosts whose
// SNI selects it.
type Certificate struct {
	// Secret is the SDS name: namespace/name of the Kubernetes Secret.
	Secret string
	// Hosts are the SNI names; empty for the default certificate, served
	// to clients whose SNI matches no other certificate.
	Hosts []string
	// Chain and Key are the PEM certificate chain and private key.
	Chain, Key []byte
	// Source is the Ingress the certificate came from first.
	Source string
	// leaf is the parsed certificate, which says what names it is valid
	// for (from-to-www-redirect uses it).
	leaf *x509.Certificate
}

// tlsState collects certificates while Ingresses are added, oldest first.
type tlsState struct {
	byHost  map[string]*Certificate // the certificate of each SNI host
	byName  map[string]*Certificate // by Secret
	deflt   *Certificate
	secrets map[string]*corev1.Secret
	// failed are hosts that a TLS entry names but cannot serve (no Secret,
	// or a bad one).
	failed map[string]bool
}

func newTLSState(secrets []*corev1.Secret) *tlsState {
	st := &tlsState{byHost: map[string]*Certificate{}, byName: map[string]*Certificate{}, secrets: map[string]*corev1.Secret{}, failed: map[string]bool{}}
	for _, s := range secrets {
		st.secrets[s.Namespace+"/"+s.Name] = s
	}
	return st
}

// addTLS registers the certificates of an Ingress's spec.tls. A missing or
// invalid Secret is reported and only its own hosts go without TLS.
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
			b.reportField(ing, field+".secretName", ir.ReasonInvalidSecret, "no secretName: hosts %v are served without TLS", hosts)
			b.tls.unserved(hosts)
			continue
		}
		name := ing.Namespace + "/" + entry.SecretName
		cert, err := b.tls.certificate(name, ing)
		if err != nil {
			b.reportField(ing, field+".secretName", err.reason, "%s: hosts %v are served without TLS", err.msg, hosts)
			b.tls.unserved(hosts)
			continue
		}
		if len(entry.Hosts) == 0 {
			if b.tls.deflt == nil {
				b.tls.deflt = cert
			} else if b.tls.deflt != cert {
				b.reportField(ing, field, ir.ReasonConflict, "default certificate ignored: Ingress %s is older and already sets one", b.tls.deflt.Source)
			}
			continue
		}
		for _, h := range hosts {
			prev, ok := b.tls.byHost[h]
			switch {
			case !ok:
				b.tls.byHost[h] = cert
			case prev != cert:
				b.reportField(ing, field+".hosts", ir.ReasonConflict, "TLS for host %q ignored: Ingress %s is older and already serves it with Secret %s", h, prev.Source, prev.Secret)
			}
		}
	}
}

// inferTLS gives a rule host of an Ingress with spec.tls, when no entry of
// any Ingress names it, the certificate of one of the Ingress's own entries
// that is valid for it, as ingress-nginx matches rule hosts against its
// certificates' names (an entry without hosts, for example). The host is
// then served over TLS and redirected from plain HTTP. A host that no
// certificate covers stays plain: rukou never redirects to an HTTPS it has
// no valid certificate for.
func (b *builder) inferTLS(ing *networkingv1.Ingress) {
	var certs []*Certificate
	for _, entry := range ing.Spec.TLS {
		if c := b.tls.byName[ing.Namespace+"/"+entry.SecretName]; entry.SecretName != "" && c != nil && c.leaf != nil {
			certs = append(certs, c)
		}
	}
	for _, rule := range ing.Spec.Rules {
		h := strings.ToLower(rule.Host)
		if h == "" || !valid.Host(h) || b.tls.covers(h) || b.tls.failed[h] {
			continue
		}
		for _, c := range certs {
			if c.leaf.VerifyHostname(h) == nil {
				b.tls.byHost[h] = c
				break
			}
		}
	}
}

// unserved records hosts that a TLS entry names but cannot serve: they stay
// without TLS, as their diagnostic says, rather than take a certificate by
// inference.
func (st *tlsState) unserved(hosts []string) {
	for _, h := range hosts {
		st.failed[h] = true
	}
}

// certificate returns the Certificate of a Secret, reading it the first time.
func (st *tlsState) certificate(name string, ing *networkingv1.Ingress) (*Certificate, *backendError) {
	if c, ok := st.byName[name]; ok {
		return c, nil
	}
	s, ok := st.secrets[name]
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
	c := &Certificate{Secret: name, Chain: chain, Key: key, Source: ing.Namespace + "/" + ing.Name, leaf: certificateLeaf(pair.Certificate)}
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
