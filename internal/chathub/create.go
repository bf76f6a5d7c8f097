package chathub

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// create makes the hires' operators in one synchronize call, and records
// in out what became of each. The creates are noted first (Intents), so
// that a worker that takes over after a crash looks for what the call may
// have made. A 400 for the call is split in halves until the bad items are
// alone, so that they do not sink their batch-mates.
func (e *Executor) create(ctx context.Context, org int, tasks []*task, out made) {
	if len(tasks) == 0 {
		return
	}
	// The call's slot is taken before its note is written, and the call
	// goes at once after it: a worker that takes over waits out the
	// note's time plus CHATHUB_TIMEOUT, and no call this one makes may
	// reach ChatHub after that.
	if err := e.client.limiter.Wait(ctx); err != nil {
		for _, t := range tasks {
			out[t] = outcome{err: err}
		}
		return
	}
	ctx = prepaid(ctx, false)
	key := ""
	if e.opts.Intents != nil {
		creates := make([]employee.Intent, len(tasks))
		for i, t := range tasks {
			creates[i] = employee.Intent{EmployeeID: t.op.EmployeeID, Name: t.op.Name}
		}
		var err error
		if key, err = e.opts.Intents.Intend(ctx, org, creates); err != nil {
			for _, t := range tasks {
				out[t] = outcome{err: err} // nothing is created without its note
			}
			return
		}
	}
	var mu sync.Mutex
	e.synchronize(ctx, tasks, func(t *task, o outcome) {
		mu.Lock()
		defer mu.Unlock()
		o.intent = key
		out[t] = o
	})
}

func (e *Executor) synchronize(ctx context.Context, tasks []*task, record func(*task, outcome)) {
	req := make([]NewOperator, len(tasks))
	for i, t := range tasks {
		req[i] = NewOperator{OrganizationID: t.op.Org, Name: t.op.Name}
	}
	created, err := e.client.Synchronize(ctx, req)
	if err != nil {
		if isRefusal(err) && len(tasks) > 1 {
			var wg sync.WaitGroup
			for _, half := range [][]*task{tasks[:len(tasks)/2], tasks[len(tasks)/2:]} {
				wg.Go(func() { e.synchronize(ctx, half, record) })
			}
			wg.Wait()
			return
		}
		// A lone bad item fails; any other trouble leaves the outcome of
		// the whole call unknown or undone, and each hire is tried again.
		for _, t := range tasks {
			record(t, outcome{err: err})
		}
		return
	}
	if e.opts.Synchronized != nil {
		e.opts.Synchronized(len(req))
	}
	e.log.Info().Int("organization_id", req[0].OrganizationID).Int("names", len(req)).Int("created", len(created)).Msg("synchronize")
	// Match by position and name: the order of the answer is not
	// documented. What does not match is looked for in a fresh list on the
	// next attempt.
	var who []*task
	var claims []employee.Claim
	var ops []Operator
	for i, t := range tasks {
		if i >= len(created) || created[i].ID <= 0 || !strings.EqualFold(strings.TrimSpace(created[i].Name), req[i].Name) {
			record(t, outcome{err: fmt.Errorf("%w: ChatHub's answer to synchronize does not match item %d", ErrOutcomeUnknown, i)})
			continue
		}
		who, ops = append(who, t), append(ops, created[i])
		claims = append(claims, employee.Claim{Org: t.op.Org, OperatorID: created[i].ID, EmployeeID: t.op.EmployeeID})
	}
	// The new operators are claimed all at once.
	ours, errs := e.claims.ClaimAll(ctx, claims)
	for i, t := range who {
		if errs[i] != nil || !ours[i] {
			record(t, outcome{err: fmt.Errorf("%w: cannot claim the new operator %d: %v", ErrOutcomeUnknown, ops[i].ID, errs[i])})
			continue
		}
		record(t, outcome{op: employee.Operator{ID: ops[i].ID, Org: t.op.Org, Status: ops[i].Status}})
	}
}
