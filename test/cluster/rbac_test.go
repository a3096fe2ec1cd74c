package cluster_test

import (
	"strings"
	"testing"
)

// checkRBAC asks the API server, with `kubectl auth can-i --as`, what each
// of rukou's ServiceAccounts may do, and compares with docs/rbac.md's
// tables: every row allowed, and what the "cannot" column says refused.
func checkRBAC(t *testing.T) {
	const (
		rukou   = "system:serviceaccount:rukou-system:rukou"
		certgen = "system:serviceaccount:rukou-system:rukou-certgen"
		envoy   = "system:serviceaccount:rukou-system:rukou-envoy"
	)
	for _, c := range []struct {
		as, verb, resource, namespace string
		want                          bool
	}{
		// rukou: ClusterRole rukou.
		{rukou, "list", "ingresses.networking.k8s.io", "shop", true},
		{rukou, "get", "ingresses.networking.k8s.io", "shop", true},
		{rukou, "watch", "ingressclasses.networking.k8s.io", "", true},
		{rukou, "watch", "services", "shop", true},
		{rukou, "list", "endpointslices.discovery.k8s.io", "shop", true},
		{rukou, "watch", "secrets", "shop", true},
		{rukou, "update", "ingresses.networking.k8s.io/status", "shop", true},
		{rukou, "list", "nodes", "", true},
		{rukou, "watch", "nodes", "", true},
		{rukou, "create", "events", "shop", true},
		{rukou, "patch", "events", "shop", true},
		{rukou, "update", "ingresses.networking.k8s.io", "shop", false},
		{rukou, "update", "services", "shop", false},
		{rukou, "update", "endpointslices.discovery.k8s.io", "shop", false},
		{rukou, "get", "secrets/db-password", "shop", false},
		{rukou, "create", "secrets", "shop", false},
		{rukou, "update", "nodes/node-1", "", false},
		{rukou, "delete", "events", "shop", false},
		// rukou: Role rukou in rukou-system.
		{rukou, "list", "services/rukou-envoy", "rukou-system", true},
		{rukou, "watch", "services/rukou-envoy", "rukou-system", true},
		{rukou, "get", "services/rukou", "rukou-system", false},
		{rukou, "list", "pods", "rukou-system", true},
		{rukou, "watch", "pods", "rukou-system", true},
		{rukou, "list", "pods", "shop", false},
		{rukou, "get", "pods/x", "rukou-system", false},
		{rukou, "create", "pods/exec", "rukou-system", false},
		{rukou, "watch", "configmaps/rukou", "rukou-system", true},
		{rukou, "list", "configmaps", "rukou-system", true},
		{rukou, "update", "configmaps/rukou", "rukou-system", false},
		{rukou, "list", "configmaps", "shop", false},
		{rukou, "create", "leases.coordination.k8s.io", "rukou-system", true},
		{rukou, "get", "leases.coordination.k8s.io/rukou-leader", "rukou-system", true},
		{rukou, "update", "leases.coordination.k8s.io/rukou-leader", "rukou-system", true},
		{rukou, "update", "leases.coordination.k8s.io/kube-controller-manager", "rukou-system", false},
		{rukou, "delete", "leases.coordination.k8s.io/rukou-leader", "rukou-system", false},
		// rukou-certgen: its three Secrets.
		{certgen, "create", "secrets", "rukou-system", true},
		{certgen, "get", "secrets/rukou-xds-ca", "rukou-system", true},
		{certgen, "update", "secrets/rukou-xds-server", "rukou-system", true},
		{certgen, "get", "secrets/rukou-xds-client", "rukou-system", true},
		{certgen, "list", "secrets", "rukou-system", false},
		{certgen, "get", "secrets/other", "rukou-system", false},
		{certgen, "delete", "secrets/rukou-xds-ca", "rukou-system", false},
		{certgen, "create", "secrets", "shop", false},
		// rukou-envoy: nothing.
		{envoy, "get", "secrets/rukou-xds-client", "rukou-system", false},
		{envoy, "list", "pods", "rukou-system", false},
		{envoy, "list", "services", "rukou-system", false},
	} {
		resource, sub, _ := strings.Cut(c.resource, "/status")
		args := []string{"auth", "can-i", c.verb, resource, "--as", c.as}
		if sub != "" || strings.HasSuffix(c.resource, "/status") {
			args = append(args, "--subresource=status")
		}
		if c.namespace != "" {
			args = append(args, "-n", c.namespace)
		}
		// can-i exits 1 for "no": read the answer, not the status.
		out, _ := kubectlErr(args...)
		got := strings.TrimSpace(out) == "yes"
		if got != c.want {
			t.Errorf("kubectl %s: %q, want %v (docs/rbac.md)", strings.Join(args, " "), strings.TrimSpace(out), c.want)
		}
	}
}
