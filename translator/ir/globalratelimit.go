package ir

import "net/netip"

// RateLimitUnit is a window a rate limit service counts requests in.
type RateLimitUnit string

// The windows a rate limit service counts in: fixed, aligned on the clock.
const (
	RateLimitSecond RateLimitUnit = "second"
	RateLimitMinute RateLimitUnit = "minute"
	RateLimitHour   RateLimitUnit = "hour"
	RateLimitDay    RateLimitUnit = "day"
)

// RateLimitService is the rate limit service a listener asks about the
// requests of routes with a GlobalRateLimit; every proxy asks the same
// one, so the counts are shared.
type RateLimitService struct {
	// Cluster is the service's cluster (gRPC), among Config.Clusters.
	Cluster string `json:"cluster"`
	// Domain names this configuration among the service's.
	Domain string `json:"domain"`
	// Status answers the requests over a limit.
	Status uint32 `json:"status"`
	// Timeout bounds each question; an unanswered one, like an error,
	// lets the request through.
	Timeout Duration `json:"timeout"`
}

// GlobalRateLimit counts a route's requests in the listener's rate limit
// service: at most Limit per Unit for each value of Key, across every
// route with the same ID.
type GlobalRateLimit struct {
	// ID names the limit; the routes that share it share its counts.
	ID    string        `json:"id"`
	Limit uint32        `json:"limit"`
	Unit  RateLimitUnit `json:"unit"`
	// Key are the parts of the request whose values name a count (a
	// HashKey never has a Cookie here). A header or query parameter that
	// is absent is left out of the value; when every part is absent, the
	// client address names the count.
	Key []HashKey `json:"key"`
	// Ignored are client addresses that are never counted.
	Ignored []netip.Prefix `json:"ignored,omitempty"`
}
