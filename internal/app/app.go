// Package app wires the worker together: NATS (package broker), the
// ChatHub client and executor (package chathub), the pipeline (package
// handlers) and the HTTP endpoints. cmd/worker only parses the command
// line and calls it; the tools reuse its connections (Connect).
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/buildinfo"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/metrics"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
	"github.com/chathub-operator-worker/worker/internal/tracing"
)

// Worker is a running worker: a standby, or the active one that runs the
// pipeline.
type Worker struct {
	cfg     config.Config
	log     zerolog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	objs    broker.Objects
	store   *broker.Store
	metrics *metrics.Metrics
	hub     *chathub.Client
	exec    *chathub.Executor
	pipe    *handlers.Pipeline
	leader  *broker.Leader
	events  *broker.Consumer
	wakes   *broker.Consumer
	http    *http.Server
	ln      net.Listener
	// closed is closed once the NATS connection is.
	closed chan struct{}
	// name names this worker in the election and the drift check's turn.
	name string
	// sweep is how often the list of unfinished work is walked (0: the
	// pipeline's default).
	sweep time.Duration
	// tracer makes the spans; stopTracing flushes them at Close.
	tracer      trace.TracerProvider
	stopTracing func(context.Context) error
}

// New connects to NATS, creates what is missing there and builds the
// pieces. Close releases them if Run is not called.
func New(ctx context.Context, cfg config.Config, log zerolog.Logger, options ...Option) (*Worker, error) {
	w := &Worker{cfg: cfg, log: log, closed: make(chan struct{})}
	for _, o := range options {
		o(w)
	}
	if w.tracer == nil {
		tp, shutdown, err := tracing.Setup(ctx)
		if err != nil {
			return nil, err
		}
		w.tracer, w.stopTracing = tp, shutdown
	}
	if err := w.connect(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.build(); err != nil {
		w.Close()
		return nil, err
	}
	var err error
	if w.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		w.Close()
		return nil, fmt.Errorf("HTTP_ADDR: cannot listen on %s: %w", cfg.HTTPAddr, err)
	}
	w.http = &http.Server{Handler: w.routes(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	return w, nil
}

// connect connects to NATS (waiting for it at start) and creates or binds
// the streams, consumers and bucket, trying again while NATS is degraded.
func (w *Worker) connect(ctx context.Context) error {
	nc, err := natsconn.ConnectPatiently(ctx, w.cfg, w.log,
		nats.Name("chathub-operator-worker"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				w.log.Warn().Err(err).Msg("disconnected from NATS")
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(w.closed) }),
		// What the server refuses without closing the connection (a
		// permission the NATS operator did not grant, a slow consumer)
		// shows in the worker's log, not on bare stderr.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			e := w.log.Error().Err(err)
			if sub != nil {
				e = e.Str("subject", sub.Subject)
			}
			e.Msg("NATS reported an error")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			w.log.Info().Str("url", natsconn.RedactURL(nc.ConnectedUrl())).Msg("reconnected to NATS")
		}))
	if err != nil {
		return err
	}
	w.nc = nc
	if err := broker.CheckServer(nc.ConnectedServerVersion()); err != nil {
		return err
	}
	// An ack that never comes (a server lost mid-publish) is an error
	// after a while, not a wait forever.
	if w.js, err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithPublishAsyncTimeout(5*time.Second)); err != nil {
		return fmt.Errorf("cannot use JetStream: %w", err)
	}
	w.objs, err = setupPatiently(ctx, w.js, w.cfg, w.log)
	return err
}

// build makes the pieces: the ChatHub client and executor, the store, the
// pipeline, the election and the consumers.
func (w *Worker) build() error {
	cfg := w.cfg
	w.metrics = metrics.New()
	host, _ := os.Hostname()
	w.name = fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano())
	w.store = broker.NewStore(w.js, w.objs.KV)
	hub, err := w.chatHub()
	if err != nil {
		return err
	}
	w.hub = hub
	validator, err := hrevent.NewValidator()
	if err != nil {
		return err
	}
	w.pipe = handlers.New(handlers.Config{
		Policy:      employee.Policy{MaxAttempts: cfg.RetryMaxAttempts, Base: cfg.RetryBaseDelay, Max: cfg.RetryMaxDelay},
		Guard:       cfg.Guard,
		GuardSettle: 5 * cfg.BatchMaxWait,
		AckWait:     cfg.AckWait,
		CallTimeout: cfg.ChatHubTimeout,
		Sweep:       w.sweep,
		Metrics:     w.metrics,
		Tracer:      w.tracer.Tracer(tracing.Name),
	}, handlers.Ports{
		Store: w.store, Intents: w.store, Guards: w.store, Alerts: broker.NewAlerts(w.js),
		Results: broker.NewResults(w.js, w.metrics), Wakes: broker.NewSchedules(w.js, cfg.SchedulesStream),
		Events: broker.NewEvents(w.js, cfg.EventsStream), Probe: w.probe,
	}, validator, w.log)
	w.exec = chathub.NewExecutor(hub, w.store, chathub.ExecutorOptions{
		BatchMaxSize: cfg.BatchMaxSize, BatchMaxWait: cfg.BatchMaxWait, Busy: w.pipe.Busy,
		Intents: w.pipe.Intents(), Adopted: w.metrics.Adopted, Synchronized: w.metrics.SynchronizeBatch,
		DriftFound: func(kind string) { w.metrics.DriftFound(kind, 1) },
	}, w.log)
	w.pipe.SetChatHub(w.exec)
	w.leader = broker.NewLeader(w.nc, w.objs.KV, w.name, cfg.LeaseTTL, w.log)
	w.events = broker.NewConsumer(w.objs.Intake, w.nc, w.log)
	w.wakes = broker.NewConsumer(w.objs.Wakes, w.nc, w.log)
	return nil
}

// chatHub builds the ChatHub client with the deployment-wide rate limit,
// kept in the bucket every process of the deployment shares.
func (w *Worker) chatHub() (*chathub.Client, error) {
	cfg := w.cfg
	limiter := chathub.Limiter(chathub.NewPacer(cfg.ChatHubRateLimit, cfg.ChatHubRateMargin))
	if cfg.ChatHubRateLimit > 0 && cfg.ChatHubRateScope == "deployment" {
		shared, err := broker.NewShared(w.objs.KV, cfg.ChatHubRateLimit, cfg.ChatHubRateMargin)
		if err != nil {
			return nil, fmt.Errorf("CHATHUB_RATE_LIMIT: %w", err)
		}
		limiter = shared
	}
	return chathub.NewClient(cfg.ChatHubBaseURL, string(cfg.ChatHubToken),
		chathub.WithLimiter(limiter),
		chathub.WithAllowInsecure(cfg.ChatHubAllowInsecure),
		chathub.WithCallObserver(w.metrics.Call),
		chathub.WithWaitObserver(w.metrics.LimiterWait),
		chathub.WithTimeout(cfg.ChatHubTimeout),
		chathub.WithUserAgent("chathub-operator-worker/"+buildinfo.Version),
		chathub.WithTracer(w.tracer.Tracer(tracing.Name)))
}

// probe asks ChatHub whether it accepts the token again, about an
// organization a refused call was for. While ChatHub refuses it, a
// renewed token file (a Secret updated in place) is picked up without a
// restart.
func (w *Worker) probe(ctx context.Context, org int) error {
	if w.cfg.ChatHubTokenFile != "" {
		if raw, err := os.ReadFile(w.cfg.ChatHubTokenFile); err == nil {
			if err := w.hub.SetToken(string(raw)); err != nil {
				return fmt.Errorf("CHATHUB_TOKEN_FILE: %w", err)
			}
		}
	}
	err := w.hub.CheckToken(ctx, org)
	if errors.Is(err, chathub.ErrUnauthorized) {
		return fmt.Errorf("%w: %w", employee.ErrUnauthorized, err)
	}
	return err
}

// Addr is where the HTTP endpoints listen.
func (w *Worker) Addr() string { return w.ln.Addr().String() }

// Leads reports whether this worker is the active one.
func (w *Worker) Leads() bool { return w.leader != nil && w.leader.Leads() }

// Kill drops the NATS connection without draining, as a crash would: no
// ack, result or record write gets out after it. Run still has to be
// stopped. It is for tests and failure drills.
func (w *Worker) Kill() { w.nc.Close() }
