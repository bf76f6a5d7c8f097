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

// startSpan opens the intake span of one message, a child of the event's
// traceparent when it carries one; that span's traceparent then goes with
// the event into the record and its result.
func (in *Intake) startSpan(ctx context.Context, it *item, ev hrevent.Event, err error) {
	tp, kind, id := ev.TraceParent, string(ev.Kind), ev.ID
	if inv, ok := errors.AsType[*hrevent.InvalidError](err); ok {
		tp, kind, id = inv.Partial.TraceParent, "invalid", inv.Partial.ID
	}
	ctx = tracing.Extract(ctx, tp)
	ctx, it.span = in.cfg.Tracer.Start(ctx, "intake "+kind, trace.WithAttributes(
		attribute.String("cloudevents.event_id", id), attribute.Int64("messaging.nats.stream_sequence", int64(it.msg.Seq)),
		attribute.Int("messaging.delivery_attempt", it.msg.Delivered)))
	if tp != "" {
		it.trace = tracing.Inject(ctx)
	}
}

// endSpans closes the batch's intake spans with what became of each.
func endSpans(items []*item) {
	for _, it := range items {
		if it.span == nil {
			continue
		}
		switch {
		case it.result != nil:
			it.span.SetAttributes(attribute.String("hr.outcome", string(it.result.Outcome)))
			if it.result.Outcome == hrevent.Rejected || it.result.Outcome == hrevent.Failed {
				it.span.SetStatus(codes.Error, it.result.Reason)
			}
		case it.verdict == employee.Owe:
			it.span.SetAttributes(attribute.String("hr.outcome", "recorded"))
		}
		it.span.End()
	}
}

// resultSpan makes the span of one result the reconciler publishes, a
// child of its event's intake span and linked to the round, and returns
// its traceparent.
func (rc *Reconciler) resultSpan(round context.Context, res employee.Resolution, operator int64) string {
	if res.Trace == "" {
		return ""
	}
	ctx, span := rc.cfg.Tracer.Start(tracing.Extract(context.Background(), res.Trace), "reconcile "+string(res.Kind),
		trace.WithLinks(trace.LinkFromContext(round)), trace.WithAttributes(attribute.String("cloudevents.event_id", res.ID),
			attribute.String("hr.outcome", string(res.Outcome)), attribute.Int64("chathub.operator_id", operator)))
	if res.Outcome == hrevent.Failed {
		span.SetStatus(codes.Error, res.Reason)
	}
	span.End()
	return tracing.Inject(ctx)
}

// linkEvents links the round's span to the intake spans of the events
// whose employees it looks at.
func linkEvents(span trace.Span, jobs []*job) {
	if !span.IsRecording() {
		return
	}
	for _, j := range jobs {
		for _, o := range j.rec.Owed {
			if o.Trace != "" {
				span.AddLink(trace.LinkFromContext(tracing.Extract(context.Background(), o.Trace)))
			}
		}
	}
}
