package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chathub-operator-worker/worker/internal/chathub"
)

// ready reports whether the employee is this worker's to drive now.
func (e *employee) ready() bool { return e.acting && e.err == nil && e.failure == "" }

// byOrg groups the ready employees that match keep by organization.
func byOrg(emps []*employee, keep func(*employee) bool) map[int][]*employee {
	groups := map[int][]*employee{}
	for _, e := range emps {
		if e.ready() && keep(e) {
			groups[e.rec.OrganizationID] = append(groups[e.rec.OrganizationID], e)
		}
	}
	return groups
}

// eachOrg runs fn for every organization's group at once; the shared rate
// limiter paces the calls.
func eachOrg(groups map[int][]*employee, fn func(org int, emps []*employee)) {
	var wg sync.WaitGroup
	for org, emps := range groups {
		wg.Go(func() { fn(org, emps) })
	}
	wg.Wait()
}

// resolve finds, before anything is created, the operators that already
// exist for employees with a pending create: one made by an earlier attempt
// whose answer was lost, or one that was in ChatHub before the worker (the
// API docs' advice against duplicates). It adopts an operator of the same
// name that is not deleted and belongs to no other employee, claiming it
// in the store so that no two employees share it.
func (p *Processor) resolve(ctx context.Context, emps []*employee) {
	groups := byOrg(emps, func(e *employee) bool { return e.rec.Pending != nil })
	eachOrg(groups, func(org int, group []*employee) {
		// After an unknown outcome the cached list may predate the create.
		if slices.ContainsFunc(group, func(e *employee) bool { return e.hadPending }) {
			p.hub.Invalidate(org)
		}
		ops, err := p.hub.ListOperators(ctx, org)
		if err != nil {
			for _, e := range group {
				p.fail(e, "list the organization's operators", err)
			}
			return
		}
		// Employees whose own create may have happened choose first.
		slices.SortStableFunc(group, func(a, b *employee) int {
			switch {
			case a.hadPending && !b.hadPending:
				return -1
			case b.hadPending && !a.hadPending:
				return 1
			}
			return 0
		})
		byName := chathub.IndexByName(ops)
		taken := map[int64]bool{}
		for _, e := range group {
			p.adopt(ctx, e, byName, taken)
		}
	})
}

// adopt gives the employee the first free operator of their name, if any.
func (p *Processor) adopt(ctx context.Context, e *employee, byName map[string][]chathub.Operator, taken map[int64]bool) {
	for _, op := range byName[chathub.NameKey(e.rec.Pending.Name)] {
		if op.Status == chathub.StatusDeleted || taken[op.ID] || !strings.EqualFold(strings.TrimSpace(op.Name), e.rec.Pending.Name) {
			continue
		}
		taken[op.ID] = true
		ours, err := p.store.Claim(ctx, e.rec.OrganizationID, op.ID, e.id)
		if err != nil {
			e.err = fmt.Errorf("cannot claim operator %d: %w", op.ID, err)
			return
		}
		if !ours {
			continue
		}
		e.rec.OperatorID, e.rec.OperatorStatus, e.rec.Pending = op.ID, op.Status, nil
		p.cfg.Metrics.Adopted()
		p.log.Info().Str("employee_id", e.id).Int("organization_id", e.rec.OrganizationID).
			Int64("operator_id", op.ID).Bool("after_unknown_outcome", e.hadPending).Msg("adopted existing operator")
		return
	}
	// Nothing to adopt. A pending create the state no longer needs was
	// never made, so it is dropped.
	if !e.rec.needsCreate() {
		e.rec.Pending = nil
	}
}

// create makes the operators still missing, one synchronize call per
// organization and BatchMaxSize names.
func (p *Processor) create(ctx context.Context, emps []*employee) {
	groups := byOrg(emps, func(e *employee) bool { return e.rec.Pending != nil && e.rec.needsCreate() })
	eachOrg(groups, func(org int, group []*employee) {
		for chunk := range slices.Chunk(group, p.cfg.BatchMaxSize) {
			p.synchronize(ctx, chunk)
		}
	})
}

// synchronize creates one chunk. A 400 for the chunk is split in halves
// until the bad items are alone, so they do not sink their batch-mates.
func (p *Processor) synchronize(ctx context.Context, chunk []*employee) {
	req := make([]chathub.NewOperator, len(chunk))
	for i, e := range chunk {
		req[i] = chathub.NewOperator{OrganizationID: e.rec.OrganizationID, Name: e.rec.Pending.Name}
	}
	p.cfg.Metrics.SynchronizeBatch(len(req))
	created, err := p.hub.Synchronize(ctx, req)
	if err != nil {
		refused := isRefusal(err)
		switch {
		case refused && len(chunk) > 1:
			mid := len(chunk) / 2
			p.synchronize(ctx, chunk[:mid])
			p.synchronize(ctx, chunk[mid:])
		case refused:
			// ChatHub refused it outright, so nothing was created.
			chunk[0].rec.Pending = nil
			p.fail(chunk[0], "create the operator", err)
		default:
			// The create stays pending; the next attempt lists first.
			for _, e := range chunk {
				p.fail(e, "create the operator", err)
			}
		}
		return
	}
	p.log.Info().Int("organization_id", req[0].OrganizationID).Int("names", len(req)).
		Int("created", len(created)).Msg("synchronize")
	// Match by position and name: the order of the answer is not
	// documented. What does not match stays pending and is adopted from a
	// fresh list on the next attempt.
	var claims []Claim
	var claimed []int // positions in chunk
	for i, e := range chunk {
		if i >= len(created) || created[i].ID <= 0 ||
			!strings.EqualFold(strings.TrimSpace(created[i].Name), req[i].Name) {
			e.err = fmt.Errorf("%w: ChatHub's answer to synchronize does not match item %d", chathub.ErrOutcomeUnknown, i)
			continue
		}
		claims = append(claims, Claim{OrganizationID: e.rec.OrganizationID, OperatorID: created[i].ID, EmployeeID: e.id})
		claimed = append(claimed, i)
	}
	// The new operators are claimed all at once.
	ours, errs := p.store.ClaimAll(ctx, claims)
	for i, pos := range claimed {
		e, op := chunk[pos], created[pos]
		if errs[i] != nil || !ours[i] {
			e.err = fmt.Errorf("cannot claim the new operator %d: %w", op.ID, errs[i])
			continue
		}
		e.rec.OperatorID, e.rec.OperatorStatus, e.rec.Pending = op.ID, op.Status, nil
	}
}

// setStatus sets the operator's status to what the state asks for: the
// leave status after a create, a change, a reactivation or a deletion.
// After a lease left behind, the recorded status is not trusted and the
// status is set again.
func (p *Processor) setStatus(ctx context.Context, e *employee) {
	if !e.ready() || e.rec.Pending != nil || e.rec.OperatorID == 0 || (e.rec.converged() && !e.stale) {
		return
	}
	want, _ := wantStatus(e.rec.State())
	if err := p.hub.SetStatus(ctx, e.rec.OperatorID, want); err != nil {
		p.fail(e, fmt.Sprintf("set operator %d to %s", e.rec.OperatorID, want), err)
		return
	}
	e.rec.OperatorStatus = want
}

func isRefusal(err error) bool {
	return errors.Is(err, chathub.ErrPermanent) || errors.Is(err, chathub.ErrInvalid)
}
