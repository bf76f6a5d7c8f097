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
}

// begin hands a step what came for the slot since the last one: its new
// events (from then on held by the look), the wake-ups, the answers, and
// whether to spill.
func (q *queue) begin(s *slot) (events []*held, answers []employee.Answer, spill, distrust bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := s.look
	distrust, s.distrust = s.distrust, false
	events, s.inbox = s.inbox, nil
	l.merged = append(l.merged, events...)
	l.triggers = append(l.triggers, s.triggers...)
	s.triggers = nil
	answers, s.answers = s.answers, nil
	spill, s.spill = s.spill, false
	s.at = time.Time{}
	return events, answers, spill, distrust
}

// expect notes the operations a look starts, before any can answer.
func (q *queue) expect(s *slot, ops []employee.Op) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.pending += len(ops)
	s.look.ops = append(s.look.ops, ops...)
}

// started lists the operations of the slot's look not answered yet.
func (q *queue) started(s *slot) []employee.Op {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s.look == nil {
		return nil
	}
	return slices.Clone(s.look.ops)
}

// sleep makes the look wait until at (or its next event).
func (q *queue) sleep(s *slot, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.at = at
}

// retryLater makes a slot with no look yet try again at at.
func (q *queue) retryLater(s *slot, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.at = at
}

// pause makes the look wait until ChatHub accepts the token again.
func (q *queue) pause(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.paused = true
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

// detach ends the slot's look.
func (q *queue) detach(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.look = nil
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
}
