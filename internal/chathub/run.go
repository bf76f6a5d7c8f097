package chathub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// setStatus makes one status change. When ChatHub refuses it, the
// organization is listed afresh: an operator deleted (and not to be
// restored) or removed by hand is gone, which is drift, not a failure of
// the employee's event.
func (e *Executor) setStatus(ctx context.Context, t *task) {
	err := e.client.ChangeStatus(ctx, t.op.Org, t.op.OperatorID, t.op.From, t.op.To)
	if err != nil && isRefusal(err) {
		if kind, gone := e.gone(ctx, t.op); gone {
			e.log.Warn().Str("employee_id", t.op.EmployeeID).Int("organization_id", t.op.Org).Int64("operator_id", t.op.OperatorID).
				Str("drift", kind).Msg("operator deleted or removed in ChatHub by hand")
			if e.opts.DriftFound != nil {
				e.opts.DriftFound(kind)
			}
			err = fmt.Errorf("%w: operator %d was %s in ChatHub by hand", employee.ErrGone, t.op.OperatorID, kind)
		}
	}
	t.done(answer(t.op, employee.Operator{}, err))
}

// gone reports whether ChatHub lists the operator deleted, or not at all.
func (e *Executor) gone(ctx context.Context, op employee.Op) (string, bool) {
	listed, ok, err := e.client.Lookup(ctx, op.Org, op.OperatorID)
	switch {
	case err != nil:
		return "", false
	case !ok:
		return "removed", true
	case listed.Status == StatusDeleted && op.To != StatusDeleted:
		return "deleted", true
	}
	return "", false
}

// ensure gives each hire of one organization its operator: one of its
// name that no employee claims is adopted (an earlier create whose answer
// was lost, or one made before the worker), and the others are created
// together. Each then gets the status its employee's state asks for.
func (e *Executor) ensure(ctx context.Context, org int, tasks []*task) {
	names := make([]string, len(tasks))
	fresh := false
	for i, t := range tasks {
		names[i], fresh = t.op.Name, fresh || t.op.Fresh
	}
	byName, err := e.client.FindByNames(ctx, org, names, fresh)
	if err != nil {
		for _, t := range tasks {
			t.done(answer(t.op, employee.Operator{}, err))
		}
		return
	}
	made := e.adopt(ctx, org, tasks, byName)
	var create []*task
	for _, t := range tasks {
		if _, ok := made[t]; ok {
			continue
		}
		if t.op.NoCreate {
			made[t] = outcome{} // nothing was made: nothing to find
			continue
		}
		create = append(create, t)
	}
	e.create(ctx, org, create, made)
	var wg sync.WaitGroup
	for t, res := range made {
		wg.Go(func() { e.settle(ctx, t, res) })
	}
	wg.Wait()
}

// made is what became of each hire: its operator, or why it has none.
type made map[*task]outcome

type outcome struct {
	op  employee.Operator
	err error
	// intent is the note kept while the create was under way.
	intent string
}

// adopt claims for each hire the first operator of its name that is not
// deleted and not another employee's. The claims go out together; a hire
// whose claim is lost tries its next candidate.
func (e *Executor) adopt(ctx context.Context, org int, tasks []*task, byName map[string][]Operator) made {
	out := made{}
	taken := map[int64]bool{}
	todo := tasks
	for len(todo) > 0 {
		var who []*task
		var claims []employee.Claim
		var found []Operator
		for _, t := range todo {
			for _, op := range byName[NameKey(t.op.Name)] {
				if taken[op.ID] || op.Status == StatusDeleted || !strings.EqualFold(strings.TrimSpace(op.Name), strings.TrimSpace(t.op.Name)) {
					continue
				}
				taken[op.ID] = true
				who, found = append(who, t), append(found, op)
				claims = append(claims, employee.Claim{Org: org, OperatorID: op.ID, EmployeeID: t.op.EmployeeID})
				break
			}
		}
		todo = nil
		if len(claims) == 0 {
			break
		}
		ours, errs := e.claims.ClaimAll(ctx, claims)
		for i, t := range who {
			switch {
			case errs[i] != nil:
				out[t] = outcome{err: fmt.Errorf("cannot claim operator %d: %w", found[i].ID, errs[i])}
			case !ours[i]:
				todo = append(todo, t) // another employee has it
			default:
				out[t] = outcome{op: employee.Operator{ID: found[i].ID, Org: org, Status: found[i].Status}}
				if e.opts.Adopted != nil {
					e.opts.Adopted()
				}
				e.log.Info().Str("employee_id", t.op.EmployeeID).Int("organization_id", org).Int64("operator_id", found[i].ID).
					Msg("adopted existing operator")
			}
		}
	}
	return out
}

// settle gives a hire's operator the status its state asks for, and
// answers the hire.
func (e *Executor) settle(ctx context.Context, t *task, res outcome) {
	if res.err == nil && res.op.ID != 0 && res.op.Status != t.op.To {
		if err := e.client.ChangeStatus(ctx, t.op.Org, res.op.ID, res.op.Status, t.op.To); err != nil {
			res.err = err
		} else {
			res.op.Status = t.op.To
		}
	}
	a := answer(t.op, res.op, res.err)
	a.Intent = res.intent
	t.done(a)
}

// answer is the domain's answer to op.
func answer(op employee.Op, made employee.Operator, err error) employee.Answer {
	return employee.Answer{Op: op, Operator: made, Err: classify(err), RetryAfter: RetryAfter(err)}
}

func isRefusal(err error) bool {
	return errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalid)
}
