package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

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
	c := []commit{{s: s, l: l}}
	if len(p.publish(ctx, c)) == 0 || len(p.save(ctx, c)) == 0 {
		return
	}
	p.ack(l)
	l.span.End()
	p.queue.detach(s, true)
}

// publish stores the results of the looks at once, and returns the looks
// whose results are all stored; the others try again soon, holding their
// messages.
func (p *Pipeline) publish(ctx context.Context, looks []commit) []commit {
	var all []hrevent.Result
	var owner []int
	for i, c := range looks {
		p.echo(ctx, c.l.results)
		for _, r := range c.l.results {
			all, owner = append(all, r), append(owner, i)
		}
	}
	if len(all) == 0 {
		return looks
	}
	lost := make([][]hrevent.Result, len(looks))
	for k, err := range p.ports.Results.Publish(ctx, all) {
		if err != nil {
			p.cfg.Metrics.ResultUnpublished()
			lost[owner[k]] = append(lost[owner[k]], all[k])
		}
	}
	out := looks[:0]
	for i, c := range looks {
		if c.l.results = lost[i]; len(lost[i]) == 0 {
			out = append(out, c)
			continue
		}
		p.cfg.Metrics.Retry("results")
		p.queue.sleep(c.s, p.cfg.Now().Add(p.cfg.Policy.Base))
	}
	return out
}

// save writes the looks' records at once, each checked against the
// revision it read, and returns the looks saved. A record changed
// meanwhile (a tool corrected it) is read again, and its look starts over
// from it with the events it had taken; one that could not be written
// tries again soon.
func (p *Pipeline) save(ctx context.Context, looks []commit) []commit {
	var puts []employee.Versioned
	var who []int
	for i, c := range looks {
		if c.l.changed {
			puts, who = append(puts, employee.Versioned{Record: &c.l.rec, Rev: c.l.rev}), append(who, i)
		}
	}
	if len(puts) == 0 {
		return looks
	}
	failed := make([]bool, len(looks))
	revs, errs := p.ports.Store.PutAll(ctx, puts)
	for k, err := range errs {
		c := looks[who[k]]
		switch {
		case errors.Is(err, employee.ErrConflict):
			p.cfg.Metrics.KVConflict()
			c.l.span.End()
			p.queue.unmerge(c.s)
		case err != nil:
			p.storeTrouble(c.s, err)
		default:
			c.l.rev, c.l.changed = revs[k], false
			continue
		}
		failed[who[k]] = true
	}
	out := looks[:0]
	for i, c := range looks {
		if !failed[i] {
			out = append(out, c)
		}
	}
	return out
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
