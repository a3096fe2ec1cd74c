package nginx

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rukou/rukou/translator/ir"
)

// reader reads one Ingress's annotations by short name. Every value it
// cannot use becomes an issue, and the caller applies the documented
// fallback.
type reader struct {
	values map[string]string
	issues []Issue
	// ingress is the Ingress's namespace/name.
	ingress string
	// defaults are the ConfigMap's settings, which apply where an
	// annotation is not set or cannot be used.
	defaults *Settings
}

func (r *reader) issue(name string, reason ir.Reason, format string, args ...any) {
	r.issues = append(r.issues, Issue{Name: name, Reason: reason, Msg: fmt.Sprintf(format, args...)})
}

// ignoredWithout reports each of names that is set while parent, which
// they only qualify, is not: ingress-nginx reads none of them then.
func (r *reader) ignoredWithout(parent string, names ...string) {
	for _, n := range names {
		if _, set := r.get(n); set {
			r.issue(n, ir.ReasonAnnotationIgnored, "ignored without %s, as in ingress-nginx", parent)
		}
	}
}

// invalid reports a value that cannot be used; fallback says what applies
// instead.
func (r *reader) invalid(name, problem, fallback string) {
	r.issue(name, ir.ReasonInvalidAnnotation, "%q %s; %s", r.values[name], problem, fallback)
}

// names returns the names of the values, sorted.
func (r *reader) names() []string {
	names := make([]string, 0, len(r.values))
	for name := range r.values {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// get returns an annotation's value, trimmed, and whether it is set.
func (r *reader) get(name string) (string, bool) {
	v, ok := r.values[name]
	return v, ok
}

// boolean reads "true" or "false" (as strconv.ParseBool spells them).
func (r *reader) boolean(name string, def bool) bool {
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
func (r *reader) number(name string, lo, hi int64) (int64, bool) {
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
func (r *reader) seconds(name string) time.Duration {
	n, ok := r.number(name, 1, maxSeconds)
	if !ok {
		return 0
	}
	return time.Duration(n) * time.Second
}

// size reads a size in nginx's units (k, m, g: powers of 1024), such as
// proxy-body-size. ok is false when the value is not set or cannot be
// used (fallback says what applies then); n zero means no limit.
func (r *reader) size(name, fallback string) (n uint64, ok bool) {
	v, set := r.get(name)
	if !set {
		return 0, false
	}
	n, ok = parseSize(v)
	if !ok {
		r.invalid(name, "is not a size such as 8m (k, m and g units)", fallback)
	}
	return n, ok
}

// parseSize reads a size in nginx's units; a size larger than any count
// of bytes is zero, no limit.
func parseSize(v string) (uint64, bool) {
	m := bodySize.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, true // more digits than any body has bytes: no limit
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30}[strings.ToLower(m[2])]
	if n > math.MaxUint64>>shift {
		return 0, true // larger than any body: no limit
	}
	return n << shift, true
}

// pattern reads a value that must match re, or gives def.
func (r *reader) pattern(name string, re *regexp.Regexp, def string) string {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	if !re.MatchString(v) {
		r.invalid(name, "does not have the documented form", fmt.Sprintf("using %q", def))
		return def
	}
	return v
}

// addresses reads a comma-separated list of CIDRs and addresses. ok is
// false when any entry is not one; fallback says what happens then.
func (r *reader) addresses(name, fallback string) (list []netip.Prefix, set, ok bool) {
	v, set := r.get(name)
	if !set {
		return nil, false, true
	}
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parsePrefix(entry)
		if err != nil {
			r.issue(name, ir.ReasonInvalidAnnotation, "%q is not a CIDR or an IP address; %s", entry, fallback)
			return nil, true, false
		}
		list = append(list, p)
	}
	return list, true, true
}

// parsePrefix reads a CIDR, or an address as the range of that address
// alone; the range is masked.
func parsePrefix(entry string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(entry)
	if err != nil {
		addr, aerr := netip.ParseAddr(entry)
		if aerr != nil || addr.Zone() != "" {
			return netip.Prefix{}, err
		}
		p = netip.PrefixFrom(addr, addr.BitLen())
	}
	return p.Masked(), nil
}

// aliased reads an address list under its current name or, when that is
// not set, under its former name (whitelist, now allowlist).
func (r *reader) aliased(name, former, fallback string) ([]netip.Prefix, bool) {
	list, set, ok := r.addresses(name, fallback)
	if set {
		if _, both := r.get(former); both {
			r.issue(former, ir.ReasonAnnotationIgnored, "ignored: %s is set and takes precedence", name)
		}
		return list, ok
	}
	list, _, ok = r.addresses(former, fallback)
	return list, ok
}
