package nginx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// DefaultSSLCiphers is ingress-nginx's default ssl-ciphers. Its two DHE
// suites are left out of what rukou offers: BoringSSL, Envoy's TLS
// library, has none, and nginx offers them only with ssl-dh-param set.
const DefaultSSLCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"

// defaultTLS is ingress-nginx's ssl-protocols ("TLSv1.2 TLSv1.3"),
// ssl-ciphers and ssl-ecdh-curve ("auto": the proxy's own curves).
func defaultTLS() ir.TLSParams {
	suites, _ := cipherSuites(DefaultSSLCiphers)
	return ir.TLSParams{MinVersion: ir.TLS12, MaxVersion: ir.TLS13, CipherSuites: suites}
}

// readSSLProtocols reads ssl-protocols, nginx's list of versions
// ("TLSv1.2 TLSv1.3"). A listener offers a range of versions: a list with
// a gap offers the versions in between too, and says so.
func readSSLProtocols(r *reader, s *Settings) {
	const name = "ssl-protocols"
	v, ok := r.get(name)
	if !ok {
		return
	}
	versions := ir.TLSVersions()
	lo, hi := len(versions), -1
	var listed, dropped []string
	for _, f := range strings.Fields(v) {
		i := slices.Index(versions, ir.TLSVersion(f))
		switch {
		case f == "SSLv2" || f == "SSLv3":
			dropped = append(dropped, f)
		case i < 0:
			r.invalid(name, fmt.Sprintf("names %q, which is not SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", f), "using TLSv1.2 TLSv1.3")
			return
		default:
			lo, hi = min(lo, i), max(hi, i)
			listed = append(listed, f)
		}
	}
	if hi < 0 {
		r.invalid(name, "names no TLS version rukou offers", "using TLSv1.2 TLSv1.3")
		return
	}
	if len(dropped) > 0 {
		r.invalid(name, fmt.Sprintf("names %s, which rukou never offers", strings.Join(dropped, " ")), "left out")
	}
	if gap := hi - lo + 1; gap > len(slices.Compact(slices.Sorted(slices.Values(listed)))) {
		r.invalid(name, "leaves a gap between versions", fmt.Sprintf("offering every version from %s to %s", versions[lo], versions[hi]))
	}
	s.TLS.MinVersion, s.TLS.MaxVersion = versions[lo], versions[hi]
}

// readSSLCiphers reads ssl-ciphers, an OpenSSL cipher list. Names of
// suites rukou cannot offer are reported and left out, never sent to
// Envoy (which would refuse the whole listener); exclusions ("!aNULL")
// exclude nothing that is not named, so they are skipped.
func readSSLCiphers(r *reader, s *Settings) {
	const name = "ssl-ciphers"
	v, ok := r.get(name)
	if !ok {
		return
	}
	suites, unknown := cipherSuites(v)
	if r.someKept(name, suites, unknown, "TLS 1.2 cipher suites rukou can offer (keywords such as HIGH are not read; BoringSSL has no DHE suites; TLS 1.3 suites are not configurable)", "ingress-nginx's default list") {
		s.TLS.CipherSuites = suites
	}
}

// cipherSuites splits an OpenSSL cipher list (":", "," or spaces between
// entries) into the suites rukou offers, in order, and the names it
// cannot use.
func cipherSuites(list string) (suites, unknown []string) {
	known := ir.CipherSuites()
	entries := strings.FieldsFunc(list, func(c rune) bool { return c == ':' || c == ',' || c == ' ' })
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e, "!") || strings.HasPrefix(e, "-"):
			continue
		case slices.Contains(known, e):
			if !slices.Contains(suites, e) {
				suites = append(suites, e)
			}
		case strings.HasPrefix(e, "DHE-") && slices.Contains(strings.Split(DefaultSSLCiphers, ":"), e):
			continue // the default's own DHE suites, see DefaultSSLCiphers
		default:
			unknown = append(unknown, e)
		}
	}
	return suites, unknown
}

// curveNames maps the names OpenSSL (and so nginx) gives key exchange
// groups to those of ir.Curves.
var curveNames = map[string]string{
	"x25519": "X25519", "prime256v1": "P-256", "secp256r1": "P-256", "p-256": "P-256",
	"secp384r1": "P-384", "p-384": "P-384", "secp521r1": "P-521", "p-521": "P-521",
	"x25519mlkem768": "X25519MLKEM768",
}

// readSSLECDHCurve reads ssl-ecdh-curve: "auto" (the default: the
// proxy's own list) or curves separated by ":".
func readSSLECDHCurve(r *reader, s *Settings) {
	const name = "ssl-ecdh-curve"
	v, ok := r.get(name)
	if !ok || v == "auto" {
		return
	}
	var curves, unknown []string
	for _, c := range strings.Split(v, ":") {
		n, ok := curveNames[strings.ToLower(strings.TrimSpace(c))]
		switch {
		case !ok:
			unknown = append(unknown, c)
		case !slices.Contains(curves, n):
			curves = append(curves, n)
		}
	}
	if r.someKept(name, curves, unknown, "curves rukou can offer (X25519, prime256v1, secp384r1, secp521r1, X25519MLKEM768)", "auto") {
		s.TLS.Curves = curves
	}
}

// someKept reports the entries of a list that are left out, as not being
// what the list holds, and whether any entry is kept; when none is, it
// reports that the default applies.
func (r *reader) someKept(name string, kept, unknown []string, what, def string) bool {
	if len(unknown) > 0 {
		r.invalid(name, fmt.Sprintf("names %s, which are not %s", strings.Join(unknown, ", "), what), "left out")
	}
	if len(kept) == 0 {
		r.invalid(name, "names nothing rukou can offer", "using "+def)
		return false
	}
	return true
}

// readSSLPassthrough reads ssl-passthrough, "true" or "false".
func readSSLPassthrough(r *reader, a *Annotations) {
	a.SSLPassthrough = r.boolean("ssl-passthrough", false)
}
