package app

import "go.opentelemetry.io/otel/trace"

// Option changes how New builds the worker.
type Option func(*Worker)

// WithTracerProvider makes the worker's spans with tp instead of what the
// OTEL_* variables ask for.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(w *Worker) { w.tracer = tp }
}
