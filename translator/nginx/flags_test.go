package nginx

import "testing"

// TestFlagDocsFollowTheRegistry keeps docs/flags.md's table of every flag
// equal to Flags (`go test ./translator/nginx -update`).
func TestFlagDocsFollowTheRegistry(t *testing.T) {
	checkGeneratedTable(t, "flags.md", "<!-- The table below is generated from translator/nginx's Flags: go test ./translator/nginx -update -->\n", FlagTable())
}

// TestFlagsAreConsistent: names sorted, unique and without dashes, and
// every flag that is not the same in rukou says why or what instead.
func TestFlagsAreConsistent(t *testing.T) {
	for i, f := range Flags {
		if i > 0 && Flags[i-1].Name >= f.Name {
			t.Errorf("%q comes after %q: Flags are sorted by name, once each", f.Name, Flags[i-1].Name)
		}
		if f.Name == "" || f.Name[0] == '-' {
			t.Errorf("%q: names go without dashes", f.Name)
		}
		if f.Status == Differs && f.Note == "" {
			t.Errorf("--%s differs but its note does not say how", f.Name)
		}
	}
	for _, name := range []string{"configmap", "ingress-class", "watch-ingress-without-class", "controller-class", "election-id"} {
		if _, ok := LookupFlag(name); !ok {
			t.Errorf("--%s is missing", name)
		}
	}
	if _, ok := LookupFlag("no-such-flag"); ok {
		t.Error("LookupFlag found a flag ingress-nginx does not have")
	}
}
