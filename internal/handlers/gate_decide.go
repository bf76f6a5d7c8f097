package handlers

import (
	"context"
	"time"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

// decide counts the organization's deactivations (applied within the
// window, admitted and not applied yet, waiting) against active, the
// organization's active operators, and either lets the waiting ones
// through or trips: every one waiting is held, and people are told.
func (g *gate) decide(ctx context.Context, org int, o *orgGuard, employeeID string, now time.Time, active int) guard.Verdict {
	rule := g.p.cfg.Guard
	count := o.st.AppliedSince(now, rule.Window) + o.appliedSince(now, rule.Window) + len(o.admitted) + len(o.waiting)
	if !rule.Trips(count, active) {
		for id := range o.waiting {
			o.admitted[id] = true
		}
		clear(o.waiting)
		return guard.Verdict{}
	}
	ids := make([]string, 0, len(o.waiting))
	for id := range o.waiting {
		ids = append(ids, id)
	}
	st := o.st
	st.Gen++
	st.Tripped = &guard.Trip{Gen: st.Gen, Since: now, Held: len(ids), Threshold: rule.Threshold.Limit(active),
		Rule: rule.Threshold.String(), Window: rule.Window, EmployeeIDs: ids[:min(len(ids), 100)]}
	waits := make([]guard.Wait, len(ids))
	for i, id := range ids {
		waits[i] = guard.Wait{EmployeeID: id, Since: now, Held: st.Gen}
	}
	// The held entries first: a trip on record always has them.
	if err := g.p.ports.Guards.Hold(ctx, org, waits); err != nil {
		return guard.Verdict{Wait: now.Add(time.Second)}
	}
	rev, err := g.p.ports.Guards.PutState(ctx, st, o.rev)
	if err != nil {
		o.loaded = false // changed by a person meanwhile: read it again
		return guard.Verdict{Wait: now.Add(retryIn)}
	}
	o.st, o.rev = st, rev
	clear(o.waiting)
	g.mu.Lock()
	for _, id := range ids {
		delete(g.counted, id)
	}
	g.mu.Unlock()
	g.p.cfg.Metrics.GuardTripped(org, len(ids))
	g.p.log.Error().Int("organization_id", org).Int("held", len(ids)).Int("threshold", st.Tripped.Threshold).
		Str("guard_threshold", st.Tripped.Rule).Str("window", st.Tripped.Window.String()).
		Msg("mass-offboarding guard tripped: deactivations held until a person runs worker guard approve or reject")
	trip := *st.Tripped
	g.p.bg.Go(func() { g.alert(org, trip) })
	return guard.Verdict{Held: st.Gen}
}
