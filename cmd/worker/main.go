// Command worker consumes HR employee events from NATS JetStream and keeps
// ChatHub's operators in step with them. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
)

const usage = `usage: worker [command] [flags]

commands:
  (none), run             run the worker with the configuration in the environment (see README.md)
  demo                    run against an embedded NATS server and the ChatHub simulator, publish examples/, print results
  publish FILE            publish HR events from JSON lines or CSV (employeeId,organizationId,name,kind,time)
  results                 print and follow results: -json, -outcome failed,rejected, -employee ID, -follow=false
  operators -org N        list an organization's operators in ChatHub with counts by status; -json
  replay                  republish failed and rejected events from their results; -dry-run, -employee ID
  guard                   organizations whose deactivations the mass-offboarding guard holds; -json
  guard approve -org N    apply an organization's held deactivations
  guard reject -org N     fail them: ChatHub keeps those operators as they are
  help                    show this help

Run 'worker COMMAND -h' for a command's flags. NATS_URL (and NATS_CREDS) serve publish, results and
replay; CHATHUB_BASE_URL and CHATHUB_TOKEN (or CHATHUB_TOKEN_FILE) serve operators.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "", "run":
		cfg, err := config.Parse(nil, config.Worker)
		if err != nil {
			return err
		}
		log := newLogger(cfg, stderr, false)
		w, err := app.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		return w.Run(ctx)
	case "demo":
		cfg, err := config.Parse(nil, config.Demo)
		if err != nil {
			return err
		}
		if os.Getenv("LOG_LEVEL") == "" {
			cfg.LogLevel = "warn"
		}
		return app.Demo(ctx, cfg, stdout, newLogger(cfg, stderr, true))
	case "publish", "results", "operators", "replay", "guard":
		env := cli.Env{Stdout: stdout, Stderr: stderr, Terminal: term.IsTerminal(int(os.Stdout.Fd()))}
		return map[string]func(context.Context, []string, cli.Env) error{
			"publish": cli.Publish, "results": cli.Results, "operators": cli.Operators, "replay": cli.Replay, "guard": cli.Guard,
		}[cmd](ctx, args[1:], env)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; run 'worker help'", cmd)
}

// newLogger logs JSON, or readable lines in the demo.
func newLogger(cfg config.Config, w io.Writer, console bool) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "chathub-operator-worker").Logger()
}
