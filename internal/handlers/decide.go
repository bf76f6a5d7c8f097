package handlers

import (
	"errors"
	"fmt"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// decide gives each of the employee's messages its outcome, now that the
// batch's work is done.
func (p *Processor) decide(e *employee, report *Report) {
	for _, it := range e.items {
		if it.decision != nil {
			continue
		}
		it.decision = p.decideItem(e, it, report)
	}
}

func (p *Processor) decideItem(e *employee, it *item, report *Report) *Decision {
	// While ChatHub does not yet hold the employee's state, every one of
	// their messages stays unacknowledged, even one that will be skipped:
	// an acked message could leave nobody to drive the employee there.
	switch {
	case !e.loaded || (e.failure == "" && e.err != nil):
		return p.retry(e, it, report)
	case e.failure == "" && !e.busyUntil.IsZero():
		// Another worker is driving this employee; look again once its
		// lease has run out or it has finished.
		return &Decision{Action: Nak, Delay: max(time.Second, e.busyUntil.Sub(p.cfg.Now())), Why: "busy"}
	case e.failure == "" && !e.rec.converged():
		// Events merged by another worker while this one acted changed
		// the goal; the next delivery drives ChatHub there.
		return &Decision{Action: Nak, Delay: p.cfg.RetryBase, Why: "converging"}
	}
	switch it.verdict {
	case verdictDuplicate:
		m := *e.rec.slot(it.ev.Kind)
		return p.final(it, hrevent.Skipped, fmt.Sprintf(
			"duplicate: event %s was already taken from the stream at sequence %d", quote(it.ev.ID), m.Seq), &e.rec)
	case verdictOlder:
		m := *e.rec.slot(it.ev.Kind)
		return p.final(it, hrevent.Skipped, fmt.Sprintf(
			"the event is older than %s (%s), which was already applied for this employee",
			quote(m.ID), m.Time.UTC().Format(time.RFC3339)), &e.rec)
	}
	if reason := e.rec.skipReason(it.ev); reason != "" {
		return p.final(it, hrevent.Skipped, reason, &e.rec)
	}
	if e.failure != "" {
		return p.final(it, hrevent.Failed, e.failure, &e.rec)
	}
	return p.final(it, hrevent.Applied, "", &e.rec)
}

// retry handles retryable trouble: try again later with backoff, unless
// the retry policy is spent. A refused token spends no attempt that counts:
// the consumer pauses until ChatHub accepts the token again.
func (p *Processor) retry(e *employee, it *item, report *Report) *Decision {
	if report.Err == nil {
		report.Err = e.err
	}
	if errors.Is(e.err, chathub.ErrUnauthorized) {
		report.Unauthorized, report.Org = true, e.rec.OrganizationID
		return &Decision{Action: Nak, Delay: p.cfg.RetryBase, Why: "unauthorized"}
	}
	if it.msg.Delivered >= p.cfg.MaxAttempts {
		return p.final(it, hrevent.Failed, fmt.Sprintf(
			"ChatHub could not be brought to reflect the event within the retry policy (%d attempts): %v",
			it.msg.Delivered, e.err), &e.rec)
	}
	delay := max(p.backoffDelay(it.msg.Delivered), chathub.RetryAfter(e.err))
	p.log.Warn().Str("event_id", it.ev.ID).Str("employee_id", e.id).Int("organization_id", e.rec.OrganizationID).
		Int("attempt", it.msg.Delivered).Dur("retry_in", delay).Err(e.err).Msg("will retry")
	why := "chathub"
	if !e.loaded {
		why = "store"
	}
	return &Decision{Action: Nak, Delay: delay, Why: why}
}

// final builds the result of a decided event; failed and rejected results
// carry the original message.
func (p *Processor) final(it *item, outcome hrevent.Outcome, reason string, rec *Record) *Decision {
	r := &hrevent.Result{
		EventID: it.ev.ID, EventType: it.ev.Type, EmployeeID: it.ev.EmployeeID, OrganizationID: it.ev.OrganizationID,
		Outcome: outcome, Reason: reason, Attempts: it.msg.Delivered, StreamSequence: it.msg.Seq,
	}
	if rec != nil {
		r.SetOperator(rec.OperatorID, int(rec.OperatorStatus))
	}
	action := Ack
	if outcome == hrevent.Failed {
		r.Echo(it.msg.Body)
		action = Term
		p.log.Error().Str("event_id", it.ev.ID).Str("employee_id", it.ev.EmployeeID).
			Int("organization_id", it.ev.OrganizationID).Str("outcome", string(outcome)).
			Int("attempt", it.msg.Delivered).Str("reason", reason).Msg("event failed")
	}
	return &Decision{Action: action, Result: r}
}

// rejected is the decision for a message that is not a valid event.
func (p *Processor) rejected(m Message, err error) *Decision {
	var inv *hrevent.InvalidError
	reason := err.Error()
	r := &hrevent.Result{Outcome: hrevent.Rejected, Reason: reason, Attempts: m.Delivered, StreamSequence: m.Seq}
	if errors.As(err, &inv) {
		r.EventID, r.EventType = inv.Partial.ID, inv.Partial.Type
		r.EmployeeID, r.OrganizationID = inv.Partial.EmployeeID, inv.Partial.OrganizationID
	}
	r.Echo(m.Body)
	p.log.Warn().Str("event_id", r.EventID).Str("employee_id", r.EmployeeID).Uint64("stream_sequence", m.Seq).
		Str("outcome", string(hrevent.Rejected)).Str("reason", reason).Msg("event rejected")
	return &Decision{Action: Term, Result: r}
}
