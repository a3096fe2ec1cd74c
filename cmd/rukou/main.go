// Command rukou is an Ingress controller whose data plane is Envoy.
//
//	rukou serve       run the control plane
//	rukou bootstrap   write the Envoy bootstrap that connects to it
//	rukou translate   print the Envoy resources for a set of manifests
//	rukou certgen     create the Secrets for mTLS between Envoy and rukou
//	rukou drain       take Envoy out of service (its preStop hook)
//	rukou limiter     count requests in flight for limit-connections, beside Envoy
//	rukou version     print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Defaults from DESIGN.md's command-line contract, defined once.
const (
	defaultXDSAddress     = ":18000"
	defaultOpsAddress     = ":18001"
	defaultBootstrapXDS   = "127.0.0.1:18000"
	defaultAdminAddress   = "127.0.0.1:9901"
	defaultHTTPPort       = 8080
	defaultHTTPSPort      = 8443
	defaultIngressClass   = "rukou"
	defaultControllerName = "rukou.io/ingress-controller"
	defaultListenAddress  = "0.0.0.0"
	defaultNodeID         = "rukou-envoy"
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the control plane", runServe},
		{"bootstrap", "write an Envoy bootstrap that connects to rukou over ADS", runBootstrap},
		{"translate", "print the Envoy resources and diagnostics for manifests", runTranslate},
		{"certgen", "create the CA and the certificates for mTLS between Envoy and rukou, as Secrets, when missing or near expiry", runCertgen},
		{"drain", "take Envoy out of service and wait for its connections to close (a preStop hook)", runDrain},
		{"limiter", "count each client's requests in flight for limit-connections, beside one Envoy", runLimiter},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			fmt.Fprintf(stdout, "rukou %s\n", version)
			return nil
		}},
	}
}

// errRejected makes the process exit with status 1 without printing more:
// the command has already said what was rejected.
var errRejected = errors.New("rejected")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errRejected):
			return 1
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "rukou %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "rukou: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: rukou COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'rukou COMMAND -h' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rukou "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args; a bad flag has already been reported by the flag set.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
