package nginx

import (
	"math"
	"regexp"
	"strings"

	"github.com/rukou/rukou/translator/internal/valid"
	"github.com/rukou/rukou/translator/ir"
)

// hashByValue is what ingress-nginx accepts in upstream-hash-by: nginx
// variables ($name or ${name}) and text.
var hashByValue = regexp.MustCompile(`^[A-Za-z0-9_${}-]+$`)

// hashVariable is one variable of upstream-hash-by, with what follows it.
var hashVariable = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))`)

// readHashBy reads upstream-hash-by: the parts of the request whose hash
// picks the endpoint. Text between the variables is the same for every
// request, so it changes no endpoint's share and is left out.
func readHashBy(r *reader, a *Annotations) {
	v, ok := r.get("upstream-hash-by")
	if !ok {
		r.ignoredWithout("upstream-hash-by", "upstream-hash-by-subset")
		return
	}
	if !hashByValue.MatchString(v) {
		r.invalid("upstream-hash-by", "is not nginx variables and text", "round robin")
		return
	}
	var keys []ir.HashKey
	for _, m := range hashVariable.FindAllStringSubmatch(v, -1) {
		k, ok := hashKey(m[1] + m[2])
		if !ok {
			r.invalid("upstream-hash-by", "uses $"+m[1]+m[2]+", which rukou cannot hash (it hashes $request_uri, $host, $remote_addr, $http_*, $cookie_* and $arg_*)", "round robin")
			return
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		r.invalid("upstream-hash-by", "has no variable, so every request hashes alike", "round robin")
		return
	}
	a.policy().HashBy = keys
	readHashSubset(r)
}

// readHashSubset reads upstream-hash-by-subset and its size. ingress-nginx
// hashes a key to a set of that many endpoints and picks one of them at
// random; Envoy's ring hash has no such step, so a key keeps one endpoint,
// which the reader reports.
func readHashSubset(r *reader) {
	if !r.boolean("upstream-hash-by-subset", false) {
		return
	}
	size := int64(3)
	if n, ok := r.number("upstream-hash-by-subset-size", 1, math.MaxInt32); ok {
		size = n
	}
	if size > 1 {
		r.issue("upstream-hash-by-subset", ir.ReasonAnnotationIgnored,
			"Envoy hashes each key to one endpoint, not to a subset of %d endpoints picked among at random; requests with one key all reach one endpoint", size)
	}
}

// hashKey is the part of the request an nginx variable stands for.
func hashKey(name string) (ir.HashKey, bool) {
	switch name {
	case "request_uri":
		return ir.HashKey{Header: ":path"}, true
	case "host":
		return ir.HashKey{Header: ":authority"}, true
	case "remote_addr", "binary_remote_addr":
		return ir.HashKey{ClientAddress: true}, true
	}
	for prefix, key := range map[string]func(string) ir.HashKey{
		"http_":   func(s string) ir.HashKey { return ir.HashKey{Header: strings.ReplaceAll(s, "_", "-")} },
		"cookie_": func(s string) ir.HashKey { return ir.HashKey{Cookie: s} },
		"arg_":    func(s string) ir.HashKey { return ir.HashKey{Query: s} },
	} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && rest != "" && valid.Token(rest) {
			return key(strings.ToLower(rest)), true
		}
	}
	return ir.HashKey{}, false
}
