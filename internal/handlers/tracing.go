package handlers

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/tracing"
)

// intakeSpan opens the intake span of one message, a child of the event's
// traceparent when it carries one; that span's traceparent then goes with
// the event into the record and its result.
func (p *Pipeline) intakeSpan(ctx context.Context, in Inbound, ev hrevent.Event, err error) (trace.Span, string) {
	tp, kind, id := ev.TraceParent, string(ev.Kind), ev.ID
	if inv, ok := errors.AsType[*hrevent.InvalidError](err); ok {
		tp, kind, id = inv.Partial.TraceParent, "invalid", hrevent.Clip(inv.Partial.ID)
	}
	ctx, span := p.cfg.Tracer.Start(tracing.Extract(ctx, tp), "intake "+kind, trace.WithAttributes(
		attribute.String("cloudevents.event_id", id), attribute.Int64("messaging.nats.stream_sequence", int64(in.Seq)),
		attribute.Int("messaging.delivery_attempt", in.Delivered)))
	if tp == "" {
		return span, ""
	}
	return span, tracing.Inject(ctx)
}

// endSpan closes an intake span with what became of its event: an
// outcome decided at once, or "recorded" (its result comes later).
func endSpan(span trace.Span, outcome hrevent.Outcome, reason string) {
	if span == nil {
		return
	}
	if outcome == "" {
		span.SetAttributes(attribute.String("hr.outcome", "recorded"))
	} else {
		span.SetAttributes(attribute.String("hr.outcome", string(outcome)))
	}
	if outcome == hrevent.Rejected || outcome == hrevent.Failed {
		span.SetStatus(codes.Error, hrevent.Clip(reason))
	}
	span.End()
}

// lookSpan opens the span of a look, linked to the intake spans of the
// events it takes as they come.
func (p *Pipeline) lookSpan(employeeID string) trace.Span {
	_, span := p.cfg.Tracer.Start(context.Background(), "look", trace.WithAttributes(attribute.Int("hr.employee_id_bytes", len(employeeID))))
	return span
}

// link links the look's span to an event's intake span.
func link(span trace.Span, tp string) {
	if span != nil && tp != "" && span.IsRecording() {
		span.AddLink(trace.LinkFromContext(tracing.Extract(context.Background(), tp)))
	}
}

// traceOf is the traceparent of a look's span, for the ChatHub calls it
// asks for: they are spans of it.
func traceOf(span trace.Span) string {
	if span == nil || !span.SpanContext().IsValid() {
		return ""
	}
	return tracing.Inject(trace.ContextWithSpan(context.Background(), span))
}

// resultSpan makes the span of one result the pipeline publishes, a child
// of its event's intake span and linked to the look, and returns its
// traceparent.
func (p *Pipeline) resultSpan(look trace.Span, res employee.Resolution, operator int64) string {
	if res.Trace == "" {
		return ""
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(attribute.String("cloudevents.event_id", res.ID),
		attribute.String("hr.outcome", string(res.Outcome)), attribute.Int64("chathub.operator_id", operator))}
	if look != nil {
		opts = append(opts, trace.WithLinks(trace.LinkFromContext(trace.ContextWithSpan(context.Background(), look))))
	}
	ctx, span := p.cfg.Tracer.Start(tracing.Extract(context.Background(), res.Trace), "reconcile "+string(res.Kind), opts...)
	if res.Outcome == employee.Failed {
		span.SetStatus(codes.Error, hrevent.Clip(res.Reason))
	}
	span.End()
	return tracing.Inject(ctx)
}
