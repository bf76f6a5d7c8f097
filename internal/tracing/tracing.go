// Package tracing sets up OpenTelemetry for the worker: spans go out over
// OTLP/HTTP only when the standard OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. It also carries W3C trace
// context between an event's traceparent and its result's.
package tracing

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/chathub-operator-worker/worker/internal/buildinfo"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Name is the instrumentation scope of the worker's spans.
const Name = "github.com/chathub-operator-worker/worker"

// Enabled says whether the environment asks for spans to be exported.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup returns the tracer provider the environment asks for, and how to
// flush and stop it: OTLP over HTTP when an endpoint is set (the exporter
// reads the other standard OTEL_EXPORTER_OTLP_* variables), a provider
// that records nothing otherwise.
func Setup(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	if !Enabled() {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	if p := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: the worker exports spans over http/protobuf only (port 4318)", p)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot set up the OTLP trace exporter: %w", err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over these.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithHost(),
		resource.WithAttributes(semconv.ServiceName("chathub-operator-worker"), semconv.ServiceVersion(buildinfo.Version)),
		resource.WithFromEnv())
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

var propagator = propagation.TraceContext{}

// Extract returns ctx carrying the remote span of a traceparent; ctx as
// it is for an empty or invalid one.
func Extract(ctx context.Context, tp string) context.Context {
	if !hrevent.ValidTraceParent(tp) {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// Inject returns the traceparent of ctx's span, or "".
func Inject(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c["traceparent"]
}
