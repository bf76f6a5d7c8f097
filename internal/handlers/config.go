package handlers

import (
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

// Config tunes the handlers; zero fields take the defaults of WithDefaults.
type Config struct {
	// Owner names this worker in leases; unique per running worker.
	Owner string
	// BatchMaxSize is the most names in one synchronize call.
	BatchMaxSize int
	// BatchMaxWait bounds how long a hire may wait for its synchronize
	// call to fill.
	BatchMaxWait time.Duration
	// LeaseTTL bounds how long one worker may act for an employee before
	// another may take over.
	LeaseTTL time.Duration
	// MaxAttempts is the attempt after which transient trouble becomes a
	// failed result.
	MaxAttempts int
	// RetryBase and RetryMax shape the exponential backoff between
	// attempts.
	RetryBase, RetryMax time.Duration
	// RateLimit is ChatHub's calls per second (0: none); a round plans
	// about a second's worth of calls, so that it ends well within its
	// leases.
	RateLimit float64
	// Concurrency bounds KV operations and status calls in flight (status
	// calls are paced by the rate limiter as well).
	Concurrency int
	// Guard is the mass-offboarding guard's rule (a zero threshold: off).
	Guard guard.Rule
	// GuardSettle is how long no new deactivation of an organization must
	// begin to wait before the guard decides, so that a burst is counted
	// whole.
	GuardSettle time.Duration
	// Now is the clock.
	Now func() time.Time
	// Metrics counts conflicts, adoptions and batch sizes; may be nil.
	Metrics *metrics.Metrics
	// Tracer makes the intake's and the reconciler's spans; nil: none.
	Tracer trace.Tracer
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Owner == "" {
		c.Owner = fmt.Sprintf("worker-%d", time.Now().UnixNano())
	}
	if c.BatchMaxSize <= 0 {
		c.BatchMaxSize = 100
	}
	if c.BatchMaxWait <= 0 {
		c.BatchMaxWait = 200 * time.Millisecond
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 40
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.Concurrency <= 0 {
		// KV round trips dominate; they are cheap to overlap.
		c.Concurrency = 128
	}
	if c.GuardSettle <= 0 {
		c.GuardSettle = time.Second
	}
	if c.Tracer == nil {
		c.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// backoffDelay is the jittered exponential delay after attempt n.
func (c Config) backoffDelay(n int) time.Duration {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     c.RetryBase,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         c.RetryMax,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	d := b.NextBackOff()
	for i := 1; i < n && d < c.RetryMax; i++ {
		d = b.NextBackOff()
	}
	return d
}
