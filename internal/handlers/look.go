package handlers

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// look is one employee's look under way: the record as read, with the
// events taken since merged and the answers of ChatHub applied; the
// results that came due; the messages to acknowledge once it is saved.
type look struct {
	rec employee.Record
	rev uint64
	// changed: rec differs from what the store holds.
	changed bool
	// merged are the events merged into rec, triggers the wake-ups taken;
	// both are acknowledged once rec is saved (changed under the queue's
	// lock).
	merged   []*held
	triggers []Message
	results  []hrevent.Result
	// heldAt is the guard's hold the record had when read (0: none), in
	// organization heldIn.
	heldAt uint64
	heldIn int
	// due is when the record was on the list of unfinished work (zero:
	// not on it).
	due  time.Time
	span trace.Span
	// intents are the notes of creates the look's record must say the
	// outcome of before they go.
	intents []string
}

// step moves one employee's look on: it reads the record (at the look's
// start), merges the events taken since, applies ChatHub's answers, and
// asks the domain what to do now; then it starts the operations, waits,
// or finishes the look.
func (p *Pipeline) step(ctx context.Context, s *slot) {
	defer p.queue.release(s)
	if s.look == nil && !p.open(ctx, s) {
		return
	}
	events, answers, spill, distrust := p.queue.begin(s)
	l := s.look
	now := p.cfg.Now()
	if distrust {
		l.rec.Distrust()
		l.changed = true
	}
	for _, h := range events {
		link(l.span, h.trace)
		p.merge(l, h, now)
	}
	l.applyHints(p.queue.takeHints(s, l.rec.Known()))
	if spill {
		p.spill(ctx, s, l)
		return
	}
	answers = slices.DeleteFunc(answers, func(a employee.Answer) bool { return errors.Is(a.Err, errWithdrawn) })
	if len(answers) > 0 {
		if p.stopping(answers) {
			p.abandon(s)
			return
		}
		if p.apply(l, answers, now) {
			p.queue.pause(s)
			return
		}
	}
	d := l.rec.Decide(now, p.gate)
	l.changed = true
	l.results = append(l.results, p.resolved(l.span, d.Results, &l.rec)...)
	switch {
	case len(d.Ops) > 0:
		p.start(s, d.Ops)
	case d.Undecided:
		// The guard has not decided on the deactivation yet: a burst may
		// still be arriving. The look waits, holding its messages.
		p.queue.sleep(s, d.Wake)
	default:
		p.finish(s, l, d)
	}
}

// open starts a look: it reads the employee's record. It reports false
// when the store could not be read (the slot waits and tries again).
func (p *Pipeline) open(ctx context.Context, s *slot) bool {
	rec, rev, err := p.ports.Store.Get(ctx, s.id)
	if err != nil && ctx.Err() != nil {
		return false // the lead ended: the slot goes with it
	}
	if err != nil {
		p.log.Warn().Err(err).Str("employee_id", hrevent.Clip(s.id)).Msg("cannot read the employee's record; trying again")
		p.cfg.Metrics.Retry("store")
		p.queue.sleep(s, p.cfg.Now().Add(p.cfg.Policy.Base))
		return false
	}
	l := &look{rec: rec, rev: rev, due: rec.Due, span: p.lookSpan(s.id)}
	if rec.Guard != nil {
		l.heldAt, l.heldIn = rec.Guard.Held, rec.Guard.Org
	}
	p.queue.attach(s, l)
	return true
}

// merge folds one event into the look's record; an event that changes
// nothing, or cannot be taken, gets its result now.
func (p *Pipeline) merge(l *look, h *held, now time.Time) {
	v := l.rec.Merge(h.ev, h.seq, h.delivered, h.trace, now)
	l.changed = l.changed || v.Changed
	var outcome hrevent.Outcome
	switch v.Kind {
	case employee.Skip:
		outcome = hrevent.Skipped
	case employee.Fail:
		outcome = hrevent.Failed
		p.log.Error().Str("event_id", hrevent.Clip(h.ev.ID)).Str("employee_id", hrevent.Clip(h.ev.EmployeeID)).
			Int("organization_id", h.ev.OrganizationID).Str("outcome", string(outcome)).Str("reason", hrevent.Clip(v.Reason)).Msg("event failed")
	}
	endSpan(h.span, outcome, v.Reason)
	if outcome == "" {
		return
	}
	r := hrevent.Result{EventID: h.ev.ID, EventType: h.typ, EmployeeID: h.ev.EmployeeID, OrganizationID: h.ev.OrganizationID,
		Outcome: outcome, Reason: v.Reason, Attempts: h.delivered, StreamSequence: h.seq, TraceParent: h.trace, Repeat: v.Repeat}
	r.SetOperator(l.rec.Operator.ID, int(l.rec.Operator.Status))
	l.results = append(l.results, r)
}

// apply lays ChatHub's answers over the look's record, and reports
// whether ChatHub refused the token (the look then waits for it).
func (p *Pipeline) apply(l *look, answers []employee.Answer, now time.Time) bool {
	failed, unauthorized := l.rec.Apply(answers, p.cfg.Policy, now)
	l.changed = true
	for _, a := range answers {
		if a.Intent != "" {
			l.intents = append(l.intents, a.Intent)
		}
	}
	l.results = append(l.results, p.resolved(l.span, failed, &l.rec)...)
	for _, a := range answers {
		switch {
		case a.Err == nil && a.Op.Deactivation:
			p.gate.applied(a.Op.Org, a.Op.EmployeeID, l.heldAt == 0)
		case a.Err != nil && !unauthorized:
			p.cfg.Metrics.Retry("chathub")
			p.log.Warn().Str("employee_id", hrevent.Clip(a.Op.EmployeeID)).Int("organization_id", a.Op.Org).Str("op", a.Op.String()).
				Err(a.Err).Msg("ChatHub call failed")
		}
	}
	if unauthorized {
		p.pause(answers)
	}
	return unauthorized
}

// start hands the operations to ChatHub; each answer brings the look
// back.
func (p *Pipeline) start(s *slot, ops []employee.Op) {
	tp := traceOf(s.look.span)
	for i := range ops {
		ops[i].Trace = tp
	}
	p.queue.expect(s, ops)
	for _, op := range ops {
		p.ports.ChatHub.Do(op, func(a employee.Answer) { p.queue.answer(s.id, a) })
	}
}

// errWithdrawn answers an operation taken back before it started.
var errWithdrawn = errors.New("taken back before it started: newer events came")

// withdraw takes back the operations of a look that have not started yet,
// since newer events came for the employee: the look decides again with
// them (a termination behind a hire waiting for ChatHub's rate makes no
// operator, rather than one made to be deleted).
func (p *Pipeline) withdraw(s *slot) {
	for _, op := range p.queue.started(s) {
		if p.ports.ChatHub.Withdraw(op) {
			p.queue.answer(s.id, employee.Answer{Op: op, Err: errWithdrawn})
		}
	}
}
