package nginx

import (
	"fmt"
	"slices"
	"strings"
)

// Flag is one command-line flag of ingress-nginx's controller
// (/nginx-ingress-controller), with what rukou serve does about it.
type Flag struct {
	// Name is the flag's name without the leading dashes.
	Name   string
	Status Status
	// Note says, for the docs' table, what differs or what to use instead.
	Note string
}

// LookupFlag returns the entry of an ingress-nginx controller flag.
func LookupFlag(name string) (Flag, bool) {
	return lookupSorted(Flags, name, func(f Flag) string { return f.Name })
}

// FlagTable renders Flags as docs/flags.md's table of every flag.
func FlagTable() string {
	return statusTable("flag", Flags, func(f Flag) (string, Status, string) { return "--" + f.Name, f.Status, f.Note })
}

// lookupSorted finds the entry called name in entries sorted by name.
func lookupSorted[T any](entries []T, name string, nameOf func(T) string) (T, bool) {
	i, found := slices.BinarySearchFunc(entries, name, func(e T, name string) int { return strings.Compare(nameOf(e), name) })
	if !found {
		var zero T
		return zero, false
	}
	return entries[i], true
}

// statusTable renders a docs table of a registry: one row per entry, its
// name as code and its status with its note.
func statusTable[T any](column string, entries []T, row func(T) (string, Status, string)) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | status |\n|---|---|\n", column)
	for _, e := range entries {
		name, status, note := row(e)
		fmt.Fprintf(&b, "| `%s` | %s |\n", name, statusText(status, note))
	}
	return b.String()
}

// Notes shared by several flags.
const (
	sameNameNote    = "ingress-nginx's name and meaning"
	metricsNote     = "rukou's metrics are its own (docs/metrics.md); this setting has no counterpart yet"
	nginxOnlyNote   = "a port or setting of nginx's own machinery, which Envoy does not have"
	webhookNote     = "rukou has no admission webhook; run `rukou translate` or `rukou migrate` on manifests before applying them"
	healthNote      = "rukou serves `/healthz` and `/readyz` on `--ops-address`; Envoy's readiness is port 9902"
	profilerNote    = "pprof is on `--debug-address`, loopback only by default"
	leaderNote      = "rukou elects a leader with `--leader-elect` (Lease `rukou-leader`, `--leader-elect-namespace`)"
	annotationsNote = "rukou checks every annotation value itself and never splices text into configuration"
	streamNote      = "ingress-nginx's name and format; docs/tcp-udp.md says what differs (a port without ready endpoints, UDP sessions, ports 8080 and 8443)"
)

// Flags lists every flag of ingress-nginx's controller (its
// pkg/flags/flags.go, plus klog's -v), sorted by name. rukou serve's own
// flags are in docs/install.md; this table says, for a user who copies
// ingress-nginx's arguments, what each becomes.
var Flags = []Flag{
	{Name: "annotations-prefix", Status: NotYet, Note: "rukou reads `nginx.ingress.kubernetes.io/` only"},
	{Name: "apiserver-host", Status: Differs, Note: "give a kubeconfig (`--kubeconfig`) or run in the cluster"},
	{Name: "bucket-factor", Status: NotYet, Note: metricsNote},
	{Name: "certificate-authority", Status: Differs, Note: "give a kubeconfig (`--kubeconfig`) or run in the cluster"},
	{Name: "configmap", Status: Supported, Note: sameNameNote + " (docs/configmap.md)"},
	{Name: "controller-class", Status: Differs, Note: "rukou's `--controller-name` (default `rukou.io/ingress-controller`)"},
	{Name: "deep-inspect", Status: Refused, Note: annotationsNote},
	{Name: "default-backend-service", Status: Supported, Note: sameNameNote + " (docs/ingress.md#default-backends)"},
	{Name: "default-server-port", Status: Refused, Note: nginxOnlyNote},
	{Name: "default-ssl-certificate", Status: Supported, Note: sameNameNote + "; without it rukou generates a certificate with ingress-nginx's subject (docs/edge.md#tls-and-the-default-certificate)"},
	{Name: "disable-catch-all", Status: NotYet},
	{Name: "disable-full-test", Status: NotYet, Note: webhookNote},
	{Name: "disable-leader-election", Status: Differs, Note: leaderNote + "; without it every replica writes status"},
	{Name: "disable-svc-external-name", Status: Supported, Note: sameNameNote + ": backends on ExternalName Services answer 503, reported"},
	{Name: "disable-sync-events", Status: NotYet},
	{Name: "dynamic-configuration-retries", Status: Refused, Note: nginxOnlyNote},
	{Name: "election-id", Status: Differs, Note: leaderNote},
	{Name: "election-ttl", Status: Differs, Note: "rukou's `--leader-elect-lease-duration`"},
	{Name: "enable-annotation-validation", Status: Refused, Note: annotationsNote},
	{Name: "enable-metrics", Status: Differs, Note: "rukou always serves `/metrics` on `--ops-address`, with its own names (docs/metrics.md)"},
	{Name: "enable-ssl-chain-completion", Status: NotYet},
	{Name: "enable-ssl-passthrough", Status: Supported, Note: "ingress-nginx's name and meaning: the TLS connections of hosts with `ssl-passthrough` reach their backend unopened, chosen by SNI (docs/annotations.md#ssl-passthrough)"},
	{Name: "enable-topology-aware-routing", Status: NotYet},
	{Name: "exclude-socket-metrics", Status: NotYet, Note: metricsNote},
	{Name: "health-check-path", Status: Differs, Note: healthNote},
	{Name: "health-check-timeout", Status: Differs, Note: healthNote},
	{Name: "healthz-host", Status: Differs, Note: healthNote},
	{Name: "healthz-port", Status: Differs, Note: healthNote},
	{Name: "http-port", Status: Differs, Note: "rukou's `--envoy-http-port` (default 8080)"},
	{Name: "https-port", Status: Differs, Note: "rukou's `--envoy-https-port` (default 8443)"},
	{Name: "ingress-class", Status: Supported, Note: "the legacy `kubernetes.io/ingress.class` value, as in ingress-nginx; rukou's default is `rukou`"},
	{Name: "ingress-class-by-name", Status: NotYet},
	{Name: "internal-logger-address", Status: Refused, Note: nginxOnlyNote},
	{Name: "kubeconfig", Status: Supported},
	{Name: "length-buckets", Status: NotYet, Note: metricsNote},
	{Name: "max-buckets", Status: NotYet, Note: metricsNote},
	{Name: "maxmind-edition-ids", Status: NotYet, Note: "rukou has no GeoIP"},
	{Name: "maxmind-license-key", Status: NotYet, Note: "rukou has no GeoIP"},
	{Name: "maxmind-mirror", Status: NotYet, Note: "rukou has no GeoIP"},
	{Name: "maxmind-retries-count", Status: NotYet, Note: "rukou has no GeoIP"},
	{Name: "maxmind-retries-timeout", Status: NotYet, Note: "rukou has no GeoIP"},
	{Name: "metrics-per-host", Status: NotYet, Note: metricsNote},
	{Name: "metrics-per-undefined-host", Status: NotYet, Note: metricsNote},
	{Name: "monitor-max-batch-size", Status: NotYet, Note: metricsNote},
	{Name: "post-shutdown-grace-period", Status: Differs, Note: "Envoy drains with `rukou drain`, its preStop hook"},
	{Name: "profiler-address", Status: Differs, Note: profilerNote},
	{Name: "profiler-port", Status: Differs, Note: profilerNote},
	{Name: "profiling", Status: Differs, Note: profilerNote},
	{Name: "publish-service", Status: Supported, Note: sameNameNote},
	{Name: "publish-status-address", Status: Supported, Note: sameNameNote},
	{Name: "report-node-internal-ip-address", Status: NotYet},
	{Name: "report-status-classes", Status: NotYet, Note: metricsNote},
	{Name: "shutdown-grace-period", Status: Differs, Note: "Envoy drains with `rukou drain`, its preStop hook"},
	{Name: "size-buckets", Status: NotYet, Note: metricsNote},
	{Name: "ssl-passthrough-proxy-port", Status: Refused, Note: nginxOnlyNote},
	{Name: "status-port", Status: Refused, Note: nginxOnlyNote},
	{Name: "status-update-interval", Status: Differs, Note: "rukou writes status after every change and every 30 s"},
	{Name: "stream-port", Status: Refused, Note: nginxOnlyNote},
	{Name: "sync-period", Status: Refused, Note: "rukou's informers need no forced resync"},
	{Name: "sync-rate-limit", Status: Refused, Note: "rukou batches changes itself and never reloads a process"},
	{Name: "tcp-services-configmap", Status: Differs, Note: streamNote},
	{Name: "time-buckets", Status: NotYet, Note: metricsNote},
	{Name: "udp-services-configmap", Status: Differs, Note: streamNote},
	{Name: "update-status", Status: Differs, Note: "rukou writes status when `--publish-service` or `--publish-status-address` is set"},
	{Name: "update-status-on-shutdown", Status: NotYet},
	{Name: "v", Status: Differs, Note: "rukou's `--log-level`"},
	{Name: "validating-webhook", Status: NotYet, Note: webhookNote},
	{Name: "validating-webhook-certificate", Status: NotYet, Note: webhookNote},
	{Name: "validating-webhook-key", Status: NotYet, Note: webhookNote},
	{Name: "version", Status: Differs, Note: "`rukou version`"},
	{Name: "watch-ingress-without-class", Status: Supported, Note: sameNameNote},
	{Name: "watch-namespace", Status: Supported, Note: sameNameNote},
	{Name: "watch-namespace-selector", Status: NotYet},
}
