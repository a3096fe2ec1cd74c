package xds

import (
	"strings"
	"testing"

	envoy_config_endpoint_v3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	envoy_config_route_v3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"

	"github.com/rukou/rukou/translator/envoy"
)

// TestConsistentAgreesWithGoControlPlane: rukou's consistency check finds
// what go-control-plane's Snapshot.Consistent finds, on a consistent
// configuration and on each way of breaking one, and names what is wrong.
func TestConsistentAgreesWithGoControlPlane(t *testing.T) {
	base := func() *envoy.Resources { return config(t, "blue", map[string]int{"blue": 1, "green": 2}) }
	for _, tc := range []struct {
		name  string
		spoil func(r *envoy.Resources)
		want  string // in the error; empty when consistent
	}{
		{name: "consistent", spoil: func(*envoy.Resources) {}},
		{name: "a cluster without its endpoints", spoil: func(r *envoy.Resources) { r.Endpoints = r.Endpoints[:1] }, want: "endpoints green is referenced but not served"},
		{name: "endpoints without their cluster", spoil: func(r *envoy.Resources) {
			r.Endpoints = append(r.Endpoints, &envoy_config_endpoint_v3.ClusterLoadAssignment{ClusterName: "red"})
		}, want: "3 endpoints are served, 2 referenced"},
		{name: "a listener's routes missing", spoil: func(r *envoy.Resources) { r.Routes = nil }, want: "routes http is referenced but not served"},
		{name: "routes no listener names", spoil: func(r *envoy.Resources) {
			r.Routes = append(r.Routes, &envoy_config_route_v3.RouteConfiguration{Name: "other"})
		}, want: "2 routes are served, 1 referenced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.spoil(r)
			var kinds [numKinds]kindSnapshot
			for k, items := range [numKinds][]types.Resource{
				listeners: asResources(r.Listeners), routes: asResources(r.Routes), clusters: asResources(r.Clusters),
				endpoints: asResources(r.Endpoints), secrets: asResources(r.Secrets),
			} {
				var err error
				if kinds[k], err = version(items, &kindSnapshot{}, false, nil); err != nil {
					t.Fatal(err)
				}
			}
			snap, _ := snapshotOf(&kinds)
			err, theirs := consistent(&kinds), snap.Consistent()
			if (err == nil) != (theirs == nil) {
				t.Fatalf("rukou's check: %v; go-control-plane's: %v", err, theirs)
			}
			if got := errString(err); !strings.Contains(got, tc.want) || (tc.want == "") != (err == nil) {
				t.Errorf("error %q, want one with %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
