package employee

import (
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// State is where an employee stands, per CONTRACT §3.
type State int

// The states of CONTRACT §3.
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
	return hrevent.Less(m.Time, m.ID, o.Time, o.ID)
}

// State folds the marks through the state machine of CONTRACT §3. A hire
// resets any state to active, so only what came after the newest hire
// counts: a termination wins over a leave, and the newest leave event
// decides between active and on leave.
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

// Fold lets every scheduled change whose time has come take effect, and
// reports whether any did.
func (r *Record) Fold(now time.Time) bool {
	folded := false
	r.Scheduled = slices.DeleteFunc(r.Scheduled, func(c Change) bool {
		if c.Time.After(now) {
			return false
		}
		r.move(c.Kind, &Mark{Time: c.Time, ID: c.ID, Seq: c.Seq}, c.Name)
		folded = true
		return true
	})
	return folded
}

// move puts m in its kind's slot if it is newer than the mark there.
func (r *Record) move(k hrevent.Kind, m *Mark, name string) bool {
	slot := r.slot(k)
	if !(*slot).before(m) {
		return false
	}
	*slot = m
	switch k {
	case hrevent.Hired:
		r.Name = name
	case hrevent.LeaveStarted, hrevent.LeaveEnded:
		r.LeaveStarted = k == hrevent.LeaveStarted
	}
	return true
}

// slot returns the mark that events of kind k move.
func (r *Record) slot(k hrevent.Kind) **Mark {
	switch k {
	case hrevent.Hired:
		return &r.Hire
	case hrevent.Terminated:
		return &r.Term
	}
	return &r.Leave
}

// target is the state an event of kind k puts an employee in.
func target(k hrevent.Kind) State {
	switch k {
	case hrevent.Hired, hrevent.LeaveEnded:
		return Active
	case hrevent.LeaveStarted:
		return OnLeave
	}
	return Terminated
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

// Converged reports whether ChatHub, as far as the record knows, holds
// what the state asks for.
func (r *Record) Converged() bool {
	if r.Pending != nil {
		return false
	}
	want, needed := r.State().Want()
	if needed {
		return r.OperatorID != 0 && r.OperatorStatus == want
	}
	return r.OperatorID == 0 || r.OperatorStatus == StatusDeleted
}

// Deactivates reports whether making ChatHub match the desired state
// takes an operator that is not deleted from active to on leave or
// deleted, or from on leave to deleted (CONTRACT §7).
func (r *Record) Deactivates() bool {
	if r.OperatorID == 0 || r.Pending != nil || r.OperatorStatus == StatusDeleted {
		return false
	}
	want, _ := r.State().Want()
	return want > r.OperatorStatus
}

// NeedsCreate reports whether the employee needs an operator and has none.
func (r *Record) NeedsCreate() bool {
	_, needed := r.State().Want()
	return needed && r.OperatorID == 0
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
