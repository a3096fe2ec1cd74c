package envoy

import (
	"strings"
	"testing"

	envoy_config_bootstrap_v3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
)

func TestBootstrapReadyListener(t *testing.T) {
	base := BootstrapConfig{XDSAddress: "rukou.rukou-system.svc:18000", AdminAddress: "127.0.0.1:9901", NodeID: "n"}
	listenerNames := func(b *envoy_config_bootstrap_v3.Bootstrap) []string {
		var out []string
		for _, l := range b.GetStaticResources().GetListeners() {
			out = append(out, l.Name+"@"+l.Address.GetSocketAddress().Address)
		}
		return out
	}
	adminEndpoint := func(b *envoy_config_bootstrap_v3.Bootstrap) string {
		for _, c := range b.GetStaticResources().GetClusters() {
			if c.Name == adminClusterName {
				return c.LoadAssignment.Endpoints[0].LbEndpoints[0].GetEndpoint().Address.GetSocketAddress().Address
			}
		}
		return ""
	}

	t.Run("none_without_ready_address", func(t *testing.T) {
		b, err := Bootstrap(base)
		if err != nil {
			t.Fatal(err)
		}
		if got := listenerNames(b); len(got) != 0 || adminEndpoint(b) != "" {
			t.Errorf("static listeners %v, admin cluster %q; want none", got, adminEndpoint(b))
		}
	})
	for _, tc := range []struct{ admin, wantEndpoint string }{
		{"127.0.0.1:9901", "127.0.0.1"},
		{"0.0.0.0:9901", "127.0.0.1"},
		{"[::]:9901", "::1"},
		{"[::1]:9901", "::1"},
	} {
		t.Run("admin_"+tc.admin+"_reached_on_"+tc.wantEndpoint, func(t *testing.T) {
			cfg := base
			cfg.AdminAddress, cfg.ReadyAddress = tc.admin, "0.0.0.0:9902"
			b, err := Bootstrap(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := listenerNames(b); len(got) != 1 || got[0] != ReadyListenerName+"@0.0.0.0" {
				t.Errorf("static listeners %v", got)
			}
			if got := adminEndpoint(b); got != tc.wantEndpoint {
				t.Errorf("admin cluster endpoint %q, want %q", got, tc.wantEndpoint)
			}
		})
	}
	t.Run("only_get_ready_reaches_admin", func(t *testing.T) {
		cfg := base
		cfg.ReadyAddress = "0.0.0.0:9902"
		b, err := Bootstrap(cfg)
		if err != nil {
			t.Fatal(err)
		}
		y, err := MarshalYAML(b)
		if err != nil {
			t.Fatal(err)
		}
		// One route to the admin cluster, for exactly GET /ready; the rest 404.
		if n := strings.Count(string(y), "cluster: "+adminClusterName); n != 1 {
			t.Errorf("%d routes to the admin cluster, want 1:\n%s", n, y)
		}
		for _, want := range []string{"path: /ready", "exact: GET", "status: 404"} {
			if !strings.Contains(string(y), want) {
				t.Errorf("bootstrap lacks %q:\n%s", want, y)
			}
		}
	})
	t.Run("ready_address_must_differ_from_admin", func(t *testing.T) {
		cfg := base
		cfg.ReadyAddress = cfg.AdminAddress
		if _, err := Bootstrap(cfg); err == nil || !strings.Contains(err.Error(), "is the admin address") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("bad_ready_address", func(t *testing.T) {
		cfg := base
		cfg.ReadyAddress = "9902"
		if _, err := Bootstrap(cfg); err == nil || !strings.Contains(err.Error(), "ready address") {
			t.Errorf("err %v", err)
		}
	})
}
