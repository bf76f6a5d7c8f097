package main

import (
	"context"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
)

// runWorker runs the worker until SIGINT or SIGTERM.
func runWorker(ctx context.Context, args []string, env cli.Env) error {
	spec := cli.Spec{
		Synopsis: "run",
		Summary: "Runs the worker with the configuration in the environment (docs/configuration.md lists it) until SIGINT or\n" +
			"SIGTERM, then finishes or hands back its work and exits 0.",
		Example: "NATS_URL=nats://nats:4222 CHATHUB_BASE_URL=https://chatapi.smsbat.com CHATHUB_TOKEN_FILE=/run/secrets/token worker",
	}
	if err := parseNoArgs(spec, args, env); err != nil {
		return err
	}
	cfg, err := config.Parse(nil, config.Worker)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stderr, false, false)
	warnUnknown(log)
	app.LimitMemory(log)
	w, err := app.New(ctx, cfg, log)
	switch {
	case err != nil && ctx.Err() != nil:
		// Stopped (SIGTERM) while it waited for NATS: a stop like any.
		log.Info().Err(err).Msg("stopped before it could start")
		return nil
	case err != nil:
		return err
	}
	return w.Run(ctx)
}

// runDemo runs the demo: embedded NATS, the simulator, the examples.
func runDemo(ctx context.Context, args []string, env cli.Env) error {
	spec := cli.Spec{
		Synopsis: "demo",
		Summary: "Starts an embedded NATS server and the ChatHub simulator, runs the worker against them, publishes\n" +
			"examples/events.jsonl, a scheduled change and a mass offboarding, and prints every result. Needs nothing installed.\n" +
			"Its log lines are coloured on a terminal, unless NO_COLOR is set.",
		Example: "go run ./cmd/worker demo",
	}
	if err := parseNoArgs(spec, args, env); err != nil {
		return err
	}
	cfg, err := config.Parse(nil, config.Demo)
	if err != nil {
		return err
	}
	if os.Getenv("LOG_LEVEL") == "" {
		cfg.LogLevel = "warn"
	}
	log := newLogger(cfg, env.Stderr, true, colour(env))
	warnUnknown(log)
	return app.Demo(ctx, cfg, env.Stdout, log)
}

// parseNoArgs parses the flags of a command that takes no argument.
func parseNoArgs(spec cli.Spec, args []string, env cli.Env) error {
	rest, err := spec.Parse(spec.Flags(env), args)
	if err != nil {
		return err
	}
	return cli.Args(rest)
}

// warnUnknown logs each variable that looks meant for the worker but is
// not one it reads (a misspelling is otherwise silently ignored).
func warnUnknown(log zerolog.Logger) {
	for _, u := range config.Unknowns(nil) {
		e := log.Warn().Str("variable", u.Name)
		if u.Suggestion != "" {
			e = e.Str("did_you_mean", u.Suggestion)
		}
		e.Msg("unknown variable ignored")
	}
}

// colour says whether readable log lines may carry ANSI colours: only on
// a terminal (they go to stderr), and never when NO_COLOR is set
// (https://no-color.org).
func colour(env cli.Env) bool {
	return env.Terminal && os.Getenv("NO_COLOR") == ""
}

// newLogger logs JSON, or readable lines in the demo, coloured or not.
func newLogger(cfg config.Config, w io.Writer, console, colour bool) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !colour}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "chathub-operator-worker").Logger()
}
