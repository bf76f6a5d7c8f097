package handlers

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// queue is the pipeline's keyed queue, in the manner of client-go's
// workqueue: it holds employees, not copies of records. However many
// events arrive for an employee, they wait in one slot, and an employee is
// handed to one look at a time. A slot becomes ready when there is
// something to look at: new events (once the intake has taken in what
// the stream held when they arrived, so that a burst is merged whole
// before ChatHub is driven), a wake-up, the answers to its operations,
// or the time it asked to be looked at again.
//
// Memory is bounded twice: by the messages held (HoldMax, HoldBytes) and
// by the looks under way (LooksMax). Past either, looks that wait (for
// ChatHub, a time, the intake) are written down and let go: their record
// is saved, their messages acknowledged, and their employee looked at
// again from the record when there is something to do.
type queue struct {
	cfg Config
	mu  sync.Mutex
	// slots holds every employee with something pending.
	slots map[string]*slot
	// goOn are the slots whose looks go on (or that must be written
	// down); urgent those that start one for an event that takes access
	// away, or a wake-up; fresh those that start one for other events,
	// while fewer than LooksMax are under way.
	goOn, urgent, fresh []*slot
	looks               int
	// gated are the slots whose events wait for the intake to catch up,
	// since gatedAt; mixed: they hold more than hires of one event each.
	// onIt counts the slots a worker has.
	gated   []*slot
	gatedAt time.Time
	mixed   bool
	onIt    int
	// timers holds the slots waiting for a time.
	timers timerHeap
	// held counts the messages held unacknowledged, and their bytes;
	// spilling counts the slots asked to spill that have not begun to.
	held, heldBytes, spilling int
	// draining: the worker stops; only looks under way go on.
	draining bool
	// avail wakes a look worker; roomed the intake; tick the timer loop.
	avail, roomed, tick chan struct{}
}

// slot is one employee's place in the queue.
type slot struct {
	id string
	// inbox holds events taken in and not merged yet; triggers the
	// wake-ups not yet acknowledged.
	inbox    []*held
	triggers []Message
	// look is the look under way, if any.
	look *look
	// later: a look was written down before it was done; the employee is
	// looked at again when nothing else brings them.
	later bool
	// ops are the operations started and not answered; answers those
	// answered and not yet looked at.
	ops     []employee.Op
	answers []employee.Answer
	// at is a time to look again; paused: ChatHub refuses the token;
	// since is when the look began to wait.
	at, since time.Time
	paused    bool
	// spill asks the next step to write the look down and let it go.
	spill bool
	// onIt: a worker has the slot; queued: it is in a ready list;
	// committing: a committer ends its look.
	onIt, queued, committing bool
	// gated: its new events wait for the intake to take in the rest;
	// urgent: one of them takes access away, or a wake-up came.
	gated, urgent bool
	// distrust: work on the employee may have been under way when a
	// worker stopped (a message delivered again, unfinished work taken
	// over): the next look does not trust the operators' statuses.
	distrust bool
	// hints are creates a worker that stopped may have made.
	hints []hintOf
	index int // in timers
}

func newQueue(cfg Config) *queue {
	return &queue{cfg: cfg, slots: map[string]*slot{},
		avail: make(chan struct{}, 1), roomed: make(chan struct{}, 1), tick: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// slot returns the employee's slot, made if needed; q.mu is held.
func (q *queue) slot(id string) *slot {
	s := q.slots[id]
	if s == nil {
		s = &slot{id: id, index: -1}
		q.slots[id] = s
	}
	return s
}

// wants reports whether the slot has something to look at now.
func (s *slot) wants(now time.Time) bool {
	switch {
	case s.onIt || s.queued || s.committing:
		return false
	case s.spill:
		return s.look != nil || len(s.inbox) > 0
	case s.paused:
		return false
	case len(s.answers) > 0 && len(s.ops) == 0:
		return true
	case len(s.ops) > 0:
		return false
	case len(s.triggers) > 0:
		// A slot pausing after trouble (its record could not be read)
		// waits out its pause, whatever wakes it meanwhile.
		return s.look != nil || !s.at.After(now)
	case !s.at.IsZero() && s.at.After(now):
		// Waiting for a time (the guard, a pause after trouble): a look's
		// new events are looked at early.
		return s.look != nil && len(s.inbox) > 0 && !s.gated
	case s.look != nil:
		return true // a look that goes on: its time came, or it resumed
	}
	return (len(s.inbox) > 0 || s.later) && !s.gated
}

// poke makes the slot ready if it wants to be; q.mu is held.
func (q *queue) poke(s *slot, now time.Time) {
	if s.wants(now) {
		s.queued = true
		switch {
		case s.look != nil || s.spill || len(s.answers) > 0:
			q.goOn = append(q.goOn, s)
		case s.urgent:
			q.urgent = append(q.urgent, s)
		default:
			q.fresh = append(q.fresh, s)
		}
		signal(q.avail)
		return
	}
	// Only a time still ahead is waited for: a slot whose time came and
	// that cannot go now (queued already, its operations under way) is
	// poked again when that changes; put back on the timers, the timer
	// loop would take it off and put it back for ever, holding q.mu.
	if s.at.After(now) && s.index < 0 && !s.onIt {
		heap.Push(&q.timers, s)
		signal(q.tick)
	}
}

// next hands out a ready slot, waiting for one until ctx is done: a look
// that goes on first, then a new one that takes access away (whatever
// the looks under way: a deactivation never waits behind a wave of
// hires), then another new one while fewer than LooksMax are under way.
// Once the worker stops, only looks under way go on.
func (q *queue) next(ctx context.Context) *slot {
	for ctx.Err() == nil {
		q.mu.Lock()
		if q.draining {
			q.urgent, q.fresh = unqueue(q.urgent), unqueue(q.fresh)
		}
		var s *slot
		switch {
		case len(q.goOn) > 0:
			s, q.goOn = q.goOn[0], q.goOn[1:]
		case len(q.urgent) > 0:
			s, q.urgent = q.urgent[0], q.urgent[1:]
		case len(q.fresh) > 0 && q.looks < q.cfg.LooksMax:
			s, q.fresh = q.fresh[0], q.fresh[1:]
		}
		if s != nil {
			s.queued, s.onIt = false, true
			q.onIt++
			if s.index >= 0 {
				heap.Remove(&q.timers, s.index)
			}
			if len(q.goOn)+len(q.urgent)+len(q.fresh) > 0 {
				signal(q.avail)
			}
			q.mu.Unlock()
			return s
		}
		q.mu.Unlock()
		select {
		case <-q.avail:
		case <-ctx.Done():
		}
	}
	return nil // the looks end, whatever is ready
}

// unqueue takes the slots out of a ready list, and returns it empty.
func unqueue(list []*slot) []*slot {
	for _, s := range list {
		s.queued = false
	}
	return nil
}

// release ends a worker's turn on the slot.
func (q *queue) release(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.onIt = false
	q.onIt--
	q.rest(s)
}

// committing notes that a committer ends the slot's look; committed that
// it did (or that the look waits, or starts over).
func (q *queue) committing(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.committing = true
}

func (q *queue) committed(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.committing = false
	q.rest(s)
}

// rest forgets a slot with nothing left, or makes it ready or waiting;
// q.mu is held.
func (q *queue) rest(s *slot) {
	if s.onIt || s.committing {
		return
	}
	if s.look == nil && !s.later && len(s.inbox)+len(s.triggers)+len(s.answers)+len(s.ops) == 0 && !s.paused {
		delete(q.slots, s.id)
		return
	}
	q.poke(s, time.Now())
}
