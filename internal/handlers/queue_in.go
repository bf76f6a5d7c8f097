package handlers

import (
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// add queues events taken in, per employee. Events wait for the rest of
// their burst, so that it is merged whole before ChatHub is driven: until
// the intake caught up with the stream (caughtUp), and, for a burst that
// mixes kinds, until the flow it comes in stopped (flowing: events are
// still coming), at most gateMax. It returns the slots whose looks wait
// for operations that the new events may make moot, and whether events
// wait for their flow to stop.
func (q *queue) add(events []*held, caughtUp, flowing bool) (waiting []*slot, gated bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for _, h := range events {
		s := q.slot(h.ev.EmployeeID)
		s.inbox = append(s.inbox, h)
		s.urgent = s.urgent || h.ev.Kind.Urgent()
		q.mixed = q.mixed || h.ev.Kind != employee.Hire || s.gated && len(s.inbox) > 1
		if !s.gated {
			if len(q.gated) == 0 {
				q.gatedAt = now
			}
			s.gated = true
			q.gated = append(q.gated, s)
		}
		s.distrust = s.distrust || h.delivered > 1
		q.held++
		q.heldBytes += h.size
		if len(s.ops) > 0 && !slices.Contains(waiting, s) {
			waiting = append(waiting, s)
		}
	}
	gated = caughtUp && flowing && q.mixed
	if caughtUp && !gated || now.Sub(q.gatedAt) > gateMax {
		q.ungate(now)
		gated = false
	}
	for _, h := range events {
		q.poke(q.slots[h.ev.EmployeeID], now)
	}
	q.spillHeld(now)
	return waiting, gated
}

// gateMax bounds the wait of events for the rest of their burst, so that
// a stream that never lets the intake catch up still moves.
const gateMax = 2 * time.Second

// ungate lets the gated slots go; q.mu is held.
func (q *queue) ungate(now time.Time) {
	for _, s := range q.gated {
		s.gated = false
		q.poke(s, now)
	}
	q.gated, q.mixed = nil, false
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
	s.urgent = s.urgent || m != nil // a change that came due, not a sweep
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

// empty reports whether no employee has anything pending.
func (q *queue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.slots) == 0
}

// room is how many more messages the intake may take now.
func (q *queue) room() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.full() {
		q.spillHeld(time.Now())
		return 0
	}
	return min(q.cfg.HoldMax-q.held, 1000)
}

// busy reports whether events taken in wait for a look, or a look is
// under way that has not asked ChatHub yet.
func (q *queue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.goOn)+len(q.urgent)+len(q.fresh)+len(q.gated)+q.onIt > 0
}

// spillAfter is how long a look must have waited to be written down when
// the hold is full: looks that end soon free their room soon.
const spillAfter = 250 * time.Millisecond

// spillHeld keeps the intake taking events in, a deactivation behind a
// backlog of hires above all. Once the held messages near their bounds,
// the events that wait for the rest of a burst larger than the hold go:
// a burst of hires alone is taken in parts (each hire is the first event
// of its employee in the burst, with nothing to merge across parts); any
// other is written down as it comes (the events merged into the records,
// their messages let go) and decided once the intake caught up, so that a
// hire and its termination in one burst make no operator. Once the hold
// is full, looks that have waited spillAfter (for ChatHub, a time, the
// token) are written down too, until half the hold is free. q.mu is held.
func (q *queue) spillHeld(now time.Time) {
	if q.held < q.cfg.HoldMax*3/4 && q.heldBytes < q.cfg.HoldBytes*3/4 || q.spilling > 0 {
		return // the room being made comes first
	}
	if !q.mixed {
		q.ungate(now)
	}
	need := max(q.held-q.cfg.HoldMax/2, (q.heldBytes-q.cfg.HoldBytes/2)/max(q.heldBytes/max(q.held, 1), 1))
	for _, s := range q.gated {
		if need <= 0 {
			return
		}
		if s.look == nil && !s.onIt && !s.spill && len(s.inbox) > 0 {
			need -= q.spillOne(s, now)
		}
	}
	if !q.full() {
		return
	}
	for _, s := range q.slots {
		if need <= 0 {
			return
		}
		if s.look != nil && s.waits() && !s.onIt && !s.spill && now.Sub(s.since) >= spillAfter {
			need -= q.spillOne(s, now)
		}
	}
}

// spillOne asks for the slot's look to be written down, and returns the
// messages that frees; q.mu is held.
func (q *queue) spillOne(s *slot, now time.Time) int {
	s.spill = true
	q.spilling++
	q.poke(s, now)
	n := len(s.inbox)
	if s.look != nil {
		n += len(s.look.merged)
	}
	return n
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
