// Package handlers holds the HR logic: it folds an employee's events into a
// desired state, drives ChatHub toward it and decides each event's outcome.
// It sees NATS and ChatHub only through the small interfaces in this
// package.
package handlers

import (
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// State is where an employee stands, per CONTRACT §3.
type State int

// The states of CONTRACT §3.
const (
	StateNone State = iota
	StateActive
	StateOnLeave
	StateTerminated
)

func (s State) String() string {
	return [...]string{"none", "active", "on leave", "terminated"}[s]
}

// Mark is the place in an employee's history of the newest event of one
// kind that the worker has seen.
type Mark struct {
	Time time.Time `json:"time"`
	ID   string    `json:"id"`
	Seq  uint64    `json:"seq"`
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

// Pending is a create that may have reached ChatHub: it is written before
// synchronize is called, and cleared once the operator is known.
type Pending struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

// Lease says which worker may call ChatHub for the employee until when;
// others record events but leave the calls to it.
type Lease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Record is what the worker keeps per employee in the KV bucket. The
// desired state is a function of three marks (the newest hire, leave event
// and termination), and merging an event only ever moves a mark forward.
// So the order in which events arrive, and how often, does not matter.
type Record struct {
	EmployeeID     string `json:"employeeId"`
	OrganizationID int    `json:"organizationId"`

	Hire         *Mark  `json:"hire,omitempty"`
	Name         string `json:"name,omitempty"` // of the newest hire
	Leave        *Mark  `json:"leave,omitempty"`
	LeaveStarted bool   `json:"leaveStarted,omitempty"` // the newest leave event began a leave
	Term         *Mark  `json:"term,omitempty"`

	OperatorID     int64          `json:"operatorId,omitempty"`
	OperatorStatus chathub.Status `json:"operatorStatus"`
	Pending        *Pending       `json:"pending,omitempty"`
	Lease          *Lease         `json:"lease,omitempty"`
}

// State folds the marks through the state machine of CONTRACT §3. A hire
// resets any state to active, so only what came after the newest hire
// counts: a termination wins over a leave, and the newest leave event
// decides between active and on leave.
func (r *Record) State() State {
	switch {
	case r.Hire == nil:
		return StateNone
	case r.Hire.before(r.Term):
		return StateTerminated
	case r.Hire.before(r.Leave) && r.LeaveStarted:
		return StateOnLeave
	}
	return StateActive
}

// verdict is what merging one event did to a record.
type verdict int

const (
	verdictNew        verdict = iota // the event moved a mark
	verdictRedelivery                // the event is its kind's mark, same message
	verdictDuplicate                 // same id as its kind's mark, another message
	verdictOlder                     // its kind's mark is newer
)

// merge folds one event into the record.
func (r *Record) merge(e hrevent.Event, seq uint64) verdict {
	m := &Mark{Time: e.Time, ID: e.ID, Seq: seq}
	slot := r.slot(e.Kind)
	cur := *slot
	switch {
	case cur != nil && cur.ID == e.ID && cur.Seq == seq:
		return verdictRedelivery
	case cur != nil && cur.ID == e.ID:
		return verdictDuplicate
	case !cur.before(m):
		return verdictOlder
	}
	*slot = m
	switch e.Kind {
	case hrevent.Hired:
		r.Name = e.Name
	case hrevent.LeaveStarted, hrevent.LeaveEnded:
		r.LeaveStarted = e.Kind == hrevent.LeaveStarted
	}
	return verdictNew
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

// skipReason says why an event that merged cleanly still changes nothing in
// ChatHub, or "" when it takes effect.
func (r *Record) skipReason(e hrevent.Event) string {
	if e.Kind == hrevent.Hired {
		return ""
	}
	m := &Mark{Time: e.Time, ID: e.ID}
	switch {
	case r.Hire == nil:
		return "employee " + quote(e.EmployeeID) + " has no operator: no hire has been seen for them, so there is nothing to change"
	case m.before(r.Hire):
		return "the event is older than the hire " + quote(r.Hire.ID) + " already applied, which supersedes it"
	case e.Kind != hrevent.Terminated && r.Hire.before(r.Term) && r.Term.before(m):
		return "the employee was terminated by " + quote(r.Term.ID) + " before this event; a leave changes nothing for them"
	}
	return ""
}

// wantStatus is the operator status the state asks for, and whether the
// state needs an operator at all.
func wantStatus(s State) (chathub.Status, bool) {
	switch s {
	case StateActive:
		return chathub.StatusActive, true
	case StateOnLeave:
		return chathub.StatusInactive, true
	}
	return chathub.StatusDeleted, false
}

// converged reports whether ChatHub, as far as the record knows, holds
// what the state asks for.
func (r *Record) converged() bool {
	if r.Pending != nil {
		return false
	}
	want, needed := wantStatus(r.State())
	if needed {
		return r.OperatorID != 0 && r.OperatorStatus == want
	}
	return r.OperatorID == 0 || r.OperatorStatus == chathub.StatusDeleted
}

// needsCreate reports whether the employee needs an operator and has none.
func (r *Record) needsCreate() bool {
	_, needed := wantStatus(r.State())
	return needed && r.OperatorID == 0
}

// leasedByOther reports whether another worker holds the lease.
func (r *Record) leasedByOther(owner string, now time.Time) bool {
	return r.Lease != nil && r.Lease.Owner != owner && now.Before(r.Lease.Until)
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return "\"" + s + "\""
}
