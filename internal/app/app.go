// Package app wires the worker together: NATS, the ChatHub client, the
// handlers and the HTTP endpoints. cmd/worker only parses the command line
// and calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/buildinfo"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
	"github.com/chathub-operator-worker/worker/internal/metrics"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
	"github.com/chathub-operator-worker/worker/internal/ratelimit"
	"github.com/chathub-operator-worker/worker/internal/tracing"
)

// Worker is a running worker: the intake loop and the reconcile queue.
type Worker struct {
	cfg    config.Config
	log    zerolog.Logger
	nc     *nats.Conn
	intake *broker.Intake
	queue  *broker.Queue
	http   *http.Server
	ln     net.Listener
	// closed is closed once the NATS connection is.
	closed  chan struct{}
	metrics *metrics.Metrics
	store   *kvstore.Store
	kv      jetstream.KeyValue
	js      jetstream.JetStream
	wakes   jetstream.Consumer
	// intakeCons is the intake's consumer, whose ack floor bounds purges.
	intakeCons jetstream.Consumer
	hub        *chathub.Client
	// owner names this replica in leases and the drift check's turn.
	owner string
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
	opts := []nats.Option{
		nats.Name("chathub-operator-worker"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn().Err(err).Msg("disconnected from NATS")
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(w.closed) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("reconnected to NATS") }),
	}
	nc, err := natsconn.ConnectPatiently(ctx, cfg, log, opts...)
	if err != nil {
		return nil, err
	}
	w.nc = nc
	if err := broker.CheckServer(nc.ConnectedServerVersion()); err != nil {
		w.Close()
		return nil, err
	}
	// An ack that never comes (a server lost mid-publish) is an error
	// after a while, not a wait forever.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot use JetStream: %w", err)
	}
	names := broker.Names{EventsStream: cfg.EventsStream, ResultsStream: cfg.ResultsStream, SchedulesStream: cfg.SchedulesStream,
		AlertsStream: cfg.AlertsStream, Consumer: cfg.ConsumerName, Bucket: cfg.KVBucket}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	objs, err := broker.Setup(setupCtx, js, names, cfg.JSReplicas, cfg.AckWait,
		broker.Retention{Events: cfg.EventsMaxAge.Duration(), Results: cfg.ResultsMaxAge.Duration()}, log)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.metrics = metrics.New()
	hub, err := w.chatHub(objs.KV)
	if err != nil {
		w.Close()
		return nil, err
	}
	validator, err := hrevent.NewValidator()
	if err != nil {
		w.Close()
		return nil, err
	}
	host, _ := os.Hostname()
	w.owner, w.kv, w.hub = fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()), objs.KV, hub
	w.js, w.wakes, w.intakeCons = js, objs.Wakes, objs.Intake
	hcfg := handlers.Config{
		Owner:        w.owner,
		BatchMaxSize: cfg.BatchMaxSize,
		BatchMaxWait: cfg.BatchMaxWait,
		LeaseTTL:     cfg.LeaseTTL,
		MaxAttempts:  cfg.RetryMaxAttempts,
		RetryBase:    cfg.RetryBaseDelay,
		RetryMax:     cfg.RetryMaxDelay,
		RateLimit:    cfg.ChatHubRateLimit,
		Guard:        cfg.Guard,
		// A burst is counted whole once no new deactivation began to
		// wait for five batch windows.
		GuardSettle: 5 * cfg.BatchMaxWait,
		Metrics:     w.metrics,
		Tracer:      w.tracer.Tracer(tracing.Name),
	}
	w.store = kvstore.New(js, objs.KV)
	intake, reconciler := handlers.New(hcfg, handlers.Ports{
		Store: w.store, ChatHub: hub, Results: broker.NewResults(js, w.metrics), Wakes: broker.NewSchedules(js, cfg.SchedulesStream),
		Events: broker.NewEvents(js, cfg.EventsStream), Guards: w.store, Alerts: broker.NewAlerts(js),
	}, validator, log)
	// While ChatHub refuses the token, a renewed token file (a Secret
	// updated in place) is picked up without a restart.
	probe := func(ctx context.Context, org int) error {
		if cfg.ChatHubTokenFile != "" {
			if raw, err := os.ReadFile(cfg.ChatHubTokenFile); err == nil {
				if err := hub.SetToken(string(raw)); err != nil {
					return fmt.Errorf("CHATHUB_TOKEN_FILE: %w", err)
				}
			}
		}
		return hub.CheckToken(ctx, org)
	}
	w.intake = broker.NewIntake(objs.Intake, intake, broker.IntakeOptions{
		BatchMaxEvents: min(10*cfg.BatchMaxSize, 1000),
		BatchMaxWait:   cfg.BatchMaxWait,
		Metrics:        w.metrics,
	}, log)
	w.queue = broker.NewQueue(objs.Changes, objs.Wakes, objs.Intake, reconciler, probe, broker.QueueOptions{
		RoundMax:      min(10*cfg.BatchMaxSize, 1000),
		Settle:        cfg.BatchMaxWait,
		ShutdownGrace: cfg.ShutdownGrace,
		IntakeInHand:  w.intake.InHand,
		Metrics:       w.metrics,
	}, log)

	w.ln, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("HTTP_ADDR: cannot listen on %s: %w", cfg.HTTPAddr, err)
	}
	w.http = &http.Server{Handler: w.routes(), ReadHeaderTimeout: 5 * time.Second}
	return w, nil
}

// Addr is where the HTTP endpoints listen.
func (w *Worker) Addr() string { return w.ln.Addr().String() }

// Run serves until ctx is done, then shuts down in order: stop taking
// events, finish or hand back the batch in flight, flush, close.
func (w *Worker) Run(ctx context.Context) error {
	go func() {
		if err := w.http.Serve(w.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error().Err(err).Msg("HTTP server")
		}
	}()
	w.log.Info().Str("version", buildinfo.Version).Str("http", w.Addr()).Str("nats", w.nc.ConnectedUrlRedacted()).
		Float64("chathub_rate_limit", w.cfg.ChatHubRateLimit).Int("batch_max_size", w.cfg.BatchMaxSize).Msg("worker started")
	var wg sync.WaitGroup
	var intakeErr error
	wg.Go(func() { intakeErr = w.intake.Run(ctx) })
	wg.Go(func() { w.intake.WatchBacklog(ctx) })
	wg.Go(func() { w.watchState(ctx) })
	wg.Go(func() { w.checkDrift(ctx, w.kv, w.hub) })
	wg.Go(func() { w.purgeEvents(ctx) })
	err := w.queue.Run(ctx)
	wg.Wait()
	w.Close()
	w.log.Info().Msg("worker stopped")
	return errors.Join(err, intakeErr)
}

// chatHub builds the ChatHub client with the deployment-wide rate limit,
// kept in the bucket every replica shares.
func (w *Worker) chatHub(kv jetstream.KeyValue) (*chathub.Client, error) {
	cfg := w.cfg
	limiter := chathub.Limiter(chathub.NewPacer(cfg.ChatHubRateLimit, cfg.ChatHubRateMargin))
	if cfg.ChatHubRateLimit > 0 && cfg.ChatHubRateScope == "deployment" {
		shared, err := ratelimit.NewShared(kv, cfg.ChatHubRateLimit, cfg.ChatHubRateMargin)
		if err != nil {
			return nil, fmt.Errorf("CHATHUB_RATE_LIMIT: %w", err)
		}
		limiter = shared
	}
	return chathub.NewClient(cfg.ChatHubBaseURL, string(cfg.ChatHubToken),
		chathub.WithLimiter(limiter),
		chathub.WithCallObserver(w.metrics.Call),
		chathub.WithWaitObserver(w.metrics.LimiterWait),
		chathub.WithTimeout(cfg.ChatHubTimeout),
		chathub.WithUserAgent("chathub-operator-worker/"+buildinfo.Version),
		chathub.WithTracer(w.tracer.Tracer(tracing.Name)))
}

// Close releases the connection and the HTTP server.
func (w *Worker) Close() {
	if w.http != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = w.http.Shutdown(shutdownCtx)
		cancel()
	} else if w.ln != nil {
		w.ln.Close()
	}
	if w.nc != nil {
		// Drain flushes pending publishes and acks before closing.
		if err := w.nc.Drain(); err != nil {
			w.nc.Close()
		}
		select {
		case <-w.closed:
		case <-time.After(10 * time.Second):
			w.nc.Close()
		}
	}
	if w.stopTracing != nil {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := w.stopTracing(flushCtx); err != nil {
			w.log.Warn().Err(err).Msg("cannot flush the last spans")
		}
		cancel()
		w.stopTracing = nil
	}
}

func (w *Worker) routes() http.Handler {
	mux := http.NewServeMux()
	// A batch's ChatHub work ends within 3/4 of the lease, its saving and
	// results soon after; a loop silent for longer than the lease is stuck.
	stuckAfter := w.cfg.LeaseTTL + time.Minute
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		if err := errors.Join(w.intake.Alive(stuckAfter), w.queue.Alive(stuckAfter)); err != nil {
			http.Error(rw, "stuck: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, _ *http.Request) {
		if err := w.ready(); err != nil {
			http.Error(rw, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ready")
	})
	mux.Handle("GET /metrics", w.metrics.Handler())
	return mux
}

// ready says why the worker cannot do its work now, or nil.
func (w *Worker) ready() error {
	switch {
	case !w.nc.IsConnected():
		return errors.New("not connected to NATS")
	case !w.intake.Bound():
		return errors.New("not bound to the consumer")
	}
	return w.queue.Ready()
}

// Kill drops the NATS connection without draining, as a crash would: no
// ack, result or record write gets out after it. Run still has to be
// stopped. It is for tests and failure drills.
func (w *Worker) Kill() { w.nc.Close() }
