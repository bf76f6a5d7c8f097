package handlers

import (
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// add queues events taken in, per employee. open says whether the intake
// caught up with the stream: events wait for that, so that a burst is
// merged whole before ChatHub is driven. It returns the slots whose looks
// wait for operations that the new events may make moot.
func (q *queue) add(events []*held, open bool) (waiting []*slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for _, h := range events {
		s := q.slot(h.ev.EmployeeID)
		s.inbox = append(s.inbox, h)
		s.gated = true
		s.distrust = s.distrust || h.delivered > 1
		q.held++
		q.heldBytes += h.size
		if len(s.ops) > 0 && !slices.Contains(waiting, s) {
			waiting = append(waiting, s)
		}
	}
	if open {
		q.ungate(now)
	}
	for _, h := range events {
		q.poke(q.slots[h.ev.EmployeeID], now)
	}
	q.spillHeld(now)
	return waiting
}

// ungate lets the gated slots go; q.mu is held.
func (q *queue) ungate(now time.Time) {
	for _, s := range q.slots {
		if s.gated {
			s.gated = false
			q.poke(s, now)
		}
	}
}

// caughtUp lets gated events go: the intake caught up with the stream.
func (q *queue) caughtUp() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ungate(time.Now())
}

// trigger queues a wake-up for the employee: it is due, and waits for
// nothing. distrust: it may come from work a stopped worker left.
func (q *queue) trigger(id string, m Message, distrust bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.slot(id)
	s.triggers = append(s.triggers, m)
	s.distrust = s.distrust || distrust
	q.poke(s, time.Now())
}

// wake asks for a look at the employee, with no message to acknowledge.
func (q *queue) wake(id string, distrust bool) { q.trigger(id, nil, distrust) }

// answer records the answer to one of the slot's operations.
func (q *queue) answer(id string, a employee.Answer) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.slots[id]
	if s == nil {
		return
	}
	i := slices.Index(s.ops, a.Op)
	if i < 0 {
		return // answered already (taken back, then made all the same)
	}
	s.ops = slices.Delete(s.ops, i, i+1)
	s.answers = append(s.answers, a)
	q.poke(s, time.Now())
}

// resume lets the paused slots go on: ChatHub accepts the token again.
func (q *queue) resume() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for _, s := range q.slots {
		if s.paused {
			s.paused = false
			q.poke(s, now)
		}
	}
}

// let accounts for held messages acknowledged or handed back, and tells
// the intake when there is room again.
func (q *queue) let(msgs, bytes int) {
	if msgs == 0 {
		return
	}
	q.mu.Lock()
	q.held -= msgs
	q.heldBytes -= bytes
	room := !q.full()
	q.mu.Unlock()
	if room {
		signal(q.roomed)
	}
}

// full reports whether the held messages reached their bounds; q.mu is
// held.
func (q *queue) full() bool {
	return q.held >= q.cfg.HoldMax || q.heldBytes >= q.cfg.HoldBytes
}

// room is how many more messages the intake may take now.
func (q *queue) room() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.full() {
		return 0
	}
	return min(q.cfg.HoldMax-q.held, 1000)
}

// busy reports whether events taken in wait for a look, or a look is
// under way that has not asked ChatHub yet.
func (q *queue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.goOn)+len(q.fresh) > 0 {
		return true
	}
	for _, s := range q.slots {
		if s.onIt || s.gated {
			return true
		}
	}
	return false
}

// spillHeld, once the held messages near their bounds, asks for the
// waiting work to be written down and its messages let go: events that
// wait for the rest of a burst, and looks that wait (for ChatHub, a time,
// the token). The intake must keep taking events in: a deactivation
// behind a backlog of hires above all. q.mu is held.
func (q *queue) spillHeld(now time.Time) {
	if q.held < q.cfg.HoldMax*3/4 && q.heldBytes < q.cfg.HoldBytes*3/4 {
		return
	}
	for _, s := range q.slots {
		if !s.onIt && !s.spill && (s.look != nil && s.waits() || s.look == nil && s.gated && len(s.inbox) > 0) {
			s.spill = true
			q.poke(s, now)
		}
	}
}

// spillWaiting lets go of looks that wait, to make room for new ones; q.mu
// is held.
func (q *queue) spillWaiting() {
	now := time.Now()
	for _, s := range q.slots {
		if s.look != nil && s.waits() && !s.onIt && !s.spill {
			s.spill = true
			q.poke(s, now)
		}
	}
}

// waits reports whether the slot's look waits for something: answers, a
// time, the token.
func (s *slot) waits() bool { return len(s.ops) > 0 || !s.at.IsZero() || s.paused }

// heldMessages lists every message held, for the progress heartbeat.
func (q *queue) heldMessages() []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Message
	for _, s := range q.slots {
		for _, h := range s.inbox {
			out = append(out, h.msg)
		}
		out = append(out, s.triggers...)
		if s.look != nil {
			for _, h := range s.look.merged {
				out = append(out, h.msg)
			}
			out = append(out, s.look.triggers...)
		}
	}
	return out
}
