// Package wire holds what both ends of the limit-connections protocol must
// agree on: the Envoy cluster of rukou's limiter, the gRPC metadata that
// carries a route's limit, and the attribute that carries the client
// address. The Envoy backend writes them and package limiter reads them.
//
// It may import only the standard library, so that neither end links the
// other.
package wire

import (
	"net/netip"
	"strings"
)

const (
	// LimiterCluster is the Envoy cluster of rukou's limiter, which
	// `rukou bootstrap` defines.
	LimiterCluster = "rukou-limiter"
	// LimitConnectionsKey, LimitScopeKey and LimitExemptKey are the gRPC
	// metadata that tell the limiter a route's limit: the number of
	// requests, the scope they are counted in, and the client ranges that
	// are never counted (comma-separated prefixes).
	LimitConnectionsKey = "rukou-limit-connections"
	LimitScopeKey       = "rukou-limit-scope"
	LimitExemptKey      = "rukou-limit-exempt"
	// LimitStatusKey, when sent, is the status of requests over the limit
	// (limit-conn-status-code); without it they get 503.
	LimitStatusKey = "rukou-limit-status"
	// ClientAddressAttribute is the Envoy attribute that carries the client
	// address to the limiter.
	ClientAddressAttribute = "source.address"
)

// FormatPrefixes joins prefixes with commas; ParsePrefixes reads them back.
func FormatPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// ParsePrefixes reads what FormatPrefixes wrote.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
