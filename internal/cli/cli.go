// Package cli holds the worker binary's tools for HR integrators: publish
// events from a file, follow results, list an organization's operators and
// replay failed events. Each returns an error that main prints as one line.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// Env is what a command runs with.
type Env struct {
	Stdout, Stderr io.Writer
	// Environ replaces the process environment when not nil.
	Environ map[string]string
	// Terminal says stdout is a terminal, for the progress bar.
	Terminal bool
}

// connect reads the configuration and opens a NATS connection from
// NATS_URL and NATS_CREDS.
func connect(env Env) (config.Config, *nats.Conn, jetstream.JetStream, error) {
	cfg, err := config.Parse(env.Environ, config.Needs{NATS: true})
	if err != nil {
		return cfg, nil, nil, err
	}
	opts := []nats.Option{nats.Name("chathub-operator-worker-cli"), nats.Timeout(10 * time.Second)}
	if cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	nc, err := nats.Connect(cfg.NATSURL, opts...)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("cannot connect to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return cfg, nil, nil, err
	}
	return cfg, nc, js, nil
}

// flags returns a flag set that reports errors instead of exiting.
func flags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// withTimeout bounds one broker round trip.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 10*time.Second)
}
