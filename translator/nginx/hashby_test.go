package nginx

import (
	"testing"

	"github.com/rukou/rukou/translator/ir"
)

func TestReadUpstreamHashBy(t *testing.T) {
	hashBy := func(want ...ir.HashKey) func(*testing.T, *Annotations) {
		return func(t *testing.T, a *Annotations) {
			var got []ir.HashKey
			if a.Policy != nil {
				got = a.Policy.HashBy
			}
			equal(t, "hash by", got, want)
		}
	}
	runAnnotationCases(t, []annotationCase{
		{
			name:   "variables_and_text_combine",
			values: map[string]string{"upstream-hash-by": "$host${request_uri}-$http_X_User$cookie_sid$arg_page$remote_addr"},
			check: hashBy(ir.HashKey{Header: ":authority"}, ir.HashKey{Header: ":path"}, ir.HashKey{Header: "x-user"},
				ir.HashKey{Cookie: "sid"}, ir.HashKey{Query: "page"}, ir.HashKey{ClientAddress: true}),
		},
		{
			name:   "unknown_variable_is_round_robin",
			values: map[string]string{"upstream-hash-by": "$request_uri$uri"},
			check:  hashBy(),
			issues: []string{"upstream-hash-by InvalidAnnotation"},
		},
		{
			name:   "text_alone_is_round_robin",
			values: map[string]string{"upstream-hash-by": "fixed"},
			check:  hashBy(),
			issues: []string{"upstream-hash-by InvalidAnnotation"},
		},
		{
			name:   "subset_keeps_the_hash_and_is_reported",
			values: map[string]string{"upstream-hash-by": "$request_uri", "upstream-hash-by-subset": "true"},
			check:  hashBy(ir.HashKey{Header: ":path"}),
			issues: []string{"upstream-hash-by-subset AnnotationIgnored"},
		},
		{
			name:   "subset_of_one_is_the_hash",
			values: map[string]string{"upstream-hash-by": "$request_uri", "upstream-hash-by-subset": "true", "upstream-hash-by-subset-size": "1"},
			check:  hashBy(ir.HashKey{Header: ":path"}),
		},
		{
			name:   "subset_size_zero_is_invalid",
			values: map[string]string{"upstream-hash-by": "$request_uri", "upstream-hash-by-subset": "true", "upstream-hash-by-subset-size": "0"},
			check:  hashBy(ir.HashKey{Header: ":path"}),
			issues: []string{"upstream-hash-by-subset AnnotationIgnored", "upstream-hash-by-subset-size InvalidAnnotation"},
		},
		{
			name:   "subset_without_hash_by_is_reported",
			values: map[string]string{"upstream-hash-by-subset": "true"},
			check:  hashBy(),
			issues: []string{"upstream-hash-by-subset AnnotationIgnored"},
		},
		{
			name:   "load_balance_ewma",
			values: map[string]string{"load-balance": "EWMA"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "balance", a.Balance, BalanceEWMA) },
		},
		{
			name:   "load_balance_chash_alone_is_round_robin",
			values: map[string]string{"load-balance": "chash"},
			check:  func(t *testing.T, a *Annotations) { equal(t, "balance", a.Balance, BalanceRoundRobin) },
			issues: []string{"load-balance InvalidAnnotation"},
		},
	})
}
