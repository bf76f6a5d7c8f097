package broker

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
)

// slot is one employee waiting for the reconciler: every message that
// asked for a look at them, coalesced into one change.
type slot struct {
	change handlers.Change
	msgs   []jetstream.Msg
	// wake: a wake-up is among the messages (a scheduled change or a
	// retry is due), which no intake backlog holds back.
	wake     bool
	inflight bool
}

// pending is the reconciler's keyed queue: one slot per employee however
// many messages arrived. Slots not in a round wait in order, first come
// first served; a slot back from a round goes to the front.
type pending struct {
	slots map[string]*slot
	order []*slot
	// resting are slots this worker looks at again later.
	resting []resting
	msgs    int
	// settled holds, per employee whose round saved a record that asks
	// for nothing, that record's revision: its notification, still on the
	// way, needs no look.
	settled map[string]uint64
}

// settledMax bounds settled: entries whose notification went to another
// worker are never claimed, and forgetting them only costs a look each.
const settledMax = 4096

type resting struct {
	s  *slot
	at time.Time
}

func newPending() *pending {
	return &pending{slots: map[string]*slot{}, settled: map[string]uint64{}}
}

// needless reports whether a record change is one a round has settled
// already: the notification of a revision at or below one saved with
// nothing left to do. The saved revision's own, or a newer one, ends the
// memory of it.
func (p *pending) needless(c handlers.Change) bool {
	saved, ok := p.settled[c.EmployeeID]
	if !ok || c.Revision == 0 {
		return false
	}
	if c.Revision >= saved {
		delete(p.settled, c.EmployeeID)
	}
	return c.Revision <= saved
}

// add files a message under its employee. A record change newer than the
// one held replaces it; a wake-up only marks the slot.
func (p *pending) add(m jetstream.Msg, c handlers.Change, wake bool) {
	s := p.slots[c.EmployeeID]
	if s == nil {
		s = &slot{change: c}
		p.slots[c.EmployeeID] = s
		p.order = append(p.order, s)
	} else if c.Value != nil && c.Revision > s.change.Revision {
		s.change.Value, s.change.Revision = c.Value, c.Revision
	}
	s.wake = s.wake || wake
	s.msgs = append(s.msgs, m)
	p.msgs++
}

// take removes up to n waiting slots, wake-ups only when onlyWakes, and
// marks them in flight. It returns the slots with the messages they hold
// now.
func (p *pending) take(n int, onlyWakes bool) ([]*slot, [][]jetstream.Msg) {
	var slots []*slot
	var msgs [][]jetstream.Msg
	rest := p.order[:0]
	for _, s := range p.order {
		if len(slots) == n || (onlyWakes && !s.wake) {
			rest = append(rest, s)
			continue
		}
		s.inflight = true
		if s.wake {
			// A wake-up asks for a look at the record as it is now. The
			// change held may be older (another worker's round saved
			// since, and its notification went elsewhere); judged on it,
			// the round would find that round's lease and hand the
			// wake-up back until the lease ran out, or lose its write
			// and drop the wake-up.
			s.change.Value, s.change.Revision = nil, 0
		}
		if s.change.Since.IsZero() {
			// Its first round: from now on it waits for the reconciler,
			// not for the intake.
			s.change.Since = time.Now()
		}
		slots, msgs = append(slots, s), append(msgs, s.msgs)
		p.msgs -= len(s.msgs)
		s.msgs, s.wake = nil, false
	}
	clear(p.order[len(rest):])
	p.order = rest
	return slots, msgs
}

// onlyDeferred reports whether every waiting slot was left over by an
// earlier round.
func (p *pending) onlyDeferred() bool {
	for _, s := range p.order {
		if !s.change.Deferred {
			return false
		}
	}
	return true
}

// waiting counts the slots that could go in a round now.
func (p *pending) waiting() int { return len(p.order) }

// done ends a slot's round: its deferred messages go back in front of the
// ones that arrived meanwhile. Changes older than the revision the round
// saved are settled already (the round's own lease write, mostly) and
// returned to be acknowledged, and so is the saved revision's own when
// the round found nothing left to do (settled). It reports whether the
// slot waits again; one without messages is forgotten.
func (p *pending) done(s *slot, deferred []jetstream.Msg, saved uint64, settled bool) (again bool, stale []jetstream.Msg) {
	s.inflight = false
	var keep []jetstream.Msg
	s.change.Value, s.change.Revision = nil, 0
	for _, m := range append(deferred, s.msgs...) {
		c, wake, _ := changeOf(m)
		switch {
		case wake:
			s.wake = true
		case c.Revision < saved || settled && c.Revision == saved:
			stale = append(stale, m)
			continue
		case c.Revision > s.change.Revision:
			s.change.Value, s.change.Revision = c.Value, c.Revision
		}
		keep = append(keep, m)
	}
	p.msgs += len(deferred) - len(stale)
	s.change.Deferred = s.change.Deferred || len(deferred) > 0
	s.msgs = keep
	if len(s.msgs) == 0 {
		delete(p.slots, s.change.EmployeeID)
		if settled && saved != 0 {
			if len(p.settled) >= settledMax {
				clear(p.settled)
			}
			p.settled[s.change.EmployeeID] = saved
		}
		return false, stale
	}
	return true, stale
}

// requeue puts slots back from a round in front of the waiting ones.
func (p *pending) requeue(slots []*slot) {
	if len(slots) > 0 {
		p.order = append(slots, p.order...)
	}
}

// rest keeps a slot out of rounds until at.
func (p *pending) rest(s *slot, at time.Time) {
	s.inflight = true
	p.resting = append(p.resting, resting{s, at})
}

// wake requeues the resting slots whose time has come and returns when the
// next one's comes (zero when none rests).
func (p *pending) wake(now time.Time) time.Time {
	var due []*slot
	var next time.Time
	keep := p.resting[:0]
	for _, r := range p.resting {
		if !r.at.After(now) {
			r.s.inflight = false
			due = append(due, r.s)
			continue
		}
		if next.IsZero() || r.at.Before(next) {
			next = r.at
		}
		keep = append(keep, r)
	}
	clear(p.resting[len(keep):])
	p.resting = keep
	p.requeue(due)
	return next
}

// all lists every message held, in a round or not.
func (p *pending) all() []jetstream.Msg {
	var out []jetstream.Msg
	for _, s := range p.slots {
		out = append(out, s.msgs...)
	}
	return out
}

// changeOf reads which employee a message is about: a record change on
// $KV.<bucket>.emp.<token> (with the record and its revision), or a
// wake-up on <stream>.wake.<token>. A deleted record has nothing to
// reconcile.
func changeOf(m jetstream.Msg) (c handlers.Change, wake, ok bool) {
	subj := m.Subject()
	token := subj[strings.LastIndexByte(subj, '.')+1:]
	id, ok := kvstore.EmployeeOf(token)
	if !ok {
		return c, false, false
	}
	c.EmployeeID = id
	if !strings.HasPrefix(subj, "$KV.") {
		return c, true, true
	}
	if op := m.Headers().Get("KV-Operation"); op == "DEL" || op == "PURGE" {
		return c, false, false
	}
	c.Value = m.Data()
	if md, err := m.Metadata(); err == nil {
		c.Revision = md.Sequence.Stream
	}
	return c, false, true
}
