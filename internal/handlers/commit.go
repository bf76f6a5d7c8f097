package handlers

import (
	"context"
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// finish ends a look: a committer publishes the results that came due,
// then saves the record (results first: a crash between the two publishes
// them again, which HR_RESULTS drops as duplicates), then acknowledges the
// messages the look held. An employee that waits for a time gets a
// wake-up then, and stays on the list of unfinished work until it comes.
// No step runs on the employee meanwhile.
func (p *Pipeline) finish(s *slot, l *look, d employee.Decision) {
	p.queue.committing(s)
	select {
	case p.commits <- commit{s: s, l: l, d: d}:
	case <-p.work.Done(): // the lead is lost: every message goes back
	}
}

// commit is a look to end, with the domain's last decision on it.
type commit struct {
	s *slot
	l *look
	d employee.Decision
}

// commitBatch bounds the looks a committer ends at once.
const commitBatch = 256

// committer ends looks until ctx is done, as many at once as are waiting:
// one publish of all their results, one write of all their records.
func (p *Pipeline) committer(ctx, work context.Context) {
	for {
		var batch []commit
		select {
		case c := <-p.commits:
			batch = append(batch, c)
		case <-ctx.Done():
			return
		}
	more:
		for len(batch) < commitBatch {
			select {
			case c := <-p.commits:
				batch = append(batch, c)
			default:
				break more
			}
		}
		p.commitAll(work, batch)
	}
}

// commitAll ends the looks of batch; one that cannot end yet waits and
// tries again (or, its record changed meanwhile, starts over).
func (p *Pipeline) commitAll(ctx context.Context, batch []commit) {
	todo := p.publish(ctx, slices.Clone(batch))
	todo = slices.DeleteFunc(todo, func(c commit) bool { return !p.park(ctx, c) })
	for _, c := range p.save(ctx, todo) {
		p.complete(ctx, c)
	}
	for _, c := range batch {
		p.queue.committed(c.s)
	}
}

// park asks for a look at the employee when the decision wants one (again:
// a wake-up that fired is gone), and keeps them on the list of unfinished
// work until then, so that the sweep finds them should the wake-up be
// lost. A look the guard holds waits for a person's decision instead.
func (p *Pipeline) park(ctx context.Context, c commit) bool {
	l, d := c.l, c.d
	wake := d.Wake
	if d.Held {
		wake = time.Time{}
	}
	if !d.Held && l.heldAt == 0 {
		p.gate.forget(l.rec.Org, l.rec.EmployeeID)
	}
	if !wake.IsZero() {
		err := p.ports.Wakes.WakeAt(ctx, l.rec.EmployeeID, wake)
		if err == nil && !wake.Equal(l.due) {
			err = p.ports.Store.Note(ctx, l.rec.EmployeeID, wake)
		}
		if err != nil {
			p.storeTrouble(c.s, err)
			return false
		}
	}
	l.rec.Due = wake
	return true
}

// complete ends a look whose record is saved: off the list of unfinished
// work if it is done, out of the guard's holds, its messages acknowledged.
func (p *Pipeline) complete(ctx context.Context, c commit) {
	l := c.l
	if l.rec.Due.IsZero() && !l.due.IsZero() {
		if err := p.ports.Store.Done(ctx, l.rec.EmployeeID); err != nil {
			p.log.Warn().Err(err).Str("employee_id", hrevent.Clip(l.rec.EmployeeID)).Msg("cannot take the employee off the unfinished work")
		}
	}
	if l.heldAt != 0 && l.rec.Guard == nil {
		if err := p.ports.Guards.Release(ctx, l.heldIn, []string{l.rec.EmployeeID}); err != nil {
			p.log.Warn().Err(err).Str("employee_id", hrevent.Clip(l.rec.EmployeeID)).Msg("mass-offboarding guard")
		}
	}
	p.ack(l)
	l.span.End()
	p.queue.detach(c.s, false)
}
