package employee

import (
	"fmt"
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Plan is what the reconciler does next for an employee.
type Plan struct {
	// Act: take the lease and make ChatHub match the desired state, then
	// publish the results of the events it reflects.
	Act bool
	// Stale: a worker left its lease behind (it died or could not save),
	// so it may have changed the operator without recording it.
	Stale bool
	// BusyUntil: another worker holds the lease until then.
	BusyUntil time.Time
	// WakeAt: look again at this time (a scheduled change, a retry);
	// zero when nothing waits.
	WakeAt time.Time
}

// Next says what the reconciler owner should do at time now. It lets due
// scheduled changes take effect first. A lease of owner's own is one it
// left behind, since a worker never looks at an employee it is working on.
func (r *Record) Next(now time.Time, owner string) Plan {
	r.Fold(now)
	var p Plan
	if r.Lease != nil && r.Lease.Owner != owner && now.Before(r.Lease.Until) {
		p.BusyUntil = r.Lease.Until
		return p
	}
	p.WakeAt = r.NextChange()
	if r.Retry != nil && now.Before(r.Retry.NextAt) {
		p.WakeAt = earliest(p.WakeAt, r.Retry.NextAt)
		return p
	}
	p.Stale = r.Lease != nil
	switch {
	case p.Stale, r.Retry != nil:
		p.Act = true
	case r.Failure != "":
		// ChatHub refused this state; the next event tries again.
	default:
		p.Act = !r.Converged() || r.HasDue()
	}
	return p
}

// HasDue reports whether an owed event has taken effect and waits for its
// result.
func (r *Record) HasDue() bool {
	return slices.ContainsFunc(r.Owed, func(o Owed) bool { return !r.isScheduled(o.ID) })
}

func (r *Record) isScheduled(id string) bool {
	return slices.ContainsFunc(r.Scheduled, func(c Change) bool { return c.ID == id })
}

// Resolution is the result of one owed event.
type Resolution struct {
	Owed
	Outcome hrevent.Outcome
	Reason  string
}

// Resolve gives every owed event that has taken effect its result, now
// that ChatHub reflects the desired state: applied when the state is the
// one the event asks for, skipped when a later event overtook it before
// its effect reached ChatHub. It removes them from the owed events.
func (r *Record) Resolve(now time.Time) []Resolution {
	state := r.State()
	var out []Resolution
	r.Owed = slices.DeleteFunc(r.Owed, func(o Owed) bool {
		if r.isScheduled(o.ID) {
			return false
		}
		res := Resolution{Owed: o, Outcome: hrevent.Applied}
		if target(o.Kind) != state {
			res.Outcome, res.Reason = hrevent.Skipped, r.overtaken(state)
		}
		out = append(out, res)
		return true
	})
	r.remember(out, now)
	return out
}

// Fail gives every owed event that has taken effect a failed result with
// reason, and removes them from the owed events.
func (r *Record) Fail(reason string, now time.Time) []Resolution {
	var out []Resolution
	r.Owed = slices.DeleteFunc(r.Owed, func(o Owed) bool {
		if r.isScheduled(o.ID) {
			return false
		}
		out = append(out, Resolution{Owed: o, Outcome: hrevent.Failed, Reason: reason})
		return true
	})
	r.remember(out, now)
	return out
}

// remember keeps the newest results.
func (r *Record) remember(res []Resolution, now time.Time) {
	for _, x := range res {
		r.Recent = append(r.Recent, Resolved{ID: x.ID, Seq: x.Seq, Outcome: x.Outcome, Reason: x.Reason, At: now})
	}
	if n := len(r.Recent) - recentResults; n > 0 {
		r.Recent = slices.Delete(r.Recent, 0, n)
	}
}

// overtaken names the event that put the employee in state.
func (r *Record) overtaken(state State) string {
	var m *Mark
	var kind hrevent.Kind
	switch {
	case state == Terminated:
		m, kind = r.Term, hrevent.Terminated
	case r.Hire.before(r.Leave) && r.Leave != nil:
		m, kind = r.Leave, hrevent.LeaveEnded
		if r.LeaveStarted {
			kind = hrevent.LeaveStarted
		}
	default:
		m, kind = r.Hire, hrevent.Hired
	}
	if m == nil {
		return "overtaken: the employee is " + state.String() + " now"
	}
	return fmt.Sprintf("overtaken by %s %s (%s) before its effect reached ChatHub; the employee is %s now",
		kind, quote(m.ID), m.Time.UTC().Format(time.RFC3339), state)
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
