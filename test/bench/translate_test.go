package bench

import (
	"testing"
	"time"

	"github.com/rukou/rukou/selfsigned"
	"github.com/rukou/rukou/translator"
)

// BenchmarkTranslate is a full translation alone at 10,000 Ingresses: the
// translator's part of every rebuild. Under callgrind it gives instruction
// counts, which do not depend on what else the machine runs
// (docs/benchmarks.md has the command).
func BenchmarkTranslate(b *testing.B) {
	in, err := Standard(10000).Input(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	opts := translator.DefaultOptions()
	// The default certificate rukou serve generates at start.
	chain, key, err := selfsigned.Fake(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	opts.GeneratedCertificate = &translator.KeyPair{Chain: chain, Key: key}
	for b.Loop() {
		if _, err := translator.Translate(in, opts); err != nil {
			b.Fatal(err)
		}
	}
}
