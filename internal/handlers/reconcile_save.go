package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// settle decides, per job, what the round's ChatHub work means: the
// results of the events ChatHub now reflects, failed results when ChatHub
// refused the employee's data or the retry policy ran out, or a retry with
// backoff. A refused token or the stop signal spends no attempt.
func (rc *Reconciler) settle(ctx context.Context, jobs []*job, report *Report) {
	now := rc.cfg.Now()
	for _, j := range jobs {
		r := &j.rec
		all, due := r.OwedIDs()
		prev := 0
		if r.Retry != nil {
			prev = r.Retry.Attempts
		}
		e := employee.Effect{OperatorID: r.OperatorID, OperatorStatus: r.OperatorStatus, Pending: r.Pending, Seen: all, Guard: r.Guard}
		switch {
		case j.failure != "":
			j.results = r.Fail(j.failure, now)
			e.Failure = j.failure
		case j.err == nil:
			j.results = r.Resolve(now)
		case errors.Is(j.err, chathub.ErrUnauthorized):
			report.Unauthorized, report.Org = true, r.OrganizationID
			e.Retry = r.Retry
			rc.cfg.Metrics.Retry("unauthorized")
		case ctx.Err() != nil:
			// Stopping: the work is handed back as it stands.
			e.Retry = r.Retry
		case prev+1 >= rc.cfg.MaxAttempts:
			reason := fmt.Sprintf("ChatHub could not be brought to reflect the event within the retry policy (%d attempts): %v", prev+1, j.err)
			j.results = r.Fail(reason, now)
			e.Failure = reason
		default:
			delay := max(rc.cfg.backoffDelay(prev+1), chathub.RetryAfter(j.err))
			e.Retry = &employee.Retry{Attempts: prev + 1, NextAt: now.Add(delay), Err: j.err.Error()}
			e.Bumped = due
			rc.cfg.Metrics.Retry("chathub")
			rc.log.Warn().Str("employee_id", j.change.EmployeeID).Int("organization_id", r.OrganizationID).
				Int("attempt", prev+1).Int64("retry_in_ms", delay.Milliseconds()).Err(j.err).Msg("will retry")
		}
		if j.err != nil && report.Err == nil {
			report.Err = j.err
		}
		e.Resolved = j.results
		j.effect = e
	}
}

// publish stores the round's results. Failed results carry the original
// message, read back from the stream. A job whose results were not all
// stored keeps its events owed and tries again after a pause.
func (rc *Reconciler) publish(ctx context.Context, jobs []*job) {
	var results []hrevent.Result
	var from []*job
	for _, j := range jobs {
		for _, res := range j.results {
			r := resolutionResult(res, &j.rec)
			r.TraceParent = rc.resultSpan(ctx, res, j.rec.OperatorID)
			if res.Outcome == hrevent.Failed {
				rc.logResult(res, &j.rec)
				if body, err := rc.events.Body(ctx, res.Seq); err == nil {
					r.Echo(body)
				}
			}
			results, from = append(results, r), append(from, j)
		}
	}
	if len(results) == 0 {
		return
	}
	lost := map[*job]bool{}
	for i, err := range rc.results.Publish(ctx, results) {
		if err != nil {
			rc.cfg.Metrics.ResultUnpublished()
			lost[from[i]] = true
		}
	}
	now := rc.cfg.Now()
	for j := range lost {
		j.effect.Resolved = nil
		j.effect.Failure = ""
		attempts := 0
		if j.effect.Retry != nil {
			attempts = j.effect.Retry.Attempts
		}
		j.effect.Retry = &employee.Retry{Attempts: attempts, NextAt: now.Add(rc.cfg.backoffDelay(attempts + 1)), Err: "results could not be stored"}
	}
}

// save writes what each job learned and releases its lease, all at once,
// checked against the revision of the lease write. A record the intake
// changed meanwhile is read again and the effect laid over it.
func (rc *Reconciler) save(ctx context.Context, jobs []*job) {
	now := rc.cfg.Now()
	todo := jobs
	for _, j := range todo {
		j.base.Apply(j.effect, rc.cfg.Owner, now)
	}
	for range maxRounds {
		writes := make([]Write, len(todo))
		for i, j := range todo {
			writes[i] = Write{Record: j.base, Revision: j.rev}
		}
		revs, errs := rc.putPatiently(ctx, writes, rc.cfg.LeaseTTL/4)
		var again []*job
		for i, j := range todo {
			switch err := errs[i]; {
			case errors.Is(err, ErrConflict):
				rc.cfg.Metrics.KVConflict()
				again = append(again, j)
			case err != nil:
				rc.saveFailed(j, err)
			default:
				j.rev = revs[i]
				rc.cache.put(j.change.EmployeeID, j.base, j.rev)
				j.outcome = &Outcome{Action: Ack, Revision: j.rev, Settled: quiet(j.base, rc.cfg.Owner, now)}
			}
		}
		todo = nil
		for _, j := range again {
			rec, rev, err := rc.store.Get(ctx, j.change.EmployeeID)
			if err != nil {
				rc.saveFailed(j, err)
				continue
			}
			rec.Apply(j.effect, rc.cfg.Owner, now)
			j.base, j.rev = rec, rev
			todo = append(todo, j)
		}
		if len(todo) == 0 {
			return
		}
	}
	for _, j := range todo {
		rc.saveFailed(j, fmt.Errorf("%w after %d tries", ErrConflict, maxRounds))
	}
}

// quiet reports whether a look at r would do nothing, now or at any later
// time: nothing dated ahead, no retry, no lease, and nothing to act on.
// Such a record's own notification needs no round.
func quiet(r employee.Record, owner string, now time.Time) bool {
	if len(r.Scheduled) > 0 || r.Retry != nil || r.Lease != nil {
		return false
	}
	p := r.Next(now, owner)
	return !p.Act && p.WakeAt.IsZero() && p.BusyUntil.IsZero()
}

// saveFailed keeps the job in this worker: its lease is left behind, and
// this worker looks again after a pause; its lease write then finds its
// own lease and releases it (releaseOwn), so that the next look, by any
// worker, starts from the record as it is.
func (rc *Reconciler) saveFailed(j *job, err error) {
	rc.cache.drop(j.change.EmployeeID)
	rc.log.Warn().Err(err).Str("employee_id", j.change.EmployeeID).Msg("cannot save the employee's record")
	j.outcome = ptr(again(rc.cfg.RetryBase))
}
