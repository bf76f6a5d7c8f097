package handlers

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Change asks the reconciler to look at one employee.
type Change struct {
	EmployeeID string
	// Value is the record as the store notified it, at Revision; nil
	// when the look was asked for by a wake-up: the record is read.
	Value    []byte
	Revision uint64
	// Since is when the employee was first offered to a round.
	Since time.Time
	// More: further changes wait behind this round.
	More bool
	// Deferred: an earlier round left this change for a later one.
	Deferred bool
}

// Report tells the broker about a round as a whole.
type Report struct {
	// Unauthorized: ChatHub refused the token; stop reconciling until it
	// accepts it again.
	Unauthorized bool
	// Org is an organization the round touched, for probing the token.
	Org int
	// Err is the first transient ChatHub error of the round, for logs.
	Err error
}

// Reconciler makes ChatHub match employees' desired state. A round takes
// the lease of each employee it acts for (one write per employee, checked
// against the revision it was notified of), drives ChatHub with the
// guarantees of CONTRACT §3 and §4, publishes the results of the events
// ChatHub now reflects, and saves what it learned.
type Reconciler struct {
	cfg     Config
	store   Store
	hub     ChatHub
	results Results
	wakes   Wakes
	events  Events
	guards  Guards
	alerts  Alerts
	cache   *recordCache
	log     zerolog.Logger
}

// job is one employee's part of a round.
type job struct {
	change  Change
	rec     employee.Record // the working copy
	base    employee.Record // as written with the lease
	rev     uint64
	plan    employee.Plan
	leased  bool
	pass    guardPass
	calls   int  // ChatHub calls it is expected to cost
	prior   bool // an earlier attempt may have created their operator
	err     error
	failure string
	effect  employee.Effect
	results []employee.Resolution
	outcome *Outcome
}

// Reconcile runs one round over changes of distinct employees and returns
// an outcome per change.
func (rc *Reconciler) Reconcile(ctx context.Context, changes []Change) ([]Outcome, Report) {
	ctx, span := rc.cfg.Tracer.Start(ctx, "reconcile round", trace.WithAttributes(attribute.Int("hr.employees", len(changes))))
	defer span.End()
	start := time.Now() // for the carry rule, on the queue's clock
	jobs := make([]*job, len(changes))
	for i, c := range changes {
		jobs[i] = &job{change: c}
	}
	rc.evaluate(ctx, jobs)
	linkEvents(span, jobs)
	work := rc.choose(jobs, start)
	rc.guard(ctx, work)
	rc.lease(ctx, undecided(work))

	var report Report
	if work = leased(work); len(work) > 0 {
		// ChatHub work must end while the leases still hold.
		workCtx, cancel := context.WithDeadline(ctx, rc.cfg.Now().Add(rc.cfg.LeaseTTL*3/4))
		rc.adopt(workCtx, work)
		rc.create(workCtx, work)
		rc.setStatuses(workCtx, work)
		cancel()
		// What was done in ChatHub must be written down, even after the
		// stop signal.
		saveCtx := context.WithoutCancel(ctx)
		rc.settle(ctx, work, &report)
		rc.publish(saveCtx, work)
		rc.save(saveCtx, work)
		rc.afterGuard(saveCtx, work)
	}
	out := make([]Outcome, len(jobs))
	for i, j := range jobs {
		out[i] = *j.outcome
	}
	return out, report
}

// undecided keeps the jobs that have no outcome yet.
func undecided(jobs []*job) []*job {
	var out []*job
	for _, j := range jobs {
		if j.outcome == nil {
			out = append(out, j)
		}
	}
	return out
}

// leased keeps the jobs whose lease was taken.
func leased(jobs []*job) []*job {
	var out []*job
	for _, j := range jobs {
		if j.leased {
			out = append(out, j)
		}
	}
	return out
}

// evaluate reads each employee's record and plans: act now, look again
// later (a wake-up is asked for), or leave it to the worker that holds the
// lease.
func (rc *Reconciler) evaluate(ctx context.Context, jobs []*job) {
	now := rc.cfg.Now()
	var wakes []Wake
	var waiting []*job
	for _, j := range jobs {
		if exists, err := rc.load(ctx, j); err != nil || !exists {
			// A wake-up for an employee whose record is gone has nothing
			// to do.
			j.outcome = ptr(done)
			if err != nil {
				rc.log.Warn().Err(err).Str("employee_id", j.change.EmployeeID).Msg("cannot read the employee's record")
				j.outcome = ptr(retry(rc.cfg.RetryBase, "store"))
			}
			continue
		}
		j.plan = j.rec.Next(now, rc.cfg.Owner)
		switch {
		case !j.plan.BusyUntil.IsZero():
			// The holder saves before it lets go, and that save notifies
			// again; this look only matters if the holder died.
			j.outcome = ptr(retry(j.plan.BusyUntil.Sub(now)+rc.cfg.RetryBase, "busy"))
		case j.plan.Act:
		case !j.plan.WakeAt.IsZero():
			wakes, waiting = append(wakes, Wake{EmployeeID: j.change.EmployeeID, At: j.plan.WakeAt}), append(waiting, j)
			j.outcome = ptr(done)
		default:
			j.outcome = ptr(done)
		}
	}
	if len(wakes) == 0 {
		return
	}
	for i, err := range rc.wakes.WakeAll(ctx, wakes) {
		if err != nil {
			rc.log.Warn().Err(err).Str("employee_id", wakes[i].EmployeeID).Msg("cannot schedule a wake-up")
			waiting[i].outcome = ptr(retry(rc.cfg.RetryBase, "store"))
		}
	}
}

// load decodes the notified record, or reads it, and reports whether the
// employee has one.
func (rc *Reconciler) load(ctx context.Context, j *job) (bool, error) {
	if j.change.Value == nil {
		rec, rev, err := rc.store.Get(ctx, j.change.EmployeeID)
		j.rec, j.rev = rec, rev
		return rev != 0, err
	}
	rec, err := rc.store.Decode(j.change.Value)
	j.rec, j.rev = rec, j.change.Revision
	return err == nil, err
}

// logResult logs a failed event, with what a person needs to find it.
func (rc *Reconciler) logResult(res employee.Resolution, rec *employee.Record) {
	if res.Outcome != hrevent.Failed {
		return
	}
	rc.log.Error().Str("event_id", res.ID).Str("employee_id", rec.EmployeeID).Int("organization_id", rec.OrganizationID).
		Str("outcome", string(res.Outcome)).Int("attempt", res.Attempts).Str("reason", res.Reason).Msg("event failed")
}
