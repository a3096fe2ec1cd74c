package envoy

import (
	"cmp"
	"slices"

	"github.com/rukou/rukou/translator/ir"
	"sigs.k8s.io/yaml"
)

// serviceDescriptor is one node of envoyproxy/ratelimit's configuration:
// a descriptor entry's key, its value (none: each value counts apart) and
// the limit of descriptors that end there.
type serviceDescriptor struct {
	Key         string              `json:"key"`
	Value       string              `json:"value,omitempty"`
	RateLimit   *serviceLimit       `json:"rate_limit,omitempty"`
	Descriptors []serviceDescriptor `json:"descriptors,omitempty"`
}

type serviceLimit struct {
	Unit            ir.RateLimitUnit `json:"unit"`
	RequestsPerUnit uint32           `json:"requests_per_unit"`
}

// RateLimitServiceConfig renders the configuration of envoyproxy/ratelimit
// that counts the global rate limits of cfg's routes, as the descriptors
// of globalRateLimitRoute arrive; nil when no listener has a rate limit
// service.
func RateLimitServiceConfig(cfg *ir.Config) []byte {
	var domain string
	limits := map[string]*ir.GlobalRateLimit{}
	for _, l := range cfg.Listeners {
		if l.RateLimitService == nil {
			continue
		}
		domain = l.RateLimitService.Domain
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Policy != nil && r.Policy.GlobalRateLimit != nil {
					limits[r.Policy.GlobalRateLimit.ID] = r.Policy.GlobalRateLimit
				}
			}
		}
	}
	if domain == "" {
		return nil
	}
	descriptors := []serviceDescriptor{}
	for _, g := range limits {
		descriptors = append(descriptors, serviceDescriptors(g)...)
	}
	slices.SortFunc(descriptors, func(a, b serviceDescriptor) int {
		return cmp.Or(cmp.Compare(a.Value, b.Value), cmp.Compare(a.Key, b.Key))
	})
	out, err := yaml.Marshal(struct {
		Domain      string              `json:"domain"`
		Descriptors []serviceDescriptor `json:"descriptors"`
	}{domain, descriptors})
	if err != nil {
		panic(err) // plain strings and numbers always marshal
	}
	return out
}

// serviceDescriptors are the nodes of one limit. A header or query
// parameter that is absent is left out of the descriptor, so every
// subsequence of the key's parts ends in the limit.
func serviceDescriptors(g *ir.GlobalRateLimit) []serviceDescriptor {
	limit := &serviceLimit{Unit: g.Unit, RequestsPerUnit: g.Limit}
	keys := make([]string, 0, len(g.Key))
	var absent []string
	for _, k := range g.Key {
		keys = append(keys, descriptorKey(k))
		if absentAction(k) != nil {
			absent = append(absent, absentKeyPrefix+descriptorKey(k))
		}
	}
	out := []serviceDescriptor{{Key: globalLimitKey, Value: g.ID, Descriptors: subsequences(keys, limit)}}
	if len(absent) == len(g.Key) {
		// Every part absent: the client address counts.
		chain := []serviceDescriptor{{Key: remoteAddressKey, RateLimit: limit}}
		for i := len(absent) - 1; i >= 0; i-- {
			chain = []serviceDescriptor{{Key: absent[i], Value: absentEntryValue, Descriptors: chain}}
		}
		out = append(out, serviceDescriptor{Key: globalUnkeyedKey, Value: g.ID, Descriptors: chain})
	}
	return out
}

// subsequences is a tree in which every non-empty subsequence of keys is
// a path that ends in limit.
func subsequences(keys []string, limit *serviceLimit) []serviceDescriptor {
	out := make([]serviceDescriptor, 0, len(keys))
	for i, k := range keys {
		out = append(out, serviceDescriptor{Key: k, RateLimit: limit, Descriptors: subsequences(keys[i+1:], limit)})
	}
	return out
}
