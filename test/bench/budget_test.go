package bench

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/rukou/rukou/test/harness"
)

// BenchmarkDataPlaneBudget says where the instructions that rukou's Envoy
// spends on a plain route above the minimal static Envoy go, one piece of
// the configuration at a time. It translates the plain Ingress of
// BenchmarkDataPlaneInstructions with `rukou translate`, puts its HTTP
// listener, route table and cluster into a static bootstrap (rukou's own,
// from `rukou bootstrap`, without its xDS source) and counts the
// instructions per request under callgrind, as
// BenchmarkDataPlaneInstructions does, for the whole configuration and for
// copies of it with one piece taken out. Each piece reports:
//
//   - instr/req: what the copy without the piece spends per request;
//   - piece-instr/req: what the piece costs, the whole's count less the
//     copy's (the pieces add up to about the whole's distance from the
//     minimal Envoy: piece=all-but-the-route takes every piece out);
//   - ratio: the minimal Envoy's count divided by the copy's.
//
// The static bootstrap holds what rukou sends for that Ingress, so its
// whole configuration counts within a few hundred instructions of
// BenchmarkDataPlaneInstructions' plain case.
//
//	go test -run '^$' -bench 'DataPlaneBudget' -benchtime 1x -timeout 30m ./test/bench/
func BenchmarkDataPlaneBudget(b *testing.B) {
	cg, backendPort, staticPer := countStatic(b)
	whole := plainBootstrap(b)
	count := func(b *testing.B, boot map[string]any) float64 {
		b.Helper()
		port := harness.FreePort(b)
		under, out := cg.under(b)
		config := bootstrapWithPorts(b, boot, harness.FreePort(b), port, backendPort)
		envoy := startEnvoyWith(b, "bootstrap.json", config, port, "plain.bench", under...)
		defer envoy.Stop(10 * time.Second)
		return cg.perRequest(b, envoy.PID(), out, port, "plain.bench")
	}
	var wholePer float64
	b.Run("piece=none", func(b *testing.B) {
		wholePer = count(b, whole)
		b.ReportMetric(wholePer, "instr/req")
		b.ReportMetric(staticPer, "static-instr/req")
		b.ReportMetric(staticPer/wholePer, "ratio")
	})
	without := func(name string, cut func(b *testing.B, p budgetPart)) {
		b.Run("piece="+name, func(b *testing.B) {
			if wholePer == 0 {
				b.Fatal("the whole configuration was not counted (run piece=none too)")
			}
			boot := deepCopyJSON(b, whole)
			cut(b, budgetParts(b, boot))
			per := count(b, boot)
			b.ReportMetric(per, "instr/req")
			b.ReportMetric(wholePer-per, "piece-instr/req")
			b.ReportMetric(staticPer/per, "ratio")
		})
	}
	for _, p := range budgetPieces {
		without(p.name, p.cut)
	}
	without("all-but-the-route", func(b *testing.B, parts budgetPart) {
		for _, p := range budgetPieces {
			p.cut(b, parts)
		}
	})
}

// budgetPart is what the pieces of BenchmarkDataPlaneBudget are cut from:
// the bootstrap, its HTTP listener, that listener's connection manager,
// route table and route, and the cluster.
type budgetPart struct {
	boot, listener, hcm, routes, route, cluster map[string]any
}

// budgetPieces are the pieces of rukou's configuration for a plain route
// that BenchmarkDataPlaneBudget takes out one at a time.
var budgetPieces = []struct {
	name string
	cut  func(b *testing.B, p budgetPart)
}{
	{"access-log", func(b *testing.B, p budgetPart) { delete(p.hcm, "access_log") }},
	{"forwarded-headers", func(b *testing.B, p budgetPart) {
		delete(p.routes, "request_headers_to_add")
		delete(p.routes, "request_headers_to_remove")
	}},
	{"replay-filter", func(b *testing.B, p budgetPart) { dropFilters(b, p.hcm, "rukou.filters.http.replay") }},
	{"retry-policy", func(b *testing.B, p budgetPart) { delete(jsonObject(b, p.route, "route"), "retry_policy") }},
	{"remote-address", func(b *testing.B, p budgetPart) {
		delete(p.hcm, "use_remote_address")
		delete(p.hcm, "skip_xff_append")
	}},
	{"path-normalisation", func(b *testing.B, p budgetPart) {
		for _, k := range []string{"normalize_path", "merge_slashes", "path_with_escaped_slashes_action"} {
			delete(p.hcm, k)
		}
	}},
	{"body-limit", func(b *testing.B, p budgetPart) { dropFilters(b, p.hcm, "envoy.filters.http.buffer") }},
	{"connection-options", func(b *testing.B, p budgetPart) {
		for _, k := range []string{"common_http_protocol_options", "http2_protocol_options", "max_request_headers_kb",
			"request_headers_timeout", "preserve_external_request_id", "server_header_transformation", "upgrade_configs"} {
			delete(p.hcm, k)
		}
	}},
	{"disabled-filters", func(b *testing.B, p budgetPart) {
		filters := jsonList(b, p.hcm, "http_filters")
		p.hcm["http_filters"] = slices.DeleteFunc(filters, func(f any) bool { return f.(map[string]any)["disabled"] == true })
	}},
	{"response-headers", func(b *testing.B, p budgetPart) {
		delete(p.routes, "response_headers_to_add")
		delete(p.routes, "response_headers_to_remove")
	}},
	{"scheme-filter-state", func(b *testing.B, p budgetPart) {
		chain := jsonList(b, p.listener, "filter_chains")[0].(map[string]any)
		chain["filters"] = slices.DeleteFunc(jsonList(b, chain, "filters"), func(f any) bool {
			return f.(map[string]any)["name"] == "envoy.filters.network.set_filter_state"
		})
	}},
	{"local-replies", func(b *testing.B, p budgetPart) { delete(p.hcm, "local_reply_config") }},
	{"cluster-options", func(b *testing.B, p budgetPart) { delete(p.cluster, "typed_extension_protocol_options") }},
}

// plainBootstrap is a static Envoy bootstrap holding what rukou sends
// Envoy for the plain Ingress of BenchmarkDataPlaneInstructions, its
// ports as placeholders for bootstrapWithPorts.
func plainBootstrap(b *testing.B) map[string]any {
	b.Helper()
	dir := b.TempDir()
	manifest := harness.ServiceYAML("echo", 1) + "---\n" + harness.IngressYAML("plain", "plain.bench", "echo", nil)
	if err := os.WriteFile(filepath.Join(dir, "plain.yaml"), []byte(manifest), 0o644); err != nil {
		b.Fatal(err)
	}
	rukou := harness.Tool(b, "rukou")
	translated, err := exec.Command(rukou, "translate", "-f", filepath.Join(dir, "plain.yaml"), "-o", "json").Output()
	if err != nil {
		b.Fatalf("rukou translate: %v", err)
	}
	boot, err := exec.Command(rukou, "bootstrap", "-o", "-").Output()
	if err != nil {
		b.Fatalf("rukou bootstrap: %v", err)
	}
	var res struct {
		Listeners, Routes, Clusters []map[string]any
	}
	if err := json.Unmarshal(translated, &res); err != nil {
		b.Fatal(err)
	}
	var out map[string]any
	if err := yaml.Unmarshal(boot, &out); err != nil {
		b.Fatalf("rukou bootstrap: %v", err)
	}
	delete(out, "dynamic_resources")
	jsonObject(b, jsonObject(b, out, "admin"), "address")["socket_address"] = map[string]any{"address": "127.0.0.1", "port_value": "ADMIN_PORT"}
	var listener map[string]any
	for _, l := range res.Listeners {
		if l["name"] == "http" {
			listener = l
		}
	}
	if listener == nil || len(res.Routes) != 1 || len(res.Clusters) != 1 {
		b.Fatalf("rukou translate gave %d listeners, %d route tables and %d clusters, want the http listener, one table and one cluster", len(res.Listeners), len(res.Routes), len(res.Clusters))
	}
	listener["address"] = map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": "LISTENER_PORT"}}
	hcm := budgetParts(b, map[string]any{"static_resources": map[string]any{"listeners": []any{listener}}}).hcm
	delete(hcm, "rds")
	hcm["route_config"] = res.Routes[0]
	cluster := res.Clusters[0]
	cluster["type"] = "STATIC"
	delete(cluster, "eds_cluster_config")
	cluster["load_assignment"] = map[string]any{"cluster_name": cluster["name"], "endpoints": []any{map[string]any{
		"lb_endpoints": []any{map[string]any{"endpoint": map[string]any{"address": map[string]any{
			"socket_address": map[string]any{"address": "127.0.0.1", "port_value": "BACKEND_PORT"}}}}},
	}}}
	sr := jsonObject(b, out, "static_resources")
	clusters := slices.DeleteFunc(jsonList(b, sr, "clusters"), func(c any) bool { return c.(map[string]any)["name"] == "rukou-xds" })
	sr["clusters"] = append(clusters, cluster)
	sr["listeners"] = []any{listener}
	return out
}

// budgetParts finds the parts of a bootstrap that plainBootstrap made.
func budgetParts(b *testing.B, boot map[string]any) budgetPart {
	b.Helper()
	p := budgetPart{boot: boot}
	sr := jsonObject(b, boot, "static_resources")
	p.listener = jsonList(b, sr, "listeners")[0].(map[string]any)
	for _, f := range jsonList(b, jsonList(b, p.listener, "filter_chains")[0].(map[string]any), "filters") {
		if f := f.(map[string]any); f["name"] == "envoy.filters.network.http_connection_manager" {
			p.hcm = jsonObject(b, f, "typed_config")
		}
	}
	if p.hcm == nil {
		b.Fatal("the http listener has no HTTP connection manager")
	}
	if rc, ok := p.hcm["route_config"].(map[string]any); ok {
		p.routes = rc
		vh := jsonList(b, rc, "virtual_hosts")[0].(map[string]any)
		p.route = jsonList(b, vh, "routes")[0].(map[string]any)
	}
	if clusters, ok := sr["clusters"].([]any); ok && len(clusters) > 0 {
		p.cluster = clusters[len(clusters)-1].(map[string]any)
	}
	return p
}

// bootstrapWithPorts is boot as JSON with its placeholder ports filled in.
func bootstrapWithPorts(b *testing.B, boot map[string]any, admin, listener, backend int) []byte {
	b.Helper()
	data, err := json.Marshal(boot)
	if err != nil {
		b.Fatal(err)
	}
	for placeholder, port := range map[string]int{"ADMIN_PORT": admin, "LISTENER_PORT": listener, "BACKEND_PORT": backend} {
		data = []byte(strings.ReplaceAll(string(data), strconv.Quote(placeholder), strconv.Itoa(port)))
	}
	return data
}

// dropFilters takes the named HTTP filters out of a connection manager.
func dropFilters(b *testing.B, hcm map[string]any, name string) {
	b.Helper()
	before := jsonList(b, hcm, "http_filters")
	after := slices.DeleteFunc(slices.Clone(before), func(f any) bool { return f.(map[string]any)["name"] == name })
	if len(after) == len(before) {
		b.Fatalf("the connection manager has no filter %s", name)
	}
	hcm["http_filters"] = after
}

// jsonObject is m[key] as an object, failing when it is not one.
func jsonObject(b *testing.B, m map[string]any, key string) map[string]any {
	b.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		b.Fatalf("%s is not an object in %v", key, keysOf(m))
	}
	return v
}

// jsonList is m[key] as a list, failing when it is not one.
func jsonList(b *testing.B, m map[string]any, key string) []any {
	b.Helper()
	v, ok := m[key].([]any)
	if !ok {
		b.Fatalf("%s is not a list in %v", key, keysOf(m))
	}
	return v
}

func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// deepCopyJSON copies a JSON value through its encoding.
func deepCopyJSON(b *testing.B, v map[string]any) map[string]any {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		b.Fatal(err)
	}
	return out
}
