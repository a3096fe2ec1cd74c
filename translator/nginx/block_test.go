package nginx

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

// TestReadBlocks: each entry that cannot be used is reported and left
// out; the others block.
func TestReadBlocks(t *testing.T) {
	s := readExpecting(t, map[string]string{
		"block-cidrs":       "203.0.113.0/24, nope, 2001:db8::1",
		"block-user-agents": "BadBot, ~*crawl, ~(?<=x)y",
		"block-referers":    `~^https://spam\.test/`,
	}, []string{"block-cidrs InvalidConfigValue", "block-user-agents InvalidConfigValue"})
	want := ir.Block{
		Addresses:  []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::1/128")},
		UserAgents: []ir.StringMatch{{Exact: "BadBot", IgnoreCase: true}, {Regex: "(?i)(?s).*(?:crawl).*"}},
		Referers:   []ir.StringMatch{{Regex: `(?s).*(?:^https://spam\.test/).*`}},
	}
	equal(t, "block", s.Block, want)
}

func TestMapPattern(t *testing.T) {
	for _, c := range []struct {
		name, entry string
		want        ir.StringMatch
		err         string
	}{
		{"string_matches_whole_in_any_case", "Mozilla/5.0 (X11)", ir.StringMatch{Exact: "Mozilla/5.0 (X11)", IgnoreCase: true}, ""},
		{"backslash_escapes_the_first_character", `\~tilde`, ir.StringMatch{Exact: "~tilde", IgnoreCase: true}, ""},
		{"regex_matches_anywhere", "~bot", ir.StringMatch{Regex: "(?s).*(?:bot).*"}, ""},
		{"regex_in_any_case", "~*bot", ir.StringMatch{Regex: "(?i)(?s).*(?:bot).*"}, ""},
		{"anchors_keep_their_meaning", "~^curl/", ir.StringMatch{Regex: "(?s).*(?:^curl/).*"}, ""},
		{"alternation_stays_inside", "~a|b", ir.StringMatch{Regex: "(?s).*(?:a|b).*"}, ""},
		{"lookahead_is_refused", "~(?!good)bot", ir.StringMatch{}, "RE2"},
		{"backreference_is_refused", `~(a)\1`, ir.StringMatch{}, "RE2"},
		{"empty_regex_is_refused", "~", ir.StringMatch{}, "empty"},
		{"unicode_class_is_refused", `~*\pL+bot`, ir.StringMatch{}, "Unicode"},
		{"non_ascii_is_refused", "~*bötli", ir.StringMatch{}, "Unicode"},
		{"huge_regex_is_refused", "~" + strings.Repeat("(ab|cd)", 40), ir.StringMatch{}, "too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := MapPattern(c.entry)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "match", got, c.want)
		})
	}
}
