// Command worker consumes HR employee events from NATS JetStream and keeps
// ChatHub's operators in step with them; it also carries the tools an HR
// integrator needs. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/chathub-operator-worker/worker/internal/buildinfo"
	"github.com/chathub-operator-worker/worker/internal/cli"
)

// Log lines carry RFC 3339 timestamps with milliseconds, in UTC.
func init() {
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Terminal: term.IsTerminal(int(os.Stderr.Fd()))}
	err := run(ctx, os.Args[1:], env)
	stop()
	report(os.Stderr, err)
	os.Exit(cli.ExitCode(err))
}

// report prints an error on stderr, one line per problem (a
// configuration can have several), each with the program's name.
func report(w io.Writer, err error) {
	if err == nil || errors.Is(err, cli.ErrHelp) {
		return
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintln(w, "worker:", line)
	}
}

// command is one thing the binary does.
type command struct {
	summary string
	run     func(context.Context, []string, cli.Env) error
}

var commands = map[string]command{
	"run":         {"run the worker with the configuration in the environment (the default)", runWorker},
	"demo":        {"run against an embedded NATS server and the ChatHub simulator, publish examples/, print results", runDemo},
	"publish":     {"publish HR events from JSON lines or CSV (FILE, or - for standard input)", cli.Publish},
	"results":     {"print and follow results; filter by outcome, employee, time", cli.Results},
	"operators":   {"list an organization's operators in ChatHub with counts by status", cli.Operators},
	"replay":      {"republish failed and rejected events from their results", cli.Replay},
	"guard":       {"the mass-offboarding guard: what is held; approve or reject -org N", cli.Guard},
	"explain":     {"what the worker knows and will do about one employee", cli.Explain},
	"plan":        {"a dry run of publish FILE: what it would change in ChatHub, and what it costs", cli.Plan},
	"reconcile":   {"compare ChatHub with the employees' desired state; -apply drives it back", cli.Reconcile},
	"version":     {"print the version, commit, build date, Go and nats.go versions", version},
	"healthcheck": {"exit 0 if the worker beside it answers /healthz (-ready: /readyz): a container healthcheck", cli.Healthcheck},
	"check":       {"validate the configuration, reach NATS and ChatHub, say what exists, then exit: for CI and deploys", cli.Check},
	"help":        {"show this help, or a command's: worker help COMMAND", nil},
}

func run(ctx context.Context, args []string, env cli.Env) error {
	name := "run"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "-h", "--help", "help":
		return help(ctx, args, env)
	case "--version", "-version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok || c.run == nil {
		return seeHelp(&cli.ExitError{Code: 2, Err: fmt.Errorf("unknown command %q", name)}, "worker help")
	}
	return seeHelp(c.run(ctx, args, env), "worker "+name+" -h")
}

// help prints the general help, or one command's.
func help(ctx context.Context, args []string, env cli.Env) error {
	if len(args) == 0 || (len(args) == 1 && args[0] == "help") {
		usage(env)
		return cli.ErrHelp
	}
	if err := cli.Args(args[1:]); err != nil {
		return seeHelp(err, "worker help")
	}
	c, ok := commands[args[0]]
	if !ok {
		return seeHelp(&cli.ExitError{Code: 2, Err: fmt.Errorf("unknown command %q", args[0])}, "worker help")
	}
	return c.run(ctx, []string{"-h"}, env)
}

// seeHelp ends a usage error (exit 2) with where the help is, so that the
// one line on stderr says both what is wrong and where to look.
func seeHelp(err error, where string) error {
	if cli.ExitCode(err) != 2 {
		return err
	}
	return fmt.Errorf("%w; see '%s'", err, where)
}

func usage(env cli.Env) {
	fmt.Fprint(env.Stdout, "usage: worker [COMMAND] [flags] [arguments]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(env.Stdout, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(env.Stdout, `
Run 'worker COMMAND -h' for a command's flags and an example. Flags may come
before or after arguments, with one dash or two. Exit codes: 0 success,
1 error, 2 usage, 3 partly done or drift found.

example:
  NATS_URL=nats://localhost:4222 worker publish team.csv
`)
}

func version(_ context.Context, args []string, env cli.Env) error {
	spec := cli.Spec{Synopsis: "version", Summary: "Prints the version, commit, build date, and the Go and nats.go versions.", Example: "worker version"}
	rest, err := spec.Parse(spec.Flags(env), args)
	if err != nil {
		return err
	}
	if err := cli.Args(rest); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, buildinfo.Read())
	return nil
}
