package handlers

import (
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// The queue's side of a look: what a step takes and gives back, under the
// queue's lock, so that the heartbeat and the spill see the messages a
// look holds as they are.

// attach starts the slot's look.
func (q *queue) attach(s *slot, l *look) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.look = l
	q.looks++
}

// begin hands a step what came for the slot since the last one: its new
// events (from then on held by the look), the wake-ups, the answers,
// whether to spill and whether to distrust the record.
func (q *queue) begin(s *slot) (events []*held, answers []employee.Answer, spill, distrust bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := s.look
	distrust, s.distrust = s.distrust, false
	events, s.inbox = s.inbox, nil
	l.merged = append(l.merged, events...)
	l.triggers = append(l.triggers, s.triggers...)
	s.triggers = nil
	if len(s.ops) == 0 {
		answers, s.answers = s.answers, nil
	}
	spill, s.spill = s.spill, false
	if spill {
		q.spilling--
	}
	s.urgent = false
	s.at, s.later = time.Time{}, false
	return events, answers, spill, distrust
}

// expect notes the operations a look starts, before any can answer.
func (q *queue) expect(s *slot, ops []employee.Op) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.ops = append(s.ops, ops...)
	s.since = time.Now()
}

// started lists the slot's operations not answered yet.
func (q *queue) started(s *slot) []employee.Op {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(s.ops)
}

// sleep makes the slot wait until at (or its next event).
func (q *queue) sleep(s *slot, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.at, s.since = at, time.Now()
}

// pause makes the look wait until ChatHub accepts the token again.
func (q *queue) pause(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.paused, s.since = true, time.Now()
}

// settle takes the messages the look holds, to acknowledge them: the
// record that merged them is saved.
func (q *queue) settle(l *look) (events []*held, triggers []Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	events, triggers = l.merged, l.triggers
	l.merged, l.triggers = nil, nil
	return events, triggers
}

// detach ends the slot's look; later says it was written down before it
// was done, and the employee is looked at again.
func (q *queue) detach(s *slot, later bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s.look != nil {
		q.looks--
	}
	s.look, s.later = nil, later
}

// unmerge ends the slot's look and puts the events and wake-ups it took
// back in front of the slot's, for a new look from the record as it is
// now.
func (q *queue) unmerge(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := s.look
	s.inbox = append(l.merged, s.inbox...)
	s.triggers = append(l.triggers, s.triggers...)
	s.look, s.answers = nil, nil
	q.looks--
}

// drain lets only the looks under way go on: the worker stops.
func (q *queue) drain() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.draining = true
	signal(q.avail)
}

// idle reports whether no look is under way.
func (q *queue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.looks == 0
}

// reset forgets everything: its messages were handed back.
func (q *queue) reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.slots, q.goOn, q.urgent, q.fresh, q.timers, q.gated = map[string]*slot{}, nil, nil, nil, nil, nil
	q.held, q.heldBytes, q.looks, q.onIt, q.draining, q.spilling = 0, 0, 0, 0, false, 0
}

// spillSome writes waiting work down if held messages near their bounds.
func (q *queue) spillSome() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.spillHeld(time.Now())
}
