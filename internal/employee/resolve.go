package employee

import (
	"fmt"
	"slices"
	"time"
)

// Resolution is the result of one owed event.
type Resolution struct {
	Owed
	Outcome Outcome
	Reason  string
}

// Resolve gives every owed event that has taken effect its result, now
// that ChatHub reflects the desired state: applied when ChatHub holds what
// the event asked for, skipped when nothing was to change or a later event
// overtook it before its effect reached ChatHub. It removes them from the
// owed events.
func (r *Record) Resolve(now time.Time) []Resolution {
	state := r.State()
	var out []Resolution
	r.Owed = slices.DeleteFunc(r.Owed, func(o Owed) bool {
		if r.isScheduled(o.ID) {
			return false
		}
		res := Resolution{Owed: o, Outcome: Applied}
		if reason := r.unreflected(o, state); reason != "" {
			res.Outcome, res.Reason = Skipped, reason
		}
		out = append(out, res)
		return true
	})
	r.remember(out, now)
	return out
}

// unreflected says why ChatHub does not hold what o asked for, or "" when
// it does.
func (r *Record) unreflected(o Owed, state State) string {
	m := &Mark{Kind: o.Kind, Time: o.Time, ID: o.ID, Seq: o.Seq}
	want, ok := target(o.Kind)
	switch {
	case ok && want == state:
		return ""
	case !ok && (state == Active || state == OnLeave) && r.Org == o.Org:
		return "" // a transfer: the operator is in the organization it named
	case o.Kind != Hire && r.Hire == nil:
		return noHire(r.EmployeeID)
	case o.Kind != Hire && m.before(r.Hire):
		return "the event is older than the hire " + Quote(r.Hire.ID) + " already applied, which supersedes it"
	case o.Kind != Termination && r.Hire.before(r.Term) && r.Term.before(m):
		return "the employee was terminated by " + Quote(r.Term.ID) + " before this event, which changes nothing for them"
	}
	return r.overtaken(state, !ok)
}

// Fail gives every owed event that has taken effect a failed result with
// reason, and removes them from the owed events.
func (r *Record) Fail(reason string, now time.Time) []Resolution {
	var out []Resolution
	r.Owed = slices.DeleteFunc(r.Owed, func(o Owed) bool {
		if r.isScheduled(o.ID) {
			return false
		}
		out = append(out, Resolution{Owed: o, Outcome: Failed, Reason: reason})
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

// overtaken names the event that put the employee where they are now:
// in their state, or for a transfer in their organization.
func (r *Record) overtaken(state State, move bool) string {
	m := r.Hire
	switch {
	case move:
		m = r.Latest
	case state == Terminated:
		m = r.Term
	case r.Hire.before(r.Leave):
		m = r.Leave
	}
	if m == nil {
		return "overtaken: the employee is " + state.String() + " now"
	}
	return fmt.Sprintf("overtaken by %s %s (%s) before its effect reached ChatHub; the employee is %s now, in organization %d",
		m.Kind, Quote(m.ID), m.Time.UTC().Format(time.RFC3339), state, r.Org)
}

// HasDue reports whether an owed event has taken effect and waits for its
// result.
func (r *Record) HasDue() bool {
	return slices.ContainsFunc(r.Owed, func(o Owed) bool { return !r.isScheduled(o.ID) })
}

func (r *Record) isScheduled(id string) bool {
	return slices.ContainsFunc(r.Scheduled, func(c Change) bool { return c.ID == id })
}
