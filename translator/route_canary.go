package translator

import (
	"regexp"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// canaryChoice is a route, before the canary's main route, that decides by
// a header or a cookie: to the canary backend, or to the primary's.
type canaryChoice struct {
	when    *envoy_config_route_v3.HeaderMatcher
	cluster *string
}

// canaryChoices lists the header and cookie decisions in ingress-nginx's
// order: the header, then the cookie. Requests they leave undecided go to
// the weighted main route.
func canaryChoices(primaryBackend string, c *Canary) []canaryChoice {
	primary, canary := &primaryBackend, &c.Backend
	var out []canaryChoice
	if c.Header != "" {
		switch {
		case c.HeaderValue != "":
			out = append(out, canaryChoice{exactHeader(c.Header, c.HeaderValue), canary})
		case c.HeaderPattern != "":
			// ingress-nginx searches the value for the pattern; Envoy
			// matches the whole value.
			out = append(out, canaryChoice{regexHeader(c.Header, `.*(?:`+c.HeaderPattern+`).*`), canary})
		default:
			out = append(out,
				canaryChoice{exactHeader(c.Header, "always"), canary},
				canaryChoice{exactHeader(c.Header, "never"), primary})
		}
	}
	if c.Cookie != "" {
		cookie := func(v string) *envoy_config_route_v3.HeaderMatcher {
			// One cookie among others, in one Cookie header or several
			// that Envoy joined.
			return regexHeader("cookie", `(.*[;,]\s*)?`+regexp.QuoteMeta(c.Cookie)+`=`+v+`(\s*[;,].*)?`)
		}
		out = append(out, canaryChoice{cookie("always"), canary}, canaryChoice{cookie("never"), primary})
	}
	return out
}

// setClusters points action at the primary and the canary by weight, for
// the requests that no header or cookie decided.
func setClusters(action *envoy_config_route_v3.RouteAction, primary string, c *Canary) {
	switch c.Weight {
	case 0:
		action.ClusterSpecifier = &envoy_config_route_v3.RouteAction_Cluster{Cluster: primary}
	case c.WeightTotal:
		action.ClusterSpecifier = &envoy_config_route_v3.RouteAction_Cluster{Cluster: c.Backend}
	default:
		action.ClusterSpecifier = &envoy_config_route_v3.RouteAction_WeightedClusters{WeightedClusters: &envoy_config_route_v3.WeightedCluster{
			Clusters: []*envoy_config_route_v3.WeightedCluster_ClusterWeight{
				{Name: primary, Weight: wrapperspb.UInt32(c.WeightTotal - c.Weight)},
				{Name: c.Backend, Weight: wrapperspb.UInt32(c.Weight)},
			},
		}}
	}
}
