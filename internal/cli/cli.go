// Package cli holds the worker binary's tools for HR integrators: publish
// events from a file, follow results, list an organization's operators and
// replay failed events. Each returns an error that main prints as one line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
)

// Env is what a command runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Environ replaces the process environment when not nil.
	Environ map[string]string
	// Terminal says stderr is a terminal: for the progress bar, and for
	// the colours of the demo's log lines.
	Terminal bool
}

// connect reads the configuration and opens a NATS connection from
// NATS_URL and NATS_CREDS.
func connect(env Env) (config.Config, *nats.Conn, jetstream.JetStream, error) {
	return connectNeeding(env, config.Needs{NATS: true})
}

// connectNeeding is connect for a command that needs more than NATS.
func connectNeeding(env Env, needs config.Needs) (config.Config, *nats.Conn, jetstream.JetStream, error) {
	cfg, err := loadConfig(env, needs)
	if err != nil {
		return cfg, nil, nil, err
	}
	nc, err := natsconn.Connect(cfg, nats.Name("chathub-operator-worker-cli"), nats.Timeout(10*time.Second))
	if err != nil {
		return cfg, nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return cfg, nil, nil, err
	}
	return cfg, nc, js, nil
}

// loadConfig reads the configuration a command needs, after a warning on
// stderr for each variable that looks meant for the worker but is not one
// it reads (a misspelling would otherwise be silently ignored).
func loadConfig(env Env, needs config.Needs) (config.Config, error) {
	for _, u := range config.Unknowns(env.Environ) {
		fmt.Fprintln(env.Stderr, "worker: warning:", u)
	}
	return config.Parse(env.Environ, needs)
}

// ErrNotCreated is a stream or bucket that the worker creates at its first
// start and that does not exist yet: the usual state before any worker
// has run, which a tool says in one line.
var ErrNotCreated = errors.New("does not exist yet")

// notCreated says that what (a stream, a bucket) does not exist yet.
func notCreated(what string) error {
	return fmt.Errorf("%s %w: the worker creates it at its first start (start the worker once)", what, ErrNotCreated)
}

// openBucket opens the worker's KV bucket.
func openBucket(ctx context.Context, js jetstream.JetStream, name string) (jetstream.KeyValue, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	kv, err := js.KeyValue(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return nil, notCreated("the bucket " + name)
	case err != nil:
		return nil, fmt.Errorf("cannot open the bucket %s: %w", name, err)
	}
	return kv, nil
}

// hubClient is a ChatHub client for a command, paced at
// CHATHUB_RATE_LIMIT, that always asks ChatHub; opts come last.
func hubClient(cfg config.Config, opts ...chathub.Option) (*chathub.Client, error) {
	return chathub.NewClient(cfg.ChatHubBaseURL, string(cfg.ChatHubToken), append([]chathub.Option{
		chathub.WithRateLimit(cfg.ChatHubRateLimit), chathub.WithTimeout(cfg.ChatHubTimeout),
		chathub.WithCacheTTL(0), chathub.WithAllowInsecure(cfg.ChatHubAllowInsecure),
	}, opts...)...)
}

// withTimeout bounds one broker round trip.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 10*time.Second)
}
