package nginx

import (
	"fmt"
	"regexp/syntax"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

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
