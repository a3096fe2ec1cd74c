package limiter

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rukou/rukou/limiter/wire"
)

// maxCacheEntries bounds the auth responses kept (auth-cache-key): past
// it, expired entries go first, then the ones closest to expiring.
const maxCacheEntries = 10000

// authCache keeps auth responses per route and cache key until they
// expire, as nginx's proxy_cache in the auth location.
type authCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cacheEntry
}

type cacheEntry struct {
	res     authResult
	expires time.Time
}

func newAuthCache(max int) *authCache {
	return &authCache{max: max, entries: map[string]cacheEntry{}}
}

// get returns the response kept for key, unless it has expired.
func (c *authCache) get(key string, now time.Time) (authResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		return authResult{}, false
	}
	return e.res, true
}

// put keeps res for key until expires, making room when the cache is full.
func (c *authCache) put(key string, res authResult, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evict(expires)
	}
	c.entries[key] = cacheEntry{res: res, expires: expires}
}

// evict removes the expired entries, or else the tenth of the entries that
// expire first.
func (c *authCache) evict(now time.Time) {
	type kv struct {
		key     string
		expires time.Time
	}
	all := make([]kv, 0, len(c.entries))
	for k, e := range c.entries {
		all = append(all, kv{k, e.expires})
	}
	slices.SortFunc(all, func(x, y kv) int { return x.expires.Compare(y.expires) })
	n := max(1, len(all)/10)
	for i, e := range all {
		if i >= n && e.expires.After(now) {
			break
		}
		delete(c.entries, e.key)
	}
}

// cacheTTL is how long res may be kept under the route's rules: the first
// rule naming its status (or any), and never a response nginx would not
// cache (one that sets a cookie, or says it must not be stored), nor a
// failed request.
func cacheTTL(rules []wire.CacheRule, res authResult) time.Duration {
	if res.status == 0 || len(res.header.Values("Set-Cookie")) > 0 || uncacheable(res.header) {
		return 0
	}
	for _, r := range rules {
		if r.Any || slices.Contains(r.Statuses, res.status) {
			return r.TTL
		}
	}
	return 0
}

// uncacheable reports a Cache-Control that forbids caching.
func uncacheable(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(strings.ToLower(v), ",") {
			switch strings.TrimSpace(d) {
			case "no-store", "no-cache", "private":
				return true
			}
		}
	}
	return false
}
