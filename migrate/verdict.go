package migrate

import (
	"strings"

	"github.com/rukou/rukou/translator/nginx"
)

// Verdict is what moving to rukou does to one annotation, ConfigMap key or
// flag, from translator/nginx's registries.
type Verdict string

// The verdicts, one per registry status.
const (
	// Same: rukou behaves as ingress-nginx (status supported).
	Same Verdict = "same"
	// Different: rukou behaves otherwise where the note says (supported
	// with differences), or cannot use the value given.
	Different Verdict = "differs"
	// Refused: rukou never honours it, on purpose (snippets).
	Refused Verdict = "refused"
	// NotSupported: rukou ignores it (not yet, or unknown).
	NotSupported Verdict = "not supported"
)

// verdictOf maps a registry status to its verdict.
func verdictOf(s nginx.Status) Verdict {
	switch s {
	case nginx.Supported:
		return Same
	case nginx.Differs:
		return Different
	case nginx.Refused:
		return Refused
	}
	return NotSupported
}

// unknownNote is the note of a name no registry holds.
const unknownNote = "unknown: not in ingress-nginx's reference as rukou knows it"

// annotationVerdict judges one nginx.ingress.kubernetes.io/ annotation
// (name without the prefix), by its name or its former name.
func annotationVerdict(name string) (Verdict, string) {
	e, ok := nginx.Lookup(name)
	if !ok {
		return NotSupported, unknownNote
	}
	return verdictOf(e.Status), e.Note
}

// keyVerdict judges one key of ingress-nginx's ConfigMap.
func keyVerdict(name string) (Verdict, string) {
	k, ok := nginx.LookupKey(name)
	if !ok {
		return NotSupported, unknownNote
	}
	return verdictOf(k.Status), k.Note
}

// flagVerdict judges one flag of ingress-nginx's controller.
func flagVerdict(name string) (Verdict, string) {
	f, ok := nginx.LookupFlag(name)
	if !ok {
		return NotSupported, unknownNote
	}
	return verdictOf(f.Status), f.Note
}

// Outcome is what moving does to one Ingress, and to the whole report.
type Outcome string

// The outcomes, from best to worst.
const (
	// Unchanged: rukou serves it as ingress-nginx does.
	Unchanged Outcome = "unchanged"
	// Differs: rukou serves all of it, some of it differently.
	Differs Outcome = "differs"
	// CannotMove: rukou would not serve part of it as ingress-nginx
	// does (paths answering 503, hosts without TLS, refused snippets);
	// fix it before moving.
	CannotMove Outcome = "cannot move"
)

// ExitCode is rukou migrate's exit status for the outcome: 0, 1 or 2.
func (o Outcome) ExitCode() int {
	switch o {
	case Differs:
		return 1
	case CannotMove:
		return 2
	}
	return 0
}

// worse returns the worse of two outcomes.
func worse(a, b Outcome) Outcome {
	if b.ExitCode() > a.ExitCode() {
		return b
	}
	return a
}

// outcomeOf is what the verdict on the annotation or ConfigMap key name
// does to the Ingresses it applies to. A refused snippet is nginx
// configuration text, which may hold access rules or headers that rukou
// would drop without a word: what it does must be rewritten before moving.
func outcomeOf(v Verdict, name string) Outcome {
	switch {
	case v == Same:
		return Unchanged
	case v == Refused && strings.HasSuffix(name, "-snippet"):
		return CannotMove
	}
	return Differs
}

// annotationName is the name of an ingress-nginx annotation without its
// prefix; ok is false for annotations of anything else.
func annotationName(key string) (string, bool) {
	return strings.CutPrefix(key, nginx.Prefix)
}
