package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/test/harness"
)

// pathRule is one path of an Ingress rule.
type pathRule struct {
	typ  networkingv1.PathType
	path string
}

// TestPathTypeExamples is the table of path matching examples from the
// Kubernetes Ingress documentation, one host per row, through a real Envoy.
// want is the index of the rule that must answer, or -1 for 404.
func TestPathTypeExamples(t *testing.T) {
	rows := []struct {
		name    string
		rules   []pathRule
		request string
		want    int
	}{
		{"prefix_root_matches_all", []pathRule{{prefix, "/"}}, "/anything/at/all", 0},
		{"exact_matches_itself", []pathRule{{exact, "/foo"}}, "/foo", 0},
		{"exact_does_not_match_other", []pathRule{{exact, "/foo"}}, "/bar", -1},
		{"exact_does_not_match_added_slash", []pathRule{{exact, "/foo"}}, "/foo/", -1},
		{"exact_with_slash_does_not_match_without", []pathRule{{exact, "/foo/"}}, "/foo", -1},
		{"prefix_matches_itself", []pathRule{{prefix, "/foo"}}, "/foo", 0},
		{"prefix_matches_with_slash", []pathRule{{prefix, "/foo"}}, "/foo/", 0},
		{"prefix_with_slash_matches_without", []pathRule{{prefix, "/foo/"}}, "/foo", 0},
		{"prefix_with_slash_matches_with", []pathRule{{prefix, "/foo/"}}, "/foo/", 0},
		{"prefix_last_element_must_match_whole", []pathRule{{prefix, "/aaa/bb"}}, "/aaa/bbb", -1},
		{"prefix_matches_same_path", []pathRule{{prefix, "/aaa/bbb"}}, "/aaa/bbb", 0},
		{"prefix_ignores_trailing_slash_in_rule", []pathRule{{prefix, "/aaa/bbb/"}}, "/aaa/bbb", 0},
		{"prefix_matches_trailing_slash_in_request", []pathRule{{prefix, "/aaa/bbb"}}, "/aaa/bbb/", 0},
		{"prefix_matches_subpath", []pathRule{{prefix, "/aaa/bbb"}}, "/aaa/bbb/ccc", 0},
		{"prefix_does_not_match_string_prefix", []pathRule{{prefix, "/aaa/bbb"}}, "/aaa/bbbxyz", -1},
		{"longest_prefix_wins_over_root", []pathRule{{prefix, "/"}, {prefix, "/aaa"}}, "/aaa/ccc", 1},
		{"longest_of_three_wins", []pathRule{{prefix, "/"}, {prefix, "/aaa"}, {prefix, "/aaa/bbb"}}, "/aaa/bbb", 2},
		{"root_catches_the_rest", []pathRule{{prefix, "/"}, {prefix, "/aaa"}, {prefix, "/aaa/bbb"}}, "/ccc", 0},
		{"no_prefix_match_is_404", []pathRule{{prefix, "/aaa"}}, "/ccc", -1},
		{"exact_beats_prefix_on_tie", []pathRule{{prefix, "/foo"}, {exact, "/foo"}}, "/foo", 1},
		{"exact_is_case_sensitive", []pathRule{{exact, "/foo"}}, "/FOO", -1},
		{"prefix_is_case_sensitive", []pathRule{{prefix, "/foo"}}, "/Foo/bar", -1},
		{"implementation_specific_is_prefix", []pathRule{{implSp, "/foo"}}, "/foo/bar", 0},
		{"implementation_specific_is_element_wise", []pathRule{{implSp, "/foo"}}, "/foobar", -1},
	}
	s := startStack(t, "delta")
	var all []runtime.Object
	host := func(i int) string { return fmt.Sprintf("row%d.paths.test", i) }
	for i, row := range rows {
		var paths []networkingv1.HTTPIngressPath
		for j, r := range row.rules {
			svc := fmt.Sprintf("r%d-p%d", i, j)
			paths = append(paths, path(r.typ, r.path, svc))
			all = append(all, backend(t, svc)...)
		}
		all = append(all, ingress(fmt.Sprintf("row%d", i), rule(host(i), paths...)))
	}
	s.apply(t, "paths", all...)
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if row.want < 0 {
				s.expect(t, host(i), row.request, http.StatusNotFound, "")
				return
			}
			s.expect(t, host(i), row.request, http.StatusOK, fmt.Sprintf("r%d-p%d", i, row.want))
		})
	}
}

// TestHostnameWildcards is the hostname wildcard table from the Kubernetes
// Ingress documentation, plus the host rules every user relies on. The
// Ingresses are translator/testdata/in/e2e_hostname_wildcards.yaml.
func TestHostnameWildcards(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_hostname_wildcards.yaml", backend(t, "wild"), backend(t, "exact"), backend(t, "any"), backend(t, "own"))
	for _, c := range []struct {
		name, host, path string
		status           int
		backend          string
	}{
		{"wildcard_matches_one_label", "bar.foo.com", "/", http.StatusOK, "wild"},
		{"wildcard_does_not_match_two_labels", "baz.bar.foo.com", "/", http.StatusNotFound, ""},
		{"wildcard_does_not_match_bare_domain", "foo.com", "/", http.StatusNotFound, ""},
		{"wildcard_ignores_port_and_case", "BAR.Foo.com:8080", "/", http.StatusOK, "wild"},
		{"deeper_name_falls_to_hostless_rules", "a.b.foo.com", "/shared/x", http.StatusOK, "any"},
		{"exact_host_matches", "exact.example", "/", http.StatusOK, "exact"},
		{"exact_host_is_case_insensitive", "EXACT.Example", "/", http.StatusOK, "exact"},
		{"exact_host_ignores_port", "exact.example:31234", "/", http.StatusOK, "exact"},
		{"exact_host_is_not_a_suffix", "notexact.example", "/", http.StatusNotFound, ""},
		{"hostless_rule_applies_to_unknown_host", "whatever.test", "/shared", http.StatusOK, "any"},
		{"hostless_rule_does_not_serve_a_named_host", "exact.example", "/shared", http.StatusOK, "exact"},
		{"own_rule_beats_hostless_on_same_path", "own.example", "/shared", http.StatusOK, "own"},
		{"hostless_rule_applies_to_other_named_host", "own.example", "/mine", http.StatusOK, "own"},
		{"unknown_host_and_path_is_404", "whatever.test", "/", http.StatusNotFound, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.expect(t, c.host, c.path, c.status, c.backend)
		})
	}
}

// TestDefaultBackends: a rule-less Ingress with a defaultBackend catches the
// hosts no rule names (the oldest one wins); an Ingress with rules and a
// defaultBackend uses it for its own hosts' unmatched paths; a named host's
// other unmatched paths get 404.
func TestDefaultBackends(t *testing.T) {
	s := startStack(t, "delta")
	services := join(backend(t, "catch-old"), backend(t, "catch-new"), backend(t, "app"), backend(t, "site-default"), backend(t, "other"))
	catchOld := created(ingress("catch-old"), 60)
	catchOld.Spec.DefaultBackend = ptr(serviceBackend("catch-old"))
	catchNew := created(ingress("catch-new"), 1)
	catchNew.Spec.DefaultBackend = ptr(serviceBackend("catch-new"))
	site := ingress("site", rule("site.example", path(prefix, "/app", "app")))
	site.Spec.DefaultBackend = ptr(serviceBackend("site-default"))
	other := ingress("other", rule("other.example", path(exact, "/only", "other")))
	s.apply(t, "defaults", join(services, objs(catchOld, catchNew, site, other))...)

	s.expect(t, "nowhere.example", "/", http.StatusOK, "catch-old")
	s.expect(t, "site.example", "/app/x", http.StatusOK, "app")
	s.expect(t, "site.example", "/elsewhere", http.StatusOK, "site-default")
	s.expect(t, "other.example", "/only", http.StatusOK, "other")
	// A named host's unmatched path is not the catch-all's: ingress-nginx
	// answers it from the controller's default backend, 404.
	s.expect(t, "other.example", "/not-only", http.StatusNotFound, "")
	waitDiagnostic(t, s, "default/catch-new", "PathConflict", "default/catch-old")

	t.Log("once the oldest catch-all has rules instead, the next oldest takes over")
	catchOld.Spec.DefaultBackend = nil
	catchOld.Spec.Rules = []networkingv1.IngressRule{rule("old.example", path(prefix, "/", "catch-old"))}
	s.apply(t, "defaults", join(services, objs(catchOld, catchNew, site, other))...)
	s.expect(t, "nowhere.example", "/", http.StatusOK, "catch-new")
	s.expect(t, "old.example", "/", http.StatusOK, "catch-old")

	t.Log("without any default backend, nothing matches: 404")
	s.remove(t, "defaults")
	s.expect(t, "nowhere.example", "/", http.StatusNotFound, "")
}

// TestConflicts: two Ingresses claiming one host, path and type; the older
// serves, the newer is reported, and takes over once the older is gone.
func TestConflicts(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "services", join(backend(t, "first"), backend(t, "second"))...)
	s.apply(t, "b-newer", created(ingress("newer", rule("shared.example", path(prefix, "/", "second"), path(exact, "/extra", "second"))), 1))
	s.apply(t, "a-older", created(ingress("older", rule("shared.example", path(prefix, "/", "first"))), 30))

	s.expect(t, "shared.example", "/", http.StatusOK, "first")
	s.expect(t, "shared.example", "/extra", http.StatusOK, "second") // paths merge
	waitDiagnostic(t, s, "default/newer", "PathConflict", "default/older")

	s.remove(t, "a-older")
	s.expect(t, "shared.example", "/", http.StatusOK, "second")
}

// TestBackends: Service ports by number and by name, target ports through
// the EndpointSlice, 503 without ready endpoints, terminating endpoints as a
// last resort, and load spread over every endpoint.
func TestBackends(t *testing.T) {
	s := startStack(t, "delta")
	spreadA, spreadB := harnessBackend(t, "spread-a"), harnessBackend(t, "spread-b")
	ready, draining := harnessBackend(t, "ready"), harnessBackend(t, "draining")
	onlyDraining := harnessBackend(t, "only-draining")
	notReady := harnessBackend(t, "not-ready")

	byName := ingress("by-name", rule("name.example", networkingv1.HTTPIngressPath{
		Path: "/", PathType: ptr(prefix),
		Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: "named", Port: networkingv1.ServiceBackendPort{Name: "http"},
		}},
	}))
	s.apply(t, "backends", join(
		backend(t, "named"),
		serviceWith("spread", endpoint(spreadA, true, nil), endpoint(spreadB, true, nil)),
		serviceWith("mixed", endpoint(ready, true, nil), endpoint(draining, false, ptr(true))),
		serviceWith("last-resort", endpoint(onlyDraining, false, ptr(true))),
		serviceWith("unready", endpoint(notReady, false, nil)),
		serviceWith("empty"),
		objs(
			byName,
			ingress("spread", rule("spread.example", path(prefix, "/", "spread"))),
			ingress("mixed", rule("mixed.example", path(prefix, "/", "mixed"))),
			ingress("last-resort", rule("last.example", path(prefix, "/", "last-resort"))),
			ingress("unready", rule("unready.example", path(prefix, "/", "unready"))),
			ingress("empty", rule("empty.example", path(prefix, "/", "empty"))),
			ingress("missing", rule("missing.example", path(prefix, "/", "no-such-service"))),
		),
	)...)

	s.expect(t, "name.example", "/", http.StatusOK, "named")
	s.expect(t, "last.example", "/", http.StatusOK, "only-draining")
	s.expect(t, "unready.example", "/", http.StatusServiceUnavailable, "")
	s.expect(t, "empty.example", "/", http.StatusServiceUnavailable, "")
	s.expect(t, "missing.example", "/", http.StatusServiceUnavailable, "")
	waitDiagnostic(t, s, "default/missing", "ServiceNotFound", "no-such-service")

	seen := map[string]int{}
	for range 40 {
		seen[s.expect(t, "mixed.example", "/", http.StatusOK, "ready").Backend]++
	}
	for range 40 {
		r, err := getOnce(s, "spread.example", "/")
		if err != nil {
			t.Fatal(err)
		}
		seen[r]++
	}
	if seen["spread-a"] == 0 || seen["spread-b"] == 0 {
		t.Errorf("load not spread over both endpoints: %v", seen)
	}
	if seen["draining"] != 0 {
		t.Errorf("a terminating endpoint got traffic while a ready one exists: %v", seen)
	}
}

// TestBrokenIngressBesideWorkingOnes: every kind of broken Ingress at once,
// and the working one keeps serving; each broken one is reported. The
// Ingresses are translator/testdata/in/e2e_broken_ingresses.yaml.
func TestBrokenIngressBesideWorkingOnes(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_broken_ingresses.yaml", backend(t, "good"))
	s.expect(t, "good.example", "/", http.StatusOK, "good")
	s.expect(t, "resource.example", "/", http.StatusServiceUnavailable, "")
	s.expect(t, "port.example", "/", http.StatusServiceUnavailable, "")
	for _, d := range []struct{ ingress, reason, mention string }{
		{"default/bad-host", "InvalidHost", "bad_host!.example"},
		{"default/bad-path", "InvalidPath", "no-slash"},
		{"default/missing-service", "ServiceNotFound", "nope"},
		{"default/resource", "ResourceBackendUnsupported", "Bucket"},
		{"default/bad-port", "ServicePortNotFound", "grpc"},
	} {
		waitDiagnostic(t, s, d.ingress, d.reason, d.mention)
	}
	expectNoRejection(t, s.envoy)
}

// TestRequestsArriveUnchanged: method, path, query, Host, headers and body
// reach the backend as sent, over HTTP/1.1, with X-Forwarded-For and
// X-Forwarded-Proto set; a header whose name holds an underscore is
// dropped, as nginx drops it by default (TestConfigMapUnderscoresInHeaders
// lets it through).
func TestRequestsArriveUnchanged(t *testing.T) {
	s := startStack(t, "delta")
	s.apply(t, "echo", join(backend(t, "echo"), objs(ingress("echo", rule("echo.example", path(prefix, "/", "echo")))))...)
	s.expect(t, "echo.example", "/", http.StatusOK, "echo")

	body := `{"hello":"world"}`
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d/a/b%%20c/?x=1&y=two&x=3", s.rukou.HTTPPort), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "Echo.Example:8080"
	req.Header.Set("X_Api_Key", "underscored")
	req.Header.Set("X-Custom", "kept")
	r := sendEcho(t, req)
	e := r.Echo
	for _, c := range []struct{ what, got, want string }{
		{"method", e.Method, http.MethodPut},
		{"path", e.Path, "/a/b c/"},
		{"query", e.RawQuery, "x=1&y=two&x=3"},
		{"host", e.Host, "Echo.Example:8080"},
		{"body", e.Body, body},
		{"protocol", e.Proto, "HTTP/1.1"},
		{"underscored header", first(e.Headers["X_api_key"]), ""},
		{"custom header", first(e.Headers["X-Custom"]), "kept"},
		{"X-Forwarded-Proto", first(e.Headers["X-Forwarded-Proto"]), "http"},
	} {
		if c.got != c.want {
			t.Errorf("%s: backend got %q, want %q", c.what, c.got, c.want)
		}
	}
	// Envoy appends the client's address; for a client on loopback, as
	// here, it appends its host's own address instead (Envoy's rule for
	// use_remote_address), so the test checks only that an IP was added.
	if xff := e.Headers["X-Forwarded-For"]; len(xff) != 1 || net.ParseIP(strings.TrimSpace(xff[0])) == nil {
		t.Errorf("X-Forwarded-For = %q, want one client IP", xff)
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func ingressClass(name, controller string, isDefault bool) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	if isDefault {
		c.Annotations = map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}
	}
	return c
}

// classed is an Ingress for host whose class is set by set (nil: no class).
func classed(name, host string, set func(*networkingv1.Ingress)) *networkingv1.Ingress {
	ing := ingress(name, rule(host, path(prefix, "/", "owner")))
	delete(ing.Annotations, "kubernetes.io/ingress.class")
	if set != nil {
		set(ing)
	}
	return ing
}

func className(c string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { ing.Spec.IngressClassName = ptr(c) }
}

func legacyClass(c string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { ing.Annotations["kubernetes.io/ingress.class"] = c }
}

// TestIngressClassOwnership: rukou serves exactly the Ingresses whose class
// is its own, and ignores every other one entirely.
func TestIngressClassOwnership(t *testing.T) {
	s := startStack(t, "delta")
	services := backend(t, "owner")
	ingresses := objs(
		classed("class-ours", "ours.class.test", className("rukou")),
		classed("class-other", "other.class.test", className("nginx")),
		classed("class-unknown", "unknown.class.test", className("nope")),
		classed("legacy-ours", "legacy-ours.class.test", legacyClass("rukou")),
		classed("legacy-other", "legacy-other.class.test", legacyClass("nginx")),
		classed("no-class", "none.class.test", nil),
	)
	apply := func(rukouIsDefault bool) {
		s.apply(t, "classes", join(services, ingresses, objs(
			ingressClass("rukou", "rukou.io/ingress-controller", rukouIsDefault),
			ingressClass("nginx", "k8s.io/ingress-nginx", !rukouIsDefault),
		))...)
	}
	apply(false)
	for _, c := range []struct {
		name, host string
		served     bool
	}{
		{"class_name_of_our_controller_is_served", "ours.class.test", true},
		{"class_name_of_another_controller_is_ignored", "other.class.test", false},
		{"class_name_of_a_missing_class_is_ignored", "unknown.class.test", false},
		{"legacy_annotation_with_our_class_is_served", "legacy-ours.class.test", true},
		{"legacy_annotation_with_another_class_is_ignored", "legacy-other.class.test", false},
		{"no_class_is_ignored_when_another_class_is_default", "none.class.test", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.served {
				s.expect(t, c.host, "/", http.StatusOK, "owner")
			} else {
				s.expect(t, c.host, "/", http.StatusNotFound, "")
			}
		})
	}
	t.Run("debug_ingresses_tells_owned_from_ignored", func(t *testing.T) {
		body, err := s.rukou.Debug("/debug/ingresses")
		if err != nil {
			t.Fatal(err)
		}
		var list []struct {
			Name     string
			Owned    bool
			Accepted bool
			Hosts    []string
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		owned := map[string]bool{}
		for _, i := range list {
			owned[i.Name] = i.Owned
			if i.Owned != i.Accepted {
				t.Errorf("/debug/ingresses: %s owned=%v but accepted=%v; it has no diagnostics", i.Name, i.Owned, i.Accepted)
			}
		}
		want := map[string]bool{"class-ours": true, "class-other": false, "class-unknown": false, "legacy-ours": true, "legacy-other": false, "no-class": false}
		for name, w := range want {
			if got, ok := owned[name]; !ok || got != w {
				t.Errorf("/debug/ingresses: %s owned=%v (listed: %v), want %v", name, got, ok, w)
			}
		}
	})
	t.Run("no_class_is_served_when_our_class_is_default", func(t *testing.T) {
		apply(true)
		s.expect(t, "none.class.test", "/", http.StatusOK, "owner")
		s.expect(t, "other.class.test", "/", http.StatusNotFound, "")
	})
	t.Run("no_class_is_served_with_watch_ingress_without_class", func(t *testing.T) {
		dir := t.TempDir()
		writeManifest(t, dir+"/m.yaml", toYAML(t, join(backend(t, "owner"), objs(classed("no-class", "none.class.test", nil)))...))
		r := harness.StartRukou(t, "--watch-dir", dir, "--watch-ingress-without-class")
		harness.StartEnvoy(t, r.XDSAddress, "delta")
		harness.ExpectRoute(t, r.HTTPPort, "none.class.test", "/", http.StatusOK, "owner")
	})
}
