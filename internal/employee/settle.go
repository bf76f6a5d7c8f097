package employee

import (
	"slices"
	"time"
)

// Effect is what one reconcile learned of ChatHub and decided. It is laid
// over the record as the record is when saved, since the intake may have
// merged events into it meanwhile.
type Effect struct {
	OperatorID     int64
	OperatorStatus Status
	Pending        *Intent
	Retry          *Retry
	Failure        string
	// Resolved are the owed events whose results are stored.
	Resolved []Resolution
	// Bumped are owed events that took one more attempt.
	Bumped []string
	// Seen are the owed events the reconcile worked with; a failure
	// stands only if no other event arrived meanwhile.
	Seen []string
	// Guard is the guard's mark after the reconcile.
	Guard *Guarded
}

// Apply lays the effect over the record and releases owner's lease.
func (r *Record) Apply(e Effect, owner string, now time.Time) {
	r.Fold(now)
	r.OperatorID, r.OperatorStatus, r.Pending = e.OperatorID, e.OperatorStatus, e.Pending
	r.Retry = e.Retry
	r.Owed = slices.DeleteFunc(r.Owed, func(o Owed) bool {
		return slices.ContainsFunc(e.Resolved, func(x Resolution) bool { return x.ID == o.ID })
	})
	r.remember(e.Resolved, now)
	for i, o := range r.Owed {
		if slices.Contains(e.Bumped, o.ID) {
			r.Owed[i].Attempts++
		}
	}
	r.Failure = e.Failure
	if slices.ContainsFunc(r.Owed, func(o Owed) bool { return !slices.Contains(e.Seen, o.ID) }) {
		// A new event arrived meanwhile: it may set things right.
		r.Failure = ""
	}
	r.Guard = e.Guard
	if r.Lease != nil && r.Lease.Owner == owner {
		r.Lease = nil
	}
}

// OwedIDs lists the ids of the owed events, and of those the ones that
// have taken effect.
func (r *Record) OwedIDs() (all, due []string) {
	for _, o := range r.Owed {
		all = append(all, o.ID)
		if !r.isScheduled(o.ID) {
			due = append(due, o.ID)
		}
	}
	return all, due
}
