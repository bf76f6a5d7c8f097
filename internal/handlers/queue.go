package handlers

import (
	"container/heap"
	"context"
	"slices"
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
type queue struct {
	cfg Config
	mu  sync.Mutex
	// slots holds every employee with something pending.
	slots map[string]*slot
	ready []*slot
	// timers holds the slots waiting for a time.
	timers timerHeap
	// held counts the messages held unacknowledged, and their bytes.
	held, heldBytes int
	// open: the intake took in what the stream held (or cannot take more
	// in): new events need not wait for more.
	open bool
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
	// look is the look under way, if any: waiting for answers (pending),
	// for a time (at), or for ChatHub to accept the token (paused).
	look    *look
	pending int
	answers []employee.Answer
	at      time.Time
	paused  bool
	// spill asks the next step to write the look down and let its
	// messages go: too many messages are held.
	spill bool
	// onIt: a worker has the slot; queued: it is in the ready list.
	onIt, queued bool
	// gated: its new events wait for the intake to take in the rest.
	gated bool
	// distrust: work on the employee may have been under way when a
	// worker stopped (a message delivered again, unfinished work taken
	// over): the next look does not trust the operators' statuses.
	distrust bool
	// hints are creates a worker that stopped may have made.
	hints []hintOf
	index int // in timers
}

func newQueue(cfg Config) *queue {
	return &queue{cfg: cfg, slots: map[string]*slot{}, open: true,
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
	case s.onIt || s.queued:
		return false
	case s.look != nil && s.spill:
		return true
	case s.paused || s.pending > 0:
		return false
	case len(s.answers) > 0 || len(s.triggers) > 0:
		return true
	case !s.at.IsZero() && s.at.After(now):
		// Waiting for a time (the guard, a pause after trouble): new
		// events are looked at early.
		return s.look != nil && len(s.inbox) > 0 && !s.gated
	case s.look != nil:
		return true // a look that goes on: its time came, or it resumed
	}
	return len(s.inbox) > 0 && !s.gated
}

// poke makes the slot ready if it wants to be; q.mu is held.
func (q *queue) poke(s *slot, now time.Time) {
	if s.wants(now) {
		s.queued = true
		q.ready = append(q.ready, s)
		signal(q.avail)
		return
	}
	if !s.at.IsZero() && s.index < 0 && !s.onIt {
		heap.Push(&q.timers, s)
		signal(q.tick)
	}
}

// next hands out a ready slot, waiting for one until ctx is done.
func (q *queue) next(ctx context.Context) *slot {
	for {
		q.mu.Lock()
		if q.draining {
			q.ready = slices.DeleteFunc(q.ready, func(s *slot) bool {
				s.queued = s.queued && s.look != nil
				return s.look == nil
			})
		}
		if len(q.ready) > 0 {
			s := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			s.queued, s.onIt = false, true
			if s.index >= 0 {
				heap.Remove(&q.timers, s.index)
			}
			if len(q.ready) > 0 {
				signal(q.avail)
			}
			q.mu.Unlock()
			return s
		}
		q.mu.Unlock()
		select {
		case <-q.avail:
		case <-ctx.Done():
			return nil
		}
	}
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
	for _, s := range q.slots {
		if s.look != nil {
			return false
		}
	}
	return true
}

// reset forgets everything: its messages were handed back.
func (q *queue) reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.slots, q.ready, q.timers = map[string]*slot{}, nil, nil
	q.held, q.heldBytes, q.draining, q.open = 0, 0, false, true
}

// release ends a worker's turn on the slot, and forgets a slot with
// nothing left.
func (q *queue) release(s *slot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s.onIt = false
	if s.look == nil && len(s.inbox) == 0 && len(s.triggers) == 0 && len(s.answers) == 0 {
		delete(q.slots, s.id)
		return
	}
	q.poke(s, time.Now())
}

// timerLoop makes slots ready when their time comes, until ctx is done.
func (q *queue) timerLoop(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		q.mu.Lock()
		now := time.Now()
		for q.timers.Len() > 0 && !q.timers[0].at.After(now) {
			s := heap.Pop(&q.timers).(*slot)
			q.poke(s, now)
		}
		if q.timers.Len() > 0 {
			t.Reset(q.timers[0].at.Sub(now))
		}
		q.mu.Unlock()
		select {
		case <-t.C:
		case <-q.tick:
		case <-ctx.Done():
			return
		}
	}
}

// timerHeap orders slots by the time they wait for.
type timerHeap []*slot

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	s := x.(*slot)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *timerHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.index = -1
	return s
}
