package translator

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

// annotationPrefix starts every ingress-nginx annotation.
const annotationPrefix = "nginx.ingress.kubernetes.io/"

// snippetAnnotations carry nginx configuration text. rukou never splices
// text into configuration, so they are refused; the rest of the Ingress is
// served. docs/annotations.md lists every other annotation and its status.
var snippetAnnotations = []string{
	"auth-snippet",
	"configuration-snippet",
	"modsecurity-snippet",
	"server-snippet",
	"stream-snippet",
}

// annotations are the nginx.ingress.kubernetes.io annotations of one
// Ingress, read into checked values. Unset annotations leave the defaults
// that ingress-nginx documents.
type annotations struct {
	sslRedirect      bool
	forceSSLRedirect bool
	useRegex         bool
	// rewriteTarget is the checked rewrite-target, "" when unset.
	rewriteTarget string
	// badRewrite is set when rewrite-target could not be read: the
	// Ingress's rules are skipped rather than sent to paths their backends
	// do not expect.
	badRewrite bool
	appRoot    string
	redirect   *Redirect
	fromToWWW  bool
	protocol   BackendProtocol
	// unservable, when set, says why the Ingress's paths answer 503
	// rather than be served otherwise than its annotations ask.
	unservable     *unservable
	connectTimeout time.Duration
	// policy is nil when the Ingress asks nothing of requests.
	policy *Policy
	// canary is set on a canary Ingress (canary: "true").
	canary *canarySpec
}

// unservable is an annotation whose absence would change what a request
// may reach: an authentication rukou cannot enforce, or a backend protocol
// it cannot speak. The Ingress's paths answer 503 instead.
type unservable struct {
	name   string
	reason Reason
	msg    string
}

// authAnnotations turn on an authentication that rukou does not enforce
// yet. Serving the paths without it would expose what they protect.
var authAnnotations = []string{"auth-tls-secret", "auth-type", "auth-url"}

// annotationIssue is one annotation that is not honoured as written.
type annotationIssue struct {
	name   string // without the prefix
	reason Reason
	msg    string
}

// annotationReader reads one Ingress's annotations by short name. Every
// value it cannot use becomes an issue, and the caller applies the
// documented fallback.
type annotationReader struct {
	values map[string]string
	issues []annotationIssue
	// ingress is the Ingress's namespace/name.
	ingress string
}

// readAnnotations parses the nginx.ingress.kubernetes.io annotations of ing.
// Snippets are refused, and annotations rukou does not honour are reported
// once each, in the order of their names.
func readAnnotations(ing *networkingv1.Ingress) (*annotations, []annotationIssue) {
	r := &annotationReader{values: map[string]string{}, ingress: ing.Namespace + "/" + ing.Name}
	for key, value := range ing.Annotations {
		if name, ok := strings.CutPrefix(key, annotationPrefix); ok {
			r.values[name] = strings.TrimSpace(value)
		}
	}
	a := &annotations{}
	var honoured []string
	if r.boolean("canary", false) {
		// As in ingress-nginx, a canary Ingress is read only for the
		// canary and session affinity; its paths take everything else
		// from the primary Ingress.
		a.canary = r.canary()
		if aff := r.affinity(); aff != nil {
			a.policy = &Policy{Affinity: aff}
		}
		honoured = slices.Concat(canaryAnnotations, affinityAnnotations)
	} else {
		r.routing(a)
		r.upstream(a)
		r.policy(a)
		honoured = slices.Concat([]string{"canary"}, routingAnnotations, upstreamAnnotations, policyAnnotations, r.authentication(a))
	}

	names := make([]string, 0, len(r.values))
	for name := range r.values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case slices.Contains(snippetAnnotations, name):
			r.issue(name, ReasonSnippetRefused, "refused: rukou never adds configuration text; the rest of the Ingress is served")
		case slices.Contains(honoured, name):
		case slices.Contains(canaryAnnotations, name):
			r.issue(name, ReasonAnnotationIgnored, "ignored: the Ingress is not a canary (canary is not \"true\")")
		case a.canary != nil && slices.Contains(slices.Concat(routingAnnotations, upstreamAnnotations, policyAnnotations), name):
			r.issue(name, ReasonAnnotationIgnored, "ignored on a canary Ingress: its paths follow the primary Ingress")
		default:
			r.issue(name, ReasonAnnotationIgnored, "not supported yet; ignored (see docs/annotations.md)")
		}
	}
	slices.SortStableFunc(r.issues, func(x, y annotationIssue) int { return strings.Compare(x.name, y.name) })
	return a, r.issues
}

// authentication makes the Ingress unservable when it asks for an
// authentication, and returns the annotations that asked: the one
// diagnostic of the unservable Ingress covers them.
func (r *annotationReader) authentication(a *annotations) []string {
	var asked []string
	for _, name := range authAnnotations {
		if _, ok := r.get(name); !ok {
			continue
		}
		asked = append(asked, name)
		if a.unservable == nil {
			a.unservable = &unservable{name, ReasonAuthUnsupported,
				name + " asks for an authentication rukou does not support yet; the Ingress's paths answer 503 rather than serve without it"}
		}
	}
	return asked
}

func (r *annotationReader) issue(name string, reason Reason, format string, args ...any) {
	r.issues = append(r.issues, annotationIssue{name: name, reason: reason, msg: fmt.Sprintf(format, args...)})
}

// invalid reports a value that cannot be used; fallback says what applies
// instead.
func (r *annotationReader) invalid(name, problem, fallback string) {
	r.issue(name, ReasonInvalidAnnotation, "%q %s; %s", r.values[name], problem, fallback)
}

// get returns an annotation's value, trimmed, and whether it is set.
func (r *annotationReader) get(name string) (string, bool) {
	v, ok := r.values[name]
	return v, ok
}

// boolean reads "true" or "false" (as strconv.ParseBool spells them).
func (r *annotationReader) boolean(name string, def bool) bool {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.invalid(name, "is not true or false", fmt.Sprintf("using %t", def))
		return def
	}
	return b
}

// number reads a whole number between lo and hi.
func (r *annotationReader) number(name string, lo, hi int64) (int64, bool) {
	v, ok := r.get(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		r.invalid(name, fmt.Sprintf("is not a whole number from %d to %d", lo, hi), "the default applies")
		return 0, false
	}
	return n, true
}

// maxSeconds bounds the durations annotations give in seconds (a year).
const maxSeconds = 365 * 24 * 3600

// seconds reads a positive number of seconds, as ingress-nginx's timeouts.
func (r *annotationReader) seconds(name string) time.Duration {
	n, ok := r.number(name, 1, maxSeconds)
	if !ok {
		return 0
	}
	return time.Duration(n) * time.Second
}

// addresses reads a comma-separated list of CIDRs and addresses. ok is
// false when any entry is not one; fallback says what happens then.
func (r *annotationReader) addresses(name, fallback string) (list []netip.Prefix, set, ok bool) {
	v, set := r.get(name)
	if !set {
		return nil, false, true
	}
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			addr, aerr := netip.ParseAddr(entry)
			if aerr != nil || addr.Zone() != "" {
				r.issue(name, ReasonInvalidAnnotation, "%q is not a CIDR or an IP address; %s", entry, fallback)
				return nil, true, false
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		list = append(list, p.Masked())
	}
	return list, true, true
}
