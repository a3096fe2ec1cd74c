package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rukou/rukou/envoy"
)

// runDrain is the Envoy container's preStop hook: it takes Envoy out of
// service and waits for its connections to close, within --timeout, which
// must be shorter than the pod's terminationGracePeriodSeconds.
func runDrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("drain", stderr)
	var admin string
	var timeout time.Duration
	var o envoy.DrainOptions
	fs.StringVar(&admin, "admin-address", defaultAdminAddress, "address of Envoy's admin API")
	fs.DurationVar(&timeout, "timeout", 50*time.Second, "give up waiting for connections to close after this long")
	fs.DurationVar(&o.MinWait, "min-wait", 5*time.Second, "keep serving at least this long after failing health checks, while the pod leaves the Service's endpoints")
	fs.DurationVar(&o.Interval, "interval", time.Second, "time between two looks at the open connections")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o.Progress = stdout
	return (&envoy.Admin{Address: admin}).Drain(ctx, o)
}
