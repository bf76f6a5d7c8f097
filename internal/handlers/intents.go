package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// intents keeps the notes of the creates under way (one per synchronize
// call, in the store) until every employee's record says what came of
// their create; the executor makes them through it.
type intents struct {
	p  *Pipeline
	mu sync.Mutex
	// open holds, per note, the employees whose records do not say yet.
	open map[string]map[string]bool
}

// Intend notes one call's creates, and remembers whose records must say
// what came of them before the note goes.
func (in *intents) Intend(ctx context.Context, org int, creates []employee.Intent) (string, error) {
	key, err := in.p.ports.Intents.Intend(ctx, org, creates)
	if err != nil {
		return "", err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	set := map[string]bool{}
	for _, c := range creates {
		set[c.EmployeeID] = true
	}
	in.open[key] = set
	return key, nil
}

// Forget and Intents are the store's.
func (in *intents) Forget(ctx context.Context, key string) error {
	return in.p.ports.Intents.Forget(ctx, key)
}
func (in *intents) Intents(ctx context.Context, each func(string, int, time.Time, []employee.Intent)) error {
	return in.p.ports.Intents.Intents(ctx, each)
}

// saved tells that the employee's record now says what came of the
// creates of the notes keys; a note every employee of which is saved is
// dropped.
func (in *intents) saved(ctx context.Context, employeeID string, keys []string) {
	for _, key := range keys {
		in.mu.Lock()
		set := in.open[key]
		delete(set, employeeID)
		done := set != nil && len(set) == 0
		if done {
			delete(in.open, key)
		}
		in.mu.Unlock()
		if done {
			if err := in.p.ports.Intents.Forget(ctx, key); err != nil {
				in.p.log.Warn().Err(err).Msg("cannot drop the note of creates; the next worker to lead looks for them again")
			}
		}
	}
}

// recover takes over the notes a worker that stopped left: each employee
// of each is looked at, knowing that their create may have been made, or
// may still be under way at ChatHub until the call's timeout after the
// note was written.
func (in *intents) recover(ctx context.Context) {
	err := in.p.ports.Intents.Intents(ctx, func(key string, org int, at time.Time, creates []employee.Intent) {
		in.mu.Lock()
		set := map[string]bool{}
		for _, c := range creates {
			set[c.EmployeeID] = true
		}
		in.open[key] = set
		in.mu.Unlock()
		for _, c := range creates {
			in.p.queue.hint(c.EmployeeID, &employee.Pending{Org: org, Name: c.Name, Until: at.Add(in.p.cfg.CallTimeout)}, key)
		}
	})
	if err != nil && ctx.Err() == nil {
		in.p.log.Warn().Err(err).Msg("cannot read the notes of creates a worker left")
	}
}

// hint asks for a look at the employee with a create that may have been
// made: unless the record says the employee has an operator in that
// organization, the look looks for it.
func (q *queue) hint(id string, p *employee.Pending, key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.slot(id)
	s.hints = append(s.hints, hintOf{p, key})
	s.distrust = true
	s.triggers = append(s.triggers, nil)
	q.poke(s, time.Now())
}

type hintOf struct {
	pending *employee.Pending
	key     string
}

// takeHints hands a look the slot's hints once its record has a history:
// for an employee whose events were never saved, they wait for those
// events, which come again.
func (q *queue) takeHints(s *slot, known bool) []hintOf {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !known {
		return nil
	}
	h := s.hints
	s.hints = nil
	return h
}

// applyHints lays the hints over the look's record, and keeps their keys
// for once it is saved.
func (l *look) applyHints(hints []hintOf) {
	for _, h := range hints {
		l.intents = append(l.intents, h.key)
		if l.rec.Pending == nil && (l.rec.Operator.ID == 0 || l.rec.Operator.Org != h.pending.Org) {
			l.rec.Pending, l.changed = h.pending, true
		}
	}
}
