package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// kubeconfigFlag registers --kubeconfig, which finds the cluster as
// restConfig says.
func kubeconfigFlag(fs *pflag.FlagSet, path *string) {
	fs.StringVar(path, "kubeconfig", "", "kubeconfig file (default: in-cluster config, else $KUBECONFIG)")
}

// logLevelFlag registers --log-level.
func logLevelFlag(fs *pflag.FlagSet, level *string) {
	fs.StringVar(level, "log-level", "info", "debug, info, warn or error")
}

// usageError is a command line that cannot be run as written: an unknown
// command or flag, a flag value of the wrong form, missing or extra
// arguments. rukou exits 2 on it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf formats a usageError.
func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// errUsageShown is a usage error whose usage text has already been printed.
var errUsageShown = errors.New("usage shown")

// noArgs is cobra.NoArgs for a command without subcommands: an argument is
// a usage error, not an unknown command.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected arguments %q: this command takes flags only", args)
	}
	return nil
}

// choice is a flag value that must be one of a few words; anything else is
// refused while the flags are parsed.
type choice struct {
	value   string
	allowed []string
}

func newChoice(value string, allowed ...string) *choice {
	return &choice{value: value, allowed: allowed}
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return "string" }

func (c *choice) Set(s string) error {
	if !slices.Contains(c.allowed, s) {
		return fmt.Errorf("want %s", strings.Join(c.allowed, " or "))
	}
	c.value = s
	return nil
}

// portValue is a flag value that must be a TCP port number, 1 to 65535.
type portValue struct{ p *uint32 }

func (v portValue) String() string { return strconv.FormatUint(uint64(*v.p), 10) }
func (v portValue) Type() string   { return "port" }

func (v portValue) Set(s string) error {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("%q is not a port number", s)
	}
	*v.p = uint32(p)
	return nil
}
