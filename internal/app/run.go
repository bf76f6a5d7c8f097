package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/buildinfo"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
)

// Run serves until ctx is done. It stands by, or leads when elected:
// then it takes events and calls ChatHub. On the stop signal the active
// worker stops taking events, lets its looks under way finish (for up to
// SHUTDOWN_GRACE), hands back what is left, and gives up the lead, so
// that a standby takes over at once.
func (w *Worker) Run(ctx context.Context) error {
	go func() {
		if err := w.http.Serve(w.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error().Err(err).Msg("HTTP server")
		}
	}()
	w.log.Info().Str("version", buildinfo.Version).Str("http", w.Addr()).Str("nats", natsconn.RedactURL(w.nc.ConnectedUrl())).
		Float64("chathub_rate_limit", w.cfg.ChatHubRateLimit).Int("batch_max_size", w.cfg.BatchMaxSize).Msg("worker started")
	var wg sync.WaitGroup
	wg.Go(func() { w.watchBacklog(ctx) })
	wg.Go(func() { w.watchState(ctx) })
	wg.Go(func() { w.purgeEvents(ctx) })
	w.leader.Lead(ctx, w.lead)
	wg.Wait()
	w.Close()
	w.log.Info().Msg("worker stopped")
	return nil
}

// lead is the active worker's work, from its election until stop (a
// graceful stop) or until lead is cancelled (leadership lost: everything
// stops at once).
func (w *Worker) lead(stop, lead context.Context) {
	work, stopWork := context.WithCancel(lead)
	defer stopWork()
	// After the stop signal, ChatHub work may run on for the grace.
	defer context.AfterFunc(stop, func() { time.AfterFunc(w.cfg.ShutdownGrace, stopWork) })()
	take, stopTaking := context.WithCancel(lead)
	defer stopTaking()
	defer context.AfterFunc(stop, stopTaking)()

	var wg sync.WaitGroup
	w.exec.Open()
	wg.Go(func() { w.exec.Run(work) })
	wg.Go(func() {
		_ = w.events.Run(take, w.pipe.Room, w.pipe.Roomed(), func(batch []*broker.Message, caughtUp bool) {
			w.pipe.Take(work, inbound(batch), caughtUp)
		})
	})
	wg.Go(func() {
		_ = w.wakes.Run(take, func() int { return 1000 }, nil, func(batch []*broker.Message, _ bool) {
			for _, m := range batch {
				token := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
				if id, ok := broker.EmployeeOf(token); ok {
					w.pipe.Wake(id, m, m.Delivered)
				} else {
					_ = m.Term("not a wake-up of an employee")
				}
			}
		})
	})
	wg.Go(func() { w.checkDrift(take) })
	w.pipe.Run(stop, work)
	stopTaking()
	stopWork()
	wg.Wait()
}

// inbound turns the intake's messages into the pipeline's.
func inbound(batch []*broker.Message) []handlers.Inbound {
	out := make([]handlers.Inbound, len(batch))
	for i, m := range batch {
		out[i] = handlers.Inbound{Msg: m, Body: m.Data, Seq: m.Seq, Delivered: m.Delivered}
		m.Data = nil // parsed once; a failed result reads it back
	}
	return out
}

// setupPatiently creates or binds what the worker needs in NATS, trying
// again with growing pauses while NATS cannot answer (a cluster electing
// leaders, a node down) until ctx is done; a refusal that waiting cannot
// cure stops it at once.
func setupPatiently(ctx context.Context, js jetstream.JetStream, cfg config.Config, log zerolog.Logger) (broker.Objects, error) {
	names := broker.Names{EventsStream: cfg.EventsStream, ResultsStream: cfg.ResultsStream, SchedulesStream: cfg.SchedulesStream,
		AlertsStream: cfg.AlertsStream, Consumer: cfg.ConsumerName, Bucket: cfg.KVBucket}
	ret := broker.Retention{Events: cfg.EventsMaxAge.Duration(), Results: cfg.ResultsMaxAge.Duration()}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 500*time.Millisecond, 10*time.Second, 0
	for {
		setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		objs, err := broker.Setup(setupCtx, js, names, cfg.JSReplicas, cfg.AckWait, ret, log)
		cancel()
		if err == nil || ctx.Err() != nil || !degraded(err) {
			return objs, err
		}
		wait := b.NextBackOff()
		log.Warn().Err(err).Int64("retry_in_ms", wait.Milliseconds()).Msg("NATS cannot set up the streams and bucket yet; trying again")
		select {
		case <-ctx.Done():
			return objs, err
		case <-time.After(wait):
		}
	}
}

// degraded tells trouble that waiting cures (NATS slow or electing) from
// a refusal.
func degraded(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		(errors.As(err, &apiErr) && apiErr.Code == http.StatusServiceUnavailable)
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
	// A loop silent for longer than the lease is stuck.
	stuckAfter := w.cfg.LeaseTTL + time.Minute
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		if w.Leads() {
			if err := errors.Join(w.events.Alive(stuckAfter), w.wakes.Alive(stuckAfter)); err != nil {
				http.Error(rw, "stuck: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, _ *http.Request) {
		if err := w.ready(); err != nil {
			http.Error(rw, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		role := "standby: another worker leads; this one takes over if it stops"
		if w.Leads() {
			role = "active: this worker leads"
		}
		fmt.Fprintln(rw, "ready;", role)
	})
	mux.Handle("GET /metrics", w.metrics.Handler())
	return mux
}

// ready says why the worker cannot do its work now, or nil. A standby is
// ready: it is there to take over.
func (w *Worker) ready() error {
	if !w.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	if w.Leads() {
		return w.pipe.Ready()
	}
	return nil
}
