package envoy

import (
	"strings"
	"testing"

	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// TestValidateChecksSharedRoutesOnce: a route that two route
// configurations share is checked (an invalid one fails validation, naming
// where it is), and validation leaves every virtual host its routes.
func TestValidateChecksSharedRoutesOnce(t *testing.T) {
	shared := &envoy_config_route_v3.Route{Name: "shared"} // no match and no action: invalid
	table := func(name string) *envoy_config_route_v3.RouteConfiguration {
		return &envoy_config_route_v3.RouteConfiguration{Name: name, VirtualHosts: []*envoy_config_route_v3.VirtualHost{
			{Name: "example.com", Domains: []string{"example.com"}, Routes: []*envoy_config_route_v3.Route{shared}},
		}}
	}
	res := &Resources{Routes: []*envoy_config_route_v3.RouteConfiguration{table("http"), table("https")}}
	err := res.Validate()
	if err == nil || !strings.Contains(err.Error(), `route configuration "http": virtual host "example.com": route "shared"`) {
		t.Errorf("Validate: %v, want the shared route's error", err)
	}
	for _, rc := range res.Routes {
		if got := rc.VirtualHosts[0].Routes; len(got) != 1 || got[0] != shared {
			t.Errorf("%s: routes %v after Validate, want the shared route back", rc.Name, got)
		}
	}
	shared.Match = &envoy_config_route_v3.RouteMatch{PathSpecifier: &envoy_config_route_v3.RouteMatch_Prefix{Prefix: "/"}}
	shared.Action = &envoy_config_route_v3.Route_DirectResponse{DirectResponse: &envoy_config_route_v3.DirectResponseAction{Status: 404}}
	if err := res.Validate(); err != nil {
		t.Errorf("Validate of a valid shared route: %v", err)
	}
	res.Routes[1].VirtualHosts[0].Domains = nil // a virtual host without domains is invalid
	if err := res.Validate(); err == nil || !strings.Contains(err.Error(), `route configuration "https"`) {
		t.Errorf("Validate: %v, want the https table's virtual host refused", err)
	}
}
