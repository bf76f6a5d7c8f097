package handlers

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Inbound is one message taken off HR_EVENTS.
type Inbound struct {
	Msg       Message
	Body      []byte
	Seq       uint64 // stream sequence in HR_EVENTS
	Delivered int    // delivery attempt, from 1
}

// held is a valid event taken in whose message is held until the look
// that merged it has saved its employee's record.
type held struct {
	ev        employee.Event
	typ       string // the CloudEvents type, for the result
	seq       uint64
	delivered int
	trace     string
	span      trace.Span
	msg       Message
	size      int
}

// Take takes a batch of HR events in: an invalid one gets its rejected
// result at once and is never delivered again; a valid one waits in its
// employee's slot. caughtUp says the stream held nothing more for the
// intake when the batch ended.
func (p *Pipeline) Take(ctx context.Context, batch []Inbound, caughtUp bool) {
	p.inHand.Store(true)
	defer p.inHand.Store(false)
	if len(batch) > 0 {
		p.arrivals.arrived(time.Now(), p.queue.empty())
	}
	start := time.Now()
	valid, rejected := p.parse(ctx, batch)
	p.reject(ctx, rejected)
	for _, h := range valid {
		if h.ev.Kind.Urgent() && !h.ev.Time.After(start.Add(employee.ScheduleAhead)) {
			p.gate.arriving(h.ev.OrganizationID, start)
		}
	}
	p.caughtUp.Store(caughtUp)
	quietAt, flowing := p.arrivals.flowing(time.Now())
	waiting, gated := p.queue.add(valid, caughtUp, flowing)
	for _, s := range waiting {
		p.withdraw(s)
	}
	if caughtUp && gated {
		time.AfterFunc(time.Until(quietAt), p.reopen)
	}
	p.cfg.Metrics.Batch(len(batch), time.Since(start))
}

// reopen lets the events waiting for the rest of their burst go, if the
// intake is still caught up and their flow stopped.
func (p *Pipeline) reopen() {
	if _, flowing := p.arrivals.flowing(time.Now()); p.caughtUp.Load() && !flowing {
		p.queue.caughtUp()
	}
}

// rejection is an invalid message and its result.
type rejection struct {
	in     Inbound
	result hrevent.Result
	span   trace.Span
}

// parse validates the messages on every core: schema validation is the
// intake's main CPU cost.
func (p *Pipeline) parse(ctx context.Context, batch []Inbound) ([]*held, []rejection) {
	type parsed struct {
		h   *held
		rej *rejection
	}
	out := make([]parsed, len(batch))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(batch)/32))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(batch); i += workers {
				in := batch[i]
				ev, err := p.validator.Parse(in.Body)
				span, tp := p.intakeSpan(ctx, in, ev, err)
				if err != nil {
					out[i].rej = &rejection{in: in, result: p.rejected(in, err, tp), span: span}
					continue
				}
				out[i].h = &held{ev: ev.Domain(), typ: ev.Type, seq: in.Seq, delivered: max(in.Delivered, 1), trace: tp,
					span: span, msg: in.Msg, size: len(in.Body)}
			}
		})
	}
	wg.Wait()
	var valid []*held
	var rejected []rejection
	for _, o := range out {
		if o.h != nil {
			valid = append(valid, o.h)
		} else {
			rejected = append(rejected, *o.rej)
		}
	}
	return valid, rejected
}

// rejected is the result of a message that is not a valid event.
func (p *Pipeline) rejected(in Inbound, err error, tp string) hrevent.Result {
	var inv *hrevent.InvalidError
	r := hrevent.Result{Outcome: hrevent.Rejected, Reason: err.Error(), Attempts: max(in.Delivered, 1), StreamSequence: in.Seq, TraceParent: tp}
	if errors.As(err, &inv) {
		r.EventID, r.EventType = inv.Partial.ID, inv.Partial.Type
		r.EmployeeID, r.OrganizationID = inv.Partial.EmployeeID, inv.Partial.OrganizationID
	}
	r.Echo(in.Body)
	p.log.Warn().Str("event_id", hrevent.Clip(r.EventID)).Str("employee_id", hrevent.Clip(r.EmployeeID)).Uint64("stream_sequence", in.Seq).
		Str("outcome", string(hrevent.Rejected)).Str("reason", hrevent.Clip(r.Reason)).Msg("event rejected")
	return r
}

// reject publishes the rejected results, then ends each message: never
// delivered again once its result is stored, delivered again soon if not.
func (p *Pipeline) reject(ctx context.Context, rejected []rejection) {
	if len(rejected) == 0 {
		return
	}
	results := make([]hrevent.Result, len(rejected))
	for i, r := range rejected {
		results[i] = r.result
	}
	errs := p.ports.Results.Publish(ctx, results)
	for i, r := range rejected {
		endSpan(r.span, results[i].Outcome, results[i].Reason)
		if errs[i] != nil {
			p.cfg.Metrics.ResultUnpublished()
			p.cfg.Metrics.Retry("results")
			_ = r.in.Msg.Nak(p.cfg.Policy.Base)
			continue
		}
		_ = r.in.Msg.Term(hrevent.Clip(r.result.Reason))
	}
}
