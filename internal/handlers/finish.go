package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// finish ends a look: the results that came due are published, then the
// record is saved (results first: a crash between the two publishes them
// again, which HR_RESULTS drops as duplicates), then the messages the
// look held are acknowledged. An employee that waits for a time gets a
// wake-up then, and stays on the list of unfinished work until it comes.
func (p *Pipeline) finish(ctx context.Context, s *slot, l *look, d employee.Decision) {
	if !p.publish(ctx, s, l) {
		return
	}
	wake := d.Wake
	if d.Held {
		wake = time.Time{} // a person's decision brings it back
	}
	if !d.Held && l.heldAt == 0 {
		p.gate.forget(l.rec.Org, l.rec.EmployeeID)
	}
	if !wake.IsZero() {
		if err := p.park(ctx, l.rec.EmployeeID, wake, !wake.Equal(l.due)); err != nil {
			p.storeTrouble(s, err)
			return
		}
	}
	l.rec.Due = wake
	if !p.save(ctx, s, l) {
		return
	}
	if wake.IsZero() && !l.due.IsZero() {
		if err := p.ports.Store.Done(ctx, l.rec.EmployeeID); err != nil {
			p.log.Warn().Err(err).Str("employee_id", hrevent.Clip(l.rec.EmployeeID)).Msg("cannot take the employee off the unfinished work")
		}
	}
	if l.heldAt != 0 && l.rec.Guard == nil {
		if err := p.ports.Guards.Release(ctx, l.rec.Org, []string{l.rec.EmployeeID}); err != nil {
			p.log.Warn().Err(err).Str("employee_id", hrevent.Clip(l.rec.EmployeeID)).Msg("mass-offboarding guard")
		}
	}
	p.ack(l)
	l.span.End()
	p.queue.detach(s, false)
}

// park asks for a look at the employee at at (again: a wake-up that fired
// is gone), and keeps them on the list of unfinished work until then
// (note: unless they are on it for that time already), so that the sweep
// finds them should the wake-up be lost.
func (p *Pipeline) park(ctx context.Context, id string, at time.Time, note bool) error {
	if err := p.ports.Wakes.WakeAt(ctx, id, at); err != nil {
		return err
	}
	if !note {
		return nil
	}
	return p.ports.Store.Note(ctx, id, at)
}

// spill writes a look down as it stands, lets its messages go and ends
// it; the employee is looked at again from the record when there is
// something to do (the answers of its operations, the end of a burst, a
// time). The employee is on the list of unfinished work meanwhile, so that
// a worker that takes over finds them.
func (p *Pipeline) spill(ctx context.Context, s *slot, l *look) {
	if l.due.IsZero() {
		if err := p.ports.Store.Note(ctx, l.rec.EmployeeID, time.Time{}); err != nil {
			return // keeps its messages; tried again when needed
		}
		l.due = p.cfg.Now()
	}
	l.rec.Due = l.due
	if !p.publish(ctx, s, l) || !p.save(ctx, s, l) {
		return
	}
	p.ack(l)
	l.span.End()
	p.queue.detach(s, true)
}

// publish stores the look's results; those that could not be are tried
// again soon (the look keeps its messages meanwhile).
func (p *Pipeline) publish(ctx context.Context, s *slot, l *look) bool {
	if len(l.results) == 0 {
		return true
	}
	p.echo(ctx, l.results)
	var lost []hrevent.Result
	for i, err := range p.ports.Results.Publish(ctx, l.results) {
		if err != nil {
			p.cfg.Metrics.ResultUnpublished()
			lost = append(lost, l.results[i])
		}
	}
	l.results = lost
	if len(lost) > 0 {
		p.cfg.Metrics.Retry("results")
		p.queue.sleep(s, p.cfg.Now().Add(p.cfg.Policy.Base))
		return false
	}
	return true
}

// save writes the look's record, checked against the revision it read. A
// record changed meanwhile (a tool corrected it) is read again, and the
// look starts over from it with the events it had taken.
func (p *Pipeline) save(ctx context.Context, s *slot, l *look) bool {
	if !l.changed {
		return true
	}
	rev, err := p.ports.Store.Put(ctx, l.rec, l.rev)
	switch {
	case errors.Is(err, employee.ErrConflict):
		p.cfg.Metrics.KVConflict()
		l.span.End()
		p.queue.unmerge(s)
		return false
	case err != nil:
		p.storeTrouble(s, err)
		return false
	}
	l.rev, l.changed = rev, false
	return true
}

// storeTrouble makes a look that could not write to the store try again
// after a pause, holding its messages.
func (p *Pipeline) storeTrouble(s *slot, err error) {
	p.log.Warn().Err(err).Str("employee_id", hrevent.Clip(s.id)).Msg("cannot save the employee's record; trying again")
	p.cfg.Metrics.Retry("store")
	p.queue.sleep(s, p.cfg.Now().Add(p.cfg.Policy.Base))
}

// ack acknowledges the messages the look holds: what they brought is
// saved, and so is what came of the creates it was told of.
func (p *Pipeline) ack(l *look) {
	p.intents.saved(context.WithoutCancel(p.work), l.rec.EmployeeID, l.intents)
	l.intents = nil
	events, triggers := p.queue.settle(l)
	bytes := 0
	for _, h := range events {
		_ = h.msg.Ack()
		bytes += h.size
	}
	for _, m := range triggers {
		if m != nil {
			_ = m.Ack()
		}
	}
	p.queue.let(len(events), bytes)
}

// abandon hands a look's messages back without saving anything: the
// worker is stopping, and whoever leads next takes the events again
// (what ChatHub made meanwhile is found there: claims, and statuses set
// again).
func (p *Pipeline) abandon(s *slot) {
	events, triggers := p.queue.settle(s.look)
	bytes := 0
	for _, h := range events {
		_ = h.msg.Nak(0)
		bytes += h.size
	}
	for _, m := range triggers {
		if m != nil {
			_ = m.Nak(0)
		}
	}
	p.queue.let(len(events), bytes)
	s.look.span.End()
	p.queue.detach(s, false)
}

// echo puts the original event in each failed result, read back from the
// stream, so that it can be fixed and replayed.
func (p *Pipeline) echo(ctx context.Context, results []hrevent.Result) {
	for i := range results {
		r := &results[i]
		if r.Outcome != hrevent.Failed || r.Event != nil || r.EventBase64 != "" {
			continue
		}
		if body, err := p.ports.Events.Body(ctx, r.StreamSequence); err == nil {
			r.Echo(body)
		}
	}
}
