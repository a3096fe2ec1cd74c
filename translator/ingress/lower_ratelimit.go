package ingress

import (
	"net"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// The rate limit service's cluster (no backend's cluster name lacks a
// "/", so it cannot clash with one) and the domain of rukou's limits in
// the service's configuration.
const (
	RateLimitCluster = "global-rate-limit"
	RateLimitDomain  = "rukou"
)

// rateLimitTimeout bounds each question to the rate limit service; a
// request whose answer is late goes through, as ingress-nginx lets it
// through when memcached fails.
const rateLimitTimeout = 100 * time.Millisecond

// withoutRateLimitService drops an Ingress's global rate limit when rukou
// serve has no service to count it in, and reports it: ingress-nginx
// without memcached serves such an Ingress unlimited too.
func withoutRateLimitService(ann *nginx.Annotations, opts Options) []nginx.Issue {
	if opts.GlobalRateLimitService != "" || ann.Policy == nil || ann.Policy.GlobalRateLimit == nil {
		return nil
	}
	ann.Policy.GlobalRateLimit = nil
	if reflect.ValueOf(*ann.Policy).IsZero() {
		ann.Policy = nil // it asked nothing else
	}
	return []nginx.Issue{{
		Name: "global-rate-limit", Reason: ir.ReasonGlobalRateLimitUnavailable,
		Msg: "rukou serve has no --global-rate-limit-service to count it in; the Ingress is served without its global rate limit",
	}}
}

// lowerRateLimitService gives every listener the rate limit service of
// --global-rate-limit-service, a page for its status, and the service's
// cluster (gRPC).
func lowerRateLimitService(cfg *ir.Config, opts Options, s *nginx.Settings) {
	host, portText, err := net.SplitHostPort(opts.GlobalRateLimitService)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil {
		return // rukou serve checks the flag
	}
	for _, l := range cfg.Listeners {
		l.RateLimitService = &ir.RateLimitService{
			Cluster: RateLimitCluster, Domain: RateLimitDomain, Status: s.GlobalRateLimitStatus, Timeout: ir.Duration(rateLimitTimeout),
		}
		if !slices.ContainsFunc(l.LocalReplies, func(r ir.LocalReply) bool { return r.Status == s.GlobalRateLimitStatus }) {
			l.LocalReplies = append(l.LocalReplies, localReply(s.GlobalRateLimitStatus))
			slices.SortFunc(l.LocalReplies, func(a, b ir.LocalReply) int { return int(a.Status) - int(b.Status) })
		}
	}
	addServiceCluster(cfg, RateLimitCluster, host, uint32(port), s.ConnectTimeout)
}
