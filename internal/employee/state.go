package employee

import (
	"slices"
	"time"
)

// State is where an employee stands.
type State int

// The states of an employee.
const (
	None State = iota
	Active
	OnLeave
	Terminated
)

func (s State) String() string {
	return [...]string{"none", "active", "on leave", "terminated"}[s]
}

// before reports whether m comes before o; no mark comes before any.
func (m *Mark) before(o *Mark) bool {
	switch {
	case o == nil:
		return false
	case m == nil:
		return true
	}
	return Less(m.Time, m.ID, o.Time, o.ID)
}

// State folds the marks through the state machine. A hire resets any
// state to active, so only what came after the newest hire counts: a
// termination wins over a leave, and the newest leave event decides
// between active and on leave. A transfer changes no state.
func (r *Record) State() State {
	switch {
	case r.Hire == nil:
		return None
	case r.Hire.before(r.Term):
		return Terminated
	case r.Hire.before(r.Leave) && r.LeaveStarted:
		return OnLeave
	}
	return Active
}

// StateAt is the state once every change dated at or before t has taken
// effect.
func (r Record) StateAt(t time.Time) State {
	r.Scheduled = slices.Clone(r.Scheduled)
	r.Fold(t)
	return r.State()
}

// OrgAt is the employee's organization once every change dated at or
// before t has taken effect.
func (r Record) OrgAt(t time.Time) int {
	r.Scheduled = slices.Clone(r.Scheduled)
	r.Fold(t)
	return r.Org
}

// Fold lets every scheduled change whose time has come take effect, and
// reports whether any did. A change that takes effect is the employee's
// next event: like one that arrives, it tries again what ChatHub refused
// before, so that a failure never keeps a change dated ahead (a
// termination) from taking effect.
func (r *Record) Fold(now time.Time) bool {
	folded := false
	r.Scheduled = slices.DeleteFunc(r.Scheduled, func(c Change) bool {
		if c.Time.After(now) {
			return false
		}
		r.take(&Mark{Kind: c.Kind, Time: c.Time, ID: c.ID, Seq: c.Seq}, c.Org, c.Name)
		folded = true
		return true
	})
	if folded {
		r.Failure = ""
	}
	return folded
}

// take lets an event take effect: it moves the mark of its kind, and the
// organization and name when it is the newest. It reports whether the
// event's own mark moved (a transfer has no mark of its own: whether it
// is the newest).
func (r *Record) take(m *Mark, org int, name string) bool {
	k := m.Kind
	newest := r.Latest.before(m)
	if newest {
		r.Latest, r.Org = m, org
	}
	if name != "" && r.Named.before(m) {
		r.Named, r.Name = m, name
	}
	slot := r.slot(k)
	if slot == nil {
		return newest
	}
	if !(*slot).before(m) {
		return false
	}
	*slot = m
	if k == LeaveStart || k == LeaveEnd {
		r.LeaveStarted = k == LeaveStart
	}
	return true
}

// slot returns the mark that events of kind k move, or nil for a kind
// that has none.
func (r *Record) slot(k Kind) **Mark {
	switch k {
	case Hire:
		return &r.Hire
	case Termination:
		return &r.Term
	case LeaveStart, LeaveEnd:
		return &r.Leave
	}
	return nil
}

// Want is the operator status the state asks for, and whether the state
// needs an operator at all.
func (s State) Want() (Status, bool) {
	switch s {
	case Active:
		return StatusActive, true
	case OnLeave:
		return StatusInactive, true
	}
	return StatusDeleted, false
}

// NextChange is the time of the earliest change still waiting, or zero.
func (r *Record) NextChange() time.Time {
	var next time.Time
	for _, c := range r.Scheduled {
		if next.IsZero() || c.Time.Before(next) {
			next = c.Time
		}
	}
	return next
}
