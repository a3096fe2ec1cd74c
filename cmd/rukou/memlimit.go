package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// memoryLimitRatio is the share of the container's memory limit given to Go's
// heap as a soft limit. The rest is for what the GC does not count (stacks
// outside the heap, cgo-free runtime metadata, the page cache of the watched
// files) so that the kernel's OOM killer is not the one to enforce the limit.
const memoryLimitRatio = 0.9

// setMemoryLimit sets Go's soft memory limit from the cgroup's memory limit,
// so that a rebuild (old and new configuration both alive for a moment) makes
// the GC collect sooner instead of letting the heap reach twice the live
// heap. An operator's GOMEMLIMIT wins, and AUTOMEMLIMIT=off turns it off;
// without a cgroup limit (outside a container) there is none. Either way
// the GC percent is rukou's default unless GOGC is set (setGCPercent).
func setMemoryLimit(log *slog.Logger) {
	setGCPercent()
	// The library's own log would report "no cgroup limit" as an error,
	// which it is not outside a container: it stays quiet and we say
	// which limit holds.
	if _, err := memlimit.Set(
		memlimit.WithRatio(memoryLimitRatio),
		memlimit.WithProvider(memlimit.FromCgroup),
	); err != nil {
		log.Debug("no memory limit from the cgroup: no soft memory limit", "reason", err)
		return
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		log.Info("Go memory limit", "bytes", limit, "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"), "AUTOMEMLIMIT", os.Getenv("AUTOMEMLIMIT"))
	}
}

// defaultGCPercent is Go's GOGC for rukou when the environment sets none:
// the heap grows to 1.5 times what is live before a collection instead
// of twice. What rukou keeps is its configuration, and what it allocates
// comes in bursts (a rebuild makes a whole new one), so the peak is set by
// how far the heap may grow above the live configuration. At 10,000
// Ingresses in a cluster, 50 keeps the controller lower than 75 did at no
// measurable latency, for some more CPU per rebuild (figures in
// docs/benchmarks.md and docs/install.md).
const defaultGCPercent = 50

// setGCPercent applies defaultGCPercent unless GOGC is set.
func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
