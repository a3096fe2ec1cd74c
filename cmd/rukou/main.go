// Command rukou is an Ingress controller whose data plane is Envoy.
//
//	rukou serve       run the control plane
//	rukou bootstrap   write the Envoy bootstrap that connects to it
//	rukou translate   print the Envoy resources for a set of manifests
//	rukou certgen     create the Secrets for mTLS between Envoy and rukou
//	rukou drain       take Envoy out of service (its preStop hook)
//	rukou limiter     count requests for limit-connections and ask auth services for auth-url, beside Envoy
//	rukou migrate     report what moving from ingress-nginx to rukou changes
//	rukou version     print the version
//
// The command line follows kubectl's conventions (spf13/cobra and pflag):
// flags go anywhere, before or after arguments, as --flag=value or
// --flag value, and every command answers -h and --help.
//
// It parses flags and wires the other packages together, holding no translation or
// xDS logic of its own; it may import any package of rukou.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Defaults from DESIGN.md's command-line contract that translation does not
// own (those come from translator.DefaultOptions), defined once.
const (
	defaultXDSAddress = ":18000"
	defaultOpsAddress = ":18001"
	// defaultDebugAddress serves /debug/ and pprof on loopback only: they
	// show the configuration and profiles, and reach them through
	// `kubectl port-forward`.
	defaultDebugAddress = "127.0.0.1:18002"
	// defaultBootstrapXDS is serve's xDS address, as an Envoy on the same
	// host dials it.
	defaultBootstrapXDS = "127.0.0.1" + defaultXDSAddress
	// defaultAdminAddress is Envoy's admin API: bootstrap binds it there,
	// drain asks it there.
	defaultAdminAddress = "127.0.0.1:9901"
	// defaultLimiterAddress is where `rukou limiter` listens beside Envoy:
	// on loopback only, since only the Envoy of its own pod asks it.
	defaultLimiterAddress = "127.0.0.1:9903"
	defaultNodeID         = "rukou-envoy"
)

// errRejected makes the process exit with status 1 without printing more:
// the command has already said what was rejected.
var errRejected = errors.New("rejected")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit status: 0 on
// success and for help, 1 when the command failed or rejected input, 2 when
// the command line itself is wrong; rukou migrate has statuses of its own
// (an exitError: docs/migrating.md).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	var usage *usageError
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if exit.err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), exit.err)
		}
		return exit.code
	case errors.Is(err, errRejected):
		return 1
	case errors.Is(err, errUsageShown):
		return 2
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %v\nSee '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	return 1
}

// newRootCmd returns the rukou command with every subcommand.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "rukou",
		Short: "rukou is a Kubernetes Ingress controller whose data plane is Envoy",
		// Unknown commands are usage errors (exit 2); cobra's own check
		// returns an untyped error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q", args[0])
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += fmt.Sprintf(" (did you mean %q?)", s[0])
				}
				return &usageError{errors.New(msg)}
			}
			return nil
		},
		// Without a command: the usage, on stderr, and exit 2.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Usage()
			return errUsageShown
		},
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newServeCmd(),
		newBootstrapCmd(),
		newTranslateCmd(),
		newCertgenCmd(),
		newDrainCmd(),
		newLimiterCmd(),
		newMigrateCmd(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  noArgs,
			Run: func(cmd *cobra.Command, _ []string) {
				fmt.Fprintf(cmd.OutOrStdout(), "rukou %s\n", version)
			},
		},
	)
	return root
}

// newLogger returns the process's logger, writing to w at level in format
// (text or json). client-go logs through klog (leader election, reflectors,
// the event broadcaster): klog is pointed at the same handler, so that
// --log-format json gives one JSON stream. klog's own verbosity stays 0, so
// only client-go's V(0) lines, warnings and errors come through.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	log := slog.New(h)
	klog.SetSlogLogger(log)
	return log, nil
}
