package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// guardPass is what the guard did with a job that goes on to ChatHub.
type guardPass int

const (
	notGuarded guardPass = iota
	allowed              // counted and under the threshold
	approved             // held, then approved by a person
	rejected             // held, then rejected by a person
	unguarded            // no longer a deactivation
)

// guard applies the mass-offboarding guard (CONTRACT §7) to the round's
// deactivations, per organization. A new one begins to wait; once no new
// one has for GuardSettle, those waiting are counted with the ones applied
// within the window, and either go on to ChatHub or, past the threshold,
// are all held until a person decides. Held ones wait outside any ack
// window; `worker guard approve|reject` wakes them.
func (rc *Reconciler) guard(ctx context.Context, jobs []*job) {
	groups := map[int][]*job{}
	for _, j := range jobs {
		r := &j.rec
		switch {
		case j.outcome != nil:
		case r.Deactivates() && !rc.cfg.Guard.Threshold.Off():
			groups[r.OrganizationID] = append(groups[r.OrganizationID], j)
		case r.Guard != nil:
			j.pass, r.Guard = unguarded, nil
		}
	}
	for org, group := range groups {
		rc.guardOrg(ctx, org, group)
	}
}

// guardOrg decides for one organization's deactivations, against its
// guard state, written back with a revision check.
func (rc *Reconciler) guardOrg(ctx context.Context, org int, group []*job) {
	now := rc.cfg.Now()
	for range maxRounds {
		st, rev, err := rc.guards.State(ctx, org)
		if err != nil {
			rc.guardTrouble(group, err)
			return
		}
		// The waiting entries say which wait and which are held: a
		// record's own mark may lag behind (its write lost a race).
		waiting, err := rc.guards.Waiting(ctx, org)
		if err != nil {
			rc.guardTrouble(group, err)
			return
		}
		var register, hold, decide []*job
		waitFor := map[*job]time.Duration{}
		for _, j := range group {
			if w, ok := waiting[j.change.EmployeeID]; ok {
				j.rec.Guard = &employee.Guarded{Since: w.Since, Held: w.Held}
			}
			switch g := j.rec.Guard; {
			case g == nil:
				register = append(register, j)
			case g.Held != 0:
				waitFor[j] = -1 // still held, unless decided below
			case st.Tripped != nil:
				hold = append(hold, j)
			case now.Sub(st.LastRegistered) < rc.cfg.GuardSettle:
				waitFor[j] = st.LastRegistered.Add(rc.cfg.GuardSettle).Sub(now)
			default:
				decide = append(decide, j)
			}
		}
		var trip *guard.Trip
		if len(decide) > 0 {
			if trip, err = rc.count(ctx, org, &st, waiting, now); err != nil {
				rc.guardTrouble(group, err)
				return
			}
			if trip != nil {
				hold, decide = append(hold, decide...), nil
			}
		}
		if len(register) > 0 {
			st.LastRegistered = now
		}
		if len(register) > 0 || trip != nil {
			if err := rc.guards.PutState(ctx, st, rev); errors.Is(err, ErrConflict) {
				continue // another worker changed it: decide again
			} else if err != nil {
				rc.guardTrouble(group, err)
				return
			}
		}
		if trip != nil {
			// Every deactivation waiting is held, in this round or not.
			var others []guard.Wait
			for id, w := range waiting {
				if w.Held == 0 && !slices.ContainsFunc(hold, func(j *job) bool { return j.change.EmployeeID == id }) {
					w.Held = trip.Gen
					others = append(others, w)
				}
			}
			if err := rc.guards.PutWaiting(ctx, org, others); err != nil {
				rc.log.Warn().Err(err).Int("organization_id", org).Msg("mass-offboarding guard")
			}
			rc.tripped(ctx, org, *trip)
		}
		for _, j := range decide {
			j.pass, j.rec.Guard = allowed, nil
		}
		decided := map[guardPass]int{}
		for j, d := range waitFor {
			g := j.rec.Guard
			if dec, ok := st.Decided(g.Held); g.Held != 0 && ok {
				j.pass, j.rec.Guard = approved, nil
				if !dec.Approve {
					j.pass, j.failure = rejected, fmt.Sprintf(
						"a person rejected this deactivation at the mass-offboarding guard of organization %d (worker guard reject); ChatHub keeps the operator as it was", org)
				}
				decided[j.pass]++
				continue
			}
			j.outcome = ptr(done)
			if d > 0 {
				j.outcome = ptr(again(d))
			}
		}
		if n := decided[approved]; n > 0 {
			rc.log.Warn().Int("organization_id", org).Int("deactivations", n).Msg("mass-offboarding guard: applying held deactivations a person approved")
		}
		if n := decided[rejected]; n > 0 {
			rc.log.Warn().Int("organization_id", org).Int("deactivations", n).Msg("mass-offboarding guard: failing held deactivations a person rejected")
		}
		gen := uint64(0)
		if st.Tripped != nil {
			gen = st.Tripped.Gen
		}
		rc.mark(ctx, org, register, &employee.Guarded{Since: now})
		rc.mark(ctx, org, hold, &employee.Guarded{Since: now, Held: gen})
		return
	}
	rc.guardTrouble(group, fmt.Errorf("the guard of organization %d keeps changing", org))
}

// count counts the organization's deactivations (applied within the
// window, and waiting) and trips its guard past the threshold.
func (rc *Reconciler) count(ctx context.Context, org int, st *guard.State, waiting map[string]guard.Wait, now time.Time) (*guard.Trip, error) {
	var ids []string
	for id, w := range waiting {
		if _, decided := st.Decided(w.Held); w.Held == 0 || !decided {
			ids = append(ids, id)
		}
	}
	// The deciding jobs count even if their entries are not written yet.
	rule := rc.cfg.Guard
	count := st.AppliedSince(now, rule.Window) + len(ids)
	active := 0
	if rule.Threshold.Percent > 0 {
		var err error
		if active, err = rc.hub.CountActive(ctx, org); err != nil {
			return nil, err
		}
	}
	if !rule.Trips(count, active) {
		return nil, nil
	}
	st.Gen++
	st.Tripped = &guard.Trip{Gen: st.Gen, Since: now, Held: len(ids), Threshold: rule.Threshold.Limit(active),
		Rule: rule.Threshold.String(), Window: rule.Window, EmployeeIDs: ids[:min(len(ids), 100)]}
	return st.Tripped, nil
}

// mark notes jobs as waiting (or held) at the guard: their waiting entries,
// then their records, checked against the revision they were notified of.
func (rc *Reconciler) mark(ctx context.Context, org int, jobs []*job, g *employee.Guarded) {
	if len(jobs) == 0 {
		return
	}
	waits := make([]guard.Wait, len(jobs))
	writes := make([]Write, len(jobs))
	for i, j := range jobs {
		waits[i] = guard.Wait{EmployeeID: j.change.EmployeeID, Since: g.Since, Held: g.Held}
		if j.rec.Guard != nil {
			waits[i].Since = j.rec.Guard.Since
		}
		j.rec.Guard = &employee.Guarded{Since: waits[i].Since, Held: g.Held}
		writes[i] = Write{Record: j.rec, Revision: j.rev}
	}
	if err := rc.guards.PutWaiting(ctx, org, waits); err != nil {
		rc.guardTrouble(jobs, err)
		return
	}
	revs, errs := rc.store.PutAll(ctx, writes)
	for i, j := range jobs {
		switch err := errs[i]; {
		case errors.Is(err, ErrConflict):
			j.outcome = ptr(done) // a newer notification is on its way
		case err != nil:
			j.outcome = ptr(retry(rc.cfg.RetryBase, "store"))
		default:
			rc.cache.put(j.change.EmployeeID, j.rec, revs[i])
			j.outcome = &Outcome{Action: Ack, Revision: revs[i]}
		}
	}
}

// tripped tells people: one alert per trip, whichever worker tripped it.
func (rc *Reconciler) tripped(ctx context.Context, org int, t guard.Trip) {
	rc.cfg.Metrics.GuardTripped(org, t.Held)
	rc.log.Error().Int("organization_id", org).Int("held", t.Held).Int("threshold", t.Threshold).
		Str("guard_threshold", t.Rule).Str("window", t.Window.String()).
		Msg("mass-offboarding guard tripped: deactivations held until a person runs worker guard approve or reject")
	if err := rc.alerts.Tripped(ctx, org, t); err != nil {
		rc.log.Error().Err(err).Int("organization_id", org).Msg("cannot publish the guard's alert")
	}
}

// guardTrouble hands the jobs back when the guard's state cannot be read
// or written.
func (rc *Reconciler) guardTrouble(jobs []*job, err error) {
	rc.log.Warn().Err(err).Msg("mass-offboarding guard")
	for _, j := range jobs {
		if j.outcome == nil {
			j.outcome = ptr(retry(rc.cfg.RetryBase, "store"))
		}
	}
}

// afterGuard, once the round saved, forgets the waiting entries of the
// jobs the guard let through and counts the deactivations applied.
func (rc *Reconciler) afterGuard(ctx context.Context, jobs []*job) {
	forget := map[int][]string{}
	applied := map[int]int{}
	for _, j := range jobs {
		if j.pass == notGuarded || j.outcome == nil || j.outcome.Action != Ack {
			continue
		}
		org := j.rec.OrganizationID
		forget[org] = append(forget[org], j.change.EmployeeID)
		if j.pass == allowed && j.err == nil && j.failure == "" {
			applied[org]++
		}
	}
	now := rc.cfg.Now()
	for org, ids := range forget {
		if err := rc.guards.Forget(ctx, org, ids); err != nil {
			rc.log.Warn().Err(err).Int("organization_id", org).Msg("mass-offboarding guard")
		}
		if applied[org] == 0 {
			continue
		}
		for range maxRounds {
			st, rev, err := rc.guards.State(ctx, org)
			if err == nil {
				st.AddApplied(applied[org], now)
				if err = rc.guards.PutState(ctx, st, rev); !errors.Is(err, ErrConflict) {
					break
				}
			}
		}
	}
}
