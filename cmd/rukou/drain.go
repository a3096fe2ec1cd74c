package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rukou/rukou/envoy"
)

// newDrainCmd is the Envoy container's preStop hook: it takes Envoy out of
// service and waits for its connections to close, within --timeout, which
// must be shorter than the pod's terminationGracePeriodSeconds.
func newDrainCmd() *cobra.Command {
	var admin string
	var timeout time.Duration
	var o envoy.DrainOptions
	cmd := &cobra.Command{
		Use:   "drain",
		Short: "Take Envoy out of service and wait for its connections to close (a preStop hook)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			o.Progress = cmd.OutOrStdout()
			return (&envoy.Admin{Address: admin}).Drain(ctx, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&admin, "admin-address", defaultAdminAddress, "address of Envoy's admin API")
	fs.DurationVar(&timeout, "timeout", 50*time.Second, "give up waiting for connections to close after this long")
	fs.DurationVar(&o.MinWait, "min-wait", 5*time.Second, "keep serving at least this long after failing health checks, while the pod leaves the Service's endpoints")
	fs.DurationVar(&o.Interval, "interval", time.Second, "time between two looks at the open connections")
	return cmd
}
