package nginx

import (
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// ClientSettings are how the client's address and the forwarded headers
// are found, as ingress-nginx's real IP keys say.
type ClientSettings struct {
	// UseForwardedHeaders passes the incoming X-Forwarded-Proto, -Host and
	// -Port on to backends (use-forwarded-headers), and reads the client's
	// address from ForwardedForHeader.
	UseForwardedHeaders bool
	// EnableRealIP reads the client's address from ForwardedForHeader
	// (enable-real-ip) without trusting the other forwarded headers.
	EnableRealIP bool
	// ForwardedForHeader carries the client's address in requests from
	// TrustedPeers (forwarded-for-header).
	ForwardedForHeader string
	// ComputeFullForwardedFor appends the peer to the incoming
	// X-Forwarded-For instead of replacing it, with UseForwardedHeaders.
	ComputeFullForwardedFor bool
	// TrustedPeers are the peers whose forwarded-for header is believed
	// (proxy-real-ip-cidr).
	TrustedPeers []netip.Prefix
	// ProxyProtocol reads a PROXY protocol header at the start of every
	// connection (use-proxy-protocol).
	ProxyProtocol bool
}

// FromHeader says whether the client's address comes from
// ForwardedForHeader, as nginx's real_ip_header says: with forwarded
// headers, or with enable-real-ip unless the PROXY protocol gives it.
func (c *ClientSettings) FromHeader() bool {
	return c.UseForwardedHeaders || c.EnableRealIP && !c.ProxyProtocol
}

// everyPeer is the proxy-real-ip-cidr that trusts every IPv4 peer,
// ingress-nginx's default.
var everyPeer = netip.MustParsePrefix("0.0.0.0/0")

// headerName is an HTTP header name (RFC 9110's token).
var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// readClientSettings reads the keys of the real IP module. A value that
// cannot be used falls back to what trusts less: no peer, the
// X-Forwarded-For header, no appended peer.
func readClientSettings(r *reader, s *Settings) {
	c := &s.Client
	c.UseForwardedHeaders = r.boolean("use-forwarded-headers", c.UseForwardedHeaders)
	c.EnableRealIP = r.boolean("enable-real-ip", c.EnableRealIP)
	c.ComputeFullForwardedFor = r.boolean("compute-full-forwarded-for", c.ComputeFullForwardedFor)
	c.ProxyProtocol = r.boolean("use-proxy-protocol", c.ProxyProtocol)
	if peers, set, ok := r.addresses("proxy-real-ip-cidr", "no peer is trusted"); set {
		c.TrustedPeers = peers
		if !ok {
			c.TrustedPeers = nil
		}
	}
	if v, ok := r.get("forwarded-for-header"); ok {
		switch {
		case !headerName.MatchString(v):
			r.invalid("forwarded-for-header", "is not an HTTP header name", "using X-Forwarded-For")
		case !strings.EqualFold(v, ir.ForwardedFor) && c.FromHeader() && !c.trustsEveryPeer():
			r.invalid("forwarded-for-header", "is read from every peer by Envoy, and proxy-real-ip-cidr does not trust every peer", "using X-Forwarded-For")
		default:
			c.ForwardedForHeader = v
		}
	}
	if c.ComputeFullForwardedFor && c.UseForwardedHeaders && !strings.EqualFold(c.ForwardedForHeader, ir.ForwardedFor) {
		r.invalid("compute-full-forwarded-for", "works with forwarded-for-header X-Forwarded-For only in rukou", "X-Forwarded-For is the client's address")
		c.ComputeFullForwardedFor = false
	}
}

func (c *ClientSettings) trustsEveryPeer() bool {
	for _, p := range c.TrustedPeers {
		if p == everyPeer {
			return true
		}
	}
	return false
}

// readBlocks reads block-cidrs, block-user-agents and block-referers. An
// entry that cannot be used is reported and left out; the others apply.
func readBlocks(r *reader, s *Settings) {
	for _, entry := range r.list("block-cidrs") {
		p, err := parsePrefix(entry)
		if err != nil {
			r.issue("block-cidrs", ir.ReasonInvalidAnnotation, "%q is not a CIDR or an IP address; left out", entry)
			continue
		}
		s.Block.Addresses = append(s.Block.Addresses, p)
	}
	s.Block.UserAgents = r.mapPatterns("block-user-agents")
	s.Block.Referers = r.mapPatterns("block-referers")
}

// list reads a comma-separated list, without empty entries.
func (r *reader) list(name string) []string {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	var out []string
	for _, entry := range strings.Split(v, ",") {
		if entry = strings.TrimSpace(entry); entry != "" {
			out = append(out, entry)
		}
	}
	return out
}

// mapPatterns reads a list of the source values of an nginx map: strings,
// which match whole values in any letter case, and regular expressions
// after "~" (or "~*" for any letter case), which match anywhere in the
// value. A pattern RE2 cannot express is reported and left out.
func (r *reader) mapPatterns(name string) []ir.StringMatch {
	var out []ir.StringMatch
	for _, entry := range r.list(name) {
		m, err := MapPattern(entry)
		if err != nil {
			r.issue(name, ir.ReasonInvalidAnnotation, "%q %v; left out", entry, err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// maxProgram bounds the size of a compiled pattern: Envoy refuses regular
// expressions whose RE2 program is larger than 100 instructions, and Go's
// programs of the same ASCII expression are larger (measured: 109 Go
// instructions where RE2 counts at most 100, 117 where it counts 105).
const maxProgram = 100

// MapPattern translates a source value of an nginx map into a match of
// the whole value. nginx's regular expressions are PCRE and search the
// value; the RE2 expression that Envoy matches as a whole is the pattern
// between ".*" on both sides. Lookarounds, back-references and the other
// PCRE constructs RE2 lacks are refused.
func MapPattern(entry string) (ir.StringMatch, error) {
	var flags string
	switch {
	case strings.HasPrefix(entry, "~*"):
		entry, flags = entry[2:], "(?i)"
	case strings.HasPrefix(entry, "~"):
		entry = entry[1:]
	default:
		// A backslash escapes a first character that would be special.
		return ir.StringMatch{Exact: strings.TrimPrefix(entry, `\`), IgnoreCase: true}, nil
	}
	if entry == "" {
		return ir.StringMatch{}, fmt.Errorf("is an empty regular expression")
	}
	// RE2 compiles Unicode classes into UTF-8 automata much larger than
	// Go's programs, so their size cannot be bounded here.
	if strings.Contains(entry, `\p`) || strings.Contains(entry, `\P`) || !isASCII(entry) {
		return ir.StringMatch{}, fmt.Errorf("uses Unicode classes or characters, which rukou does not translate (the program Envoy would build has no bound it can check)")
	}
	re := flags + "(?s).*(?:" + entry + ").*"
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return ir.StringMatch{}, fmt.Errorf("is not a regular expression RE2 accepts (%v)", err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil || len(prog.Inst) > maxProgram {
		return ir.StringMatch{}, fmt.Errorf("is a regular expression too large for Envoy (more than %d instructions)", maxProgram)
	}
	return ir.StringMatch{Regex: re}, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
