package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// ready reports whether the job still has ChatHub work to do.
func (j *job) ready() bool { return j.err == nil && j.failure == "" }

// byOrg groups the ready jobs that match keep by organization.
func byOrg(jobs []*job, keep func(*job) bool) map[int][]*job {
	groups := map[int][]*job{}
	for _, j := range jobs {
		if j.ready() && keep(j) {
			groups[j.rec.OrganizationID] = append(groups[j.rec.OrganizationID], j)
		}
	}
	return groups
}

// eachOrg runs fn for every organization's group at once; the shared rate
// limiter paces the calls.
func eachOrg(groups map[int][]*job, fn func(org int, jobs []*job)) {
	var wg sync.WaitGroup
	for org, jobs := range groups {
		wg.Go(func() { fn(org, jobs) })
	}
	wg.Wait()
}

// adopt finds, before anything is created, the operators that already
// exist for employees with a pending create: one made by an earlier attempt
// whose answer was lost, or one that was in ChatHub before the worker (the
// API docs' advice against duplicates). It adopts an operator of the same
// name that is not deleted and belongs to no other employee, claiming it
// in the store so that no two employees share it.
func (rc *Reconciler) adopt(ctx context.Context, jobs []*job) {
	groups := byOrg(jobs, func(j *job) bool { return j.rec.Pending != nil })
	eachOrg(groups, func(org int, group []*job) {
		// After an unknown outcome the cached index may predate the create.
		fresh := slices.ContainsFunc(group, func(j *job) bool { return j.prior })
		names := make([]string, len(group))
		for i, j := range group {
			names[i] = j.rec.Pending.Name
		}
		byName, err := rc.hub.FindByNames(ctx, org, names, fresh)
		if err != nil {
			for _, j := range group {
				j.fail("list the organization's operators", err)
			}
			return
		}
		// Employees whose own create may have happened choose first.
		slices.SortStableFunc(group, func(a, b *job) int {
			switch {
			case a.prior && !b.prior:
				return -1
			case b.prior && !a.prior:
				return 1
			}
			return 0
		})
		rc.adoptByName(ctx, org, group, byName)
		for _, j := range group {
			// Nothing to adopt. A pending create the state no longer
			// needs was never made, so it is dropped.
			if j.rec.Pending != nil && !j.rec.NeedsCreate() {
				j.rec.Pending = nil
			}
		}
	})
}

// adoptByName claims for each job the first operator of its name that is
// not deleted and not another employee's. The claims go out together; a
// job whose claim is lost tries its next candidate.
func (rc *Reconciler) adoptByName(ctx context.Context, org int, group []*job, byName map[string][]chathub.Operator) {
	taken := map[int64]bool{}
	todo := group
	for len(todo) > 0 {
		var jobs []*job
		var claims []Claim
		var found []chathub.Operator
		for _, j := range todo {
			for _, op := range byName[chathub.NameKey(j.rec.Pending.Name)] {
				if taken[op.ID] || !strings.EqualFold(strings.TrimSpace(op.Name), j.rec.Pending.Name) {
					continue
				}
				taken[op.ID] = true
				jobs, found = append(jobs, j), append(found, op)
				claims = append(claims, Claim{OrganizationID: org, OperatorID: op.ID, EmployeeID: j.change.EmployeeID})
				break
			}
		}
		todo = nil
		ours, errs := rc.store.ClaimAll(ctx, claims)
		for i, j := range jobs {
			switch {
			case errs[i] != nil:
				j.err = fmt.Errorf("cannot claim operator %d: %w", found[i].ID, errs[i])
			case !ours[i]:
				todo = append(todo, j) // another employee has it
			default:
				j.rec.OperatorID, j.rec.OperatorStatus, j.rec.Pending = found[i].ID, found[i].Status, nil
				rc.cfg.Metrics.Adopted()
				rc.log.Info().Str("employee_id", j.change.EmployeeID).Int("organization_id", org).
					Int64("operator_id", found[i].ID).Bool("after_unknown_outcome", j.prior).Msg("adopted existing operator")
			}
		}
	}
}

// create makes the operators still missing, one synchronize call per
// organization and BatchMaxSize names.
func (rc *Reconciler) create(ctx context.Context, jobs []*job) {
	groups := byOrg(jobs, func(j *job) bool { return j.rec.Pending != nil && j.rec.NeedsCreate() })
	eachOrg(groups, func(org int, group []*job) {
		// The chunks go at once; the rate limiter paces them.
		var wg sync.WaitGroup
		for chunk := range slices.Chunk(group, rc.cfg.BatchMaxSize) {
			wg.Go(func() { rc.synchronize(ctx, chunk) })
		}
		wg.Wait()
	})
}

// synchronize creates one chunk. A 400 for the chunk is split in halves
// until the bad items are alone, so they do not sink their batch-mates.
func (rc *Reconciler) synchronize(ctx context.Context, chunk []*job) {
	req := make([]chathub.NewOperator, len(chunk))
	for i, j := range chunk {
		req[i] = chathub.NewOperator{OrganizationID: j.rec.OrganizationID, Name: j.rec.Pending.Name}
	}
	rc.cfg.Metrics.SynchronizeBatch(len(req))
	created, err := rc.hub.Synchronize(ctx, req)
	if err != nil {
		refused := isRefusal(err)
		switch {
		case refused && len(chunk) > 1:
			mid := len(chunk) / 2
			rc.synchronize(ctx, chunk[:mid])
			rc.synchronize(ctx, chunk[mid:])
		case refused:
			// ChatHub refused it outright, so nothing was created.
			chunk[0].rec.Pending = nil
			chunk[0].fail("create the operator", err)
		default:
			// The create stays pending; the next attempt lists first.
			for _, j := range chunk {
				j.fail("create the operator", err)
			}
		}
		return
	}
	rc.log.Info().Int("organization_id", req[0].OrganizationID).Int("names", len(req)).
		Int("created", len(created)).Msg("synchronize")
	// Match by position and name: the order of the answer is not
	// documented. What does not match stays pending and is adopted from a
	// fresh list on the next attempt.
	var claimed []*job
	var made []chathub.Operator
	var claims []Claim
	for i, j := range chunk {
		if i >= len(created) || created[i].ID <= 0 ||
			!strings.EqualFold(strings.TrimSpace(created[i].Name), req[i].Name) {
			j.err = fmt.Errorf("%w: ChatHub's answer to synchronize does not match item %d", chathub.ErrOutcomeUnknown, i)
			continue
		}
		claimed, made = append(claimed, j), append(made, created[i])
		claims = append(claims, Claim{OrganizationID: j.rec.OrganizationID, OperatorID: created[i].ID, EmployeeID: j.change.EmployeeID})
	}
	// The new operators are claimed all at once.
	ours, errs := rc.store.ClaimAll(ctx, claims)
	for i, j := range claimed {
		if errs[i] != nil || !ours[i] {
			j.err = fmt.Errorf("cannot claim the new operator %d: %v", claims[i].OperatorID, errs[i])
			continue
		}
		j.rec.OperatorID, j.rec.OperatorStatus, j.rec.Pending = made[i].ID, made[i].Status, nil
	}
}

// setStatuses sets each operator's status to what the state asks for: the
// leave status after a create, a change, a reactivation or a deletion.
// After a lease left behind, the recorded status is not trusted and the
// status is set again.
func (rc *Reconciler) setStatuses(ctx context.Context, jobs []*job) {
	sem := make(chan struct{}, rc.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		r := &j.rec
		if !j.ready() || r.Pending != nil || r.OperatorID == 0 || (r.Converged() && !j.plan.Stale) {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			want, _ := r.State().Want()
			err := rc.hub.SetStatus(ctx, r.OperatorID, want)
			if err != nil && isRefusal(err) && rc.goneByHand(ctx, j, want) {
				return
			}
			if err != nil {
				j.fail(fmt.Sprintf("set operator %d to %s", r.OperatorID, want), err)
				return
			}
			r.OperatorStatus = want
		})
	}
	wg.Wait()
}

// goneByHand looks, after ChatHub refused a status, whether the operator
// was deleted or removed by hand while the employee should have one. That
// is drift, not a failure: the operator is forgotten, and the retry that
// follows adopts or creates one.
func (rc *Reconciler) goneByHand(ctx context.Context, j *job, want employee.Status) bool {
	r := &j.rec
	if want == employee.StatusDeleted {
		return false
	}
	op, listed, err := rc.hub.Lookup(ctx, r.OrganizationID, r.OperatorID)
	if err != nil || (listed && op.Status != chathub.StatusDeleted) {
		return false
	}
	kind := "gone"
	if listed {
		kind = "deleted"
	}
	rc.cfg.Metrics.DriftFound(kind, 1)
	rc.log.Warn().Str("employee_id", j.change.EmployeeID).Int("organization_id", r.OrganizationID).Int64("operator_id", r.OperatorID).
		Bool("listed", listed).Msg("operator deleted in ChatHub by hand; another is adopted or created")
	j.err = fmt.Errorf("operator %d was deleted in ChatHub by hand; another is adopted or created", r.OperatorID)
	r.OperatorID, r.OperatorStatus = 0, employee.StatusActive
	return true
}

// fail records a ChatHub error against the job: a refusal of the
// employee's data is final, anything else is tried again. A refusal says
// what ChatHub answered, without the client's own wording of the call.
func (j *job) fail(what string, err error) {
	if isRefusal(err) {
		cause := err
		var ce *chathub.Error
		if errors.As(err, &ce) {
			cause = ce
		}
		j.failure = "ChatHub refused to " + what + ": " + cause.Error()
		return
	}
	j.err = err
}

func isRefusal(err error) bool {
	return errors.Is(err, chathub.ErrPermanent) || errors.Is(err, chathub.ErrInvalid)
}
