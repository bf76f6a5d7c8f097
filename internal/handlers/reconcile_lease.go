package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// choose picks the jobs this round acts for; the others wait for the next
// round (Defer). With a rate limit a round plans about a second's worth of
// ChatHub calls, so that its leases outlast it by far. While more changes
// wait, an organization's hires that would make its last synchronize call
// short of BatchMaxSize wait for the next round, where they fill a call
// with the hires that follow.
func (rc *Reconciler) choose(jobs []*job, start time.Time) []*job {
	budget := int(rc.cfg.RateLimit)
	if rc.cfg.RateLimit > 0 {
		budget = max(budget, 1)
	}
	creates := map[int]int{} // per organization, in this round
	carry := rc.carried(jobs, start)
	var work []*job
	spent := 0
	for _, j := range jobs {
		if j.outcome != nil {
			continue
		}
		if carry[j] {
			j.outcome = ptr(later)
			continue
		}
		j.calls = rc.cost(j, creates)
		if budget > 0 && spent > 0 && spent+j.calls > budget {
			j.outcome = ptr(later)
			continue
		}
		spent += j.calls
		work = append(work, j)
	}
	return work
}

// cost is how many ChatHub calls j adds to the round: a list and a
// synchronize call per BatchMaxSize new operators of an organization, a
// status call per change of status.
func (rc *Reconciler) cost(j *job, creates map[int]int) int {
	r := &j.rec
	want, needed := r.State().Want()
	calls := 0
	if needed && r.OperatorID == 0 {
		org := r.OrganizationID
		if creates[org] == 0 {
			calls++ // the list before creating
		}
		if creates[org]%rc.cfg.BatchMaxSize == 0 {
			calls++
		}
		creates[org]++
		if want != employee.StatusActive {
			calls++
		}
		return calls
	}
	if j.plan.Stale || (r.OperatorID != 0 && r.OperatorStatus != want) {
		calls++
	}
	return calls
}

// carried picks, per organization, the hires that would make the round's
// last synchronize call short, while more changes wait. A hire is carried
// if, when this round started, it had waited less than BatchMaxWait since
// its first round (BATCH_MAX_WAIT, the longest an event waits for its
// batch to fill), so a flow of hires fills its calls over several rounds;
// once the short tail would hold one that waited that long, the whole
// group goes. The round's own time does not count: a loaded machine makes
// rounds slower, not calls shorter.
func (rc *Reconciler) carried(jobs []*job, start time.Time) map[*job]bool {
	young := func(j *job) bool { return start.Sub(j.change.Since) < rc.cfg.BatchMaxWait }
	groups := map[int][]*job{}
	for _, j := range jobs {
		if j.outcome == nil && j.change.More && j.rec.NeedsCreate() && j.rec.Pending == nil {
			groups[j.rec.OrganizationID] = append(groups[j.rec.OrganizationID], j)
		}
	}
	carry := map[*job]bool{}
	for _, group := range groups {
		short := len(group) % rc.cfg.BatchMaxSize
		var tail []*job
		for i := len(group) - 1; i >= 0 && len(tail) < short; i-- {
			if young(group[i]) {
				tail = append(tail, group[i])
			}
		}
		if len(tail) < short {
			continue
		}
		for _, j := range tail {
			carry[j] = true
		}
	}
	return carry
}

// lease takes the lease of every job, all at once, each write checked
// against the revision the job was notified of, and records the intent to
// create before any synchronize call. A write that finds the record
// changed means a newer notification is on its way: the job is dropped.
func (rc *Reconciler) lease(ctx context.Context, jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	now := rc.cfg.Now()
	writes := make([]Write, len(jobs))
	for i, j := range jobs {
		r := j.rec.Clone()
		j.prior = r.Pending != nil || j.plan.Stale
		r.Lease = &employee.Lease{Owner: rc.cfg.Owner, Until: now.Add(rc.cfg.LeaseTTL)}
		if r.NeedsCreate() && r.Pending == nil {
			r.Pending = &employee.Intent{Name: r.Name, Since: now}
		}
		j.base = r
		writes[i] = Write{Record: r, Revision: j.rev}
	}
	revs, errs := rc.putPatiently(ctx, writes, rc.cfg.LeaseTTL/8)
	for i, j := range jobs {
		switch err := errs[i]; {
		case errors.Is(err, ErrConflict):
			rc.cfg.Metrics.KVConflict()
			rc.cache.drop(j.change.EmployeeID)
			j.outcome = ptr(done)
			rc.releaseOwn(ctx, j)
		case err != nil:
			// The lease may be written all the same: only this worker
			// knows it is not working on the employee, and it looks again
			// after a pause.
			rc.log.Warn().Err(err).Str("employee_id", j.change.EmployeeID).Msg("cannot take the employee's lease")
			j.outcome = ptr(again(rc.cfg.RetryBase))
		default:
			j.rev, j.leased = revs[i], true
			j.rec = j.base.Clone()
			rc.cache.put(j.change.EmployeeID, j.base, j.rev)
		}
	}
}

// releaseOwn reads the record of a job whose lease write found it
// changed, and if the change is a lease of this worker's own (a try of
// this very write that landed while its answer was lost, or a lease an
// earlier attempt left behind when its save was lost), releases it. No
// ChatHub work of this worker is under way for the employee, and the
// release notifies the reconcilers, so that one of them looks at the
// record as it now is, guard included. Left alone, the lease would make
// whichever worker the store notifies wait for it to run out.
func (rc *Reconciler) releaseOwn(ctx context.Context, j *job) {
	rec, rev, err := rc.store.Get(ctx, j.change.EmployeeID)
	if err != nil || rec.Lease == nil || rec.Lease.Owner != rc.cfg.Owner {
		return
	}
	rec.Lease = nil
	if _, errs := rc.store.PutAll(ctx, []Write{{Record: rec, Revision: rev}}); errs[0] == nil {
		rc.log.Info().Str("employee_id", j.change.EmployeeID).Msg("released a lease of this worker's left by an attempt whose answer was lost")
	}
}

// putPatiently writes the records, and writes again those that failed for
// another reason than a conflict (NATS electing a leader, reconnecting)
// with growing pauses, for up to patience.
func (rc *Reconciler) putPatiently(ctx context.Context, writes []Write, patience time.Duration) ([]uint64, []error) {
	revs, errs := rc.store.PutAll(ctx, writes)
	deadline := rc.cfg.Now().Add(patience)
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
		var again []int
		for i, err := range errs {
			if err != nil && !errors.Is(err, ErrConflict) {
				again = append(again, i)
			}
		}
		if len(again) == 0 || rc.cfg.Now().Add(pause).After(deadline) || ctxtime.Sleep(ctx, pause) != nil {
			return revs, errs
		}
		retryWrites := make([]Write, len(again))
		for k, i := range again {
			retryWrites[k] = writes[i]
		}
		r2, e2 := rc.store.PutAll(ctx, retryWrites)
		for k, i := range again {
			revs[i], errs[i] = r2[k], e2[k]
		}
	}
}
