package app

import (
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Option changes how New builds the worker.
type Option func(*Worker)

// WithTracerProvider makes the worker's spans with tp instead of what the
// OTEL_* variables ask for.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(w *Worker) { w.tracer = tp }
}

// WithSweep makes the leading worker walk its list of unfinished work
// every d, instead of every five minutes, for employees that a lost
// wake-up would leave waiting. It is for tests and failure drills.
func WithSweep(d time.Duration) Option {
	return func(w *Worker) { w.sweep = d }
}
