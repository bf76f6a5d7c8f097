package employee

import "time"

// Kind is what happened to an employee: the kind of an HR event. Kinds
// lists them; a new kind of event is added there first, with its effect
// on the state in effect, then to the event schemas.
type Kind string

// The kinds of HR event.
const (
	Hire        Kind = "hired"
	LeaveStart  Kind = "leave_started"
	LeaveEnd    Kind = "leave_ended"
	Termination Kind = "terminated"
	// Transfer moves the employee to the organization it names; its
	// only effect is the move.
	Transfer Kind = "transferred"
)

// Kinds lists every kind of HR event the worker knows.
var Kinds = []Kind{Hire, LeaveStart, LeaveEnd, Termination, Transfer}

// NeedsName reports whether an event of the kind must carry a name: a hire
// makes an operator, and an operator needs one.
func (k Kind) NeedsName() bool { return k == Hire }

// Urgent reports whether an event of the kind takes access away: when
// more work waits than ChatHub's rate allows, it goes first.
func (k Kind) Urgent() bool { return k == LeaveStart || k == Termination }

// target is the state an event of kind k asks for, for an employee who
// was hired; a transfer asks for none of its own (it moves the employee,
// whatever their state).
func target(k Kind) (State, bool) {
	switch k {
	case Hire, LeaveEnd:
		return Active, true
	case LeaveStart:
		return OnLeave, true
	case Termination:
		return Terminated, true
	}
	return None, false
}

// Event is a valid HR event, as the domain sees it.
type Event struct {
	ID         string
	Kind       Kind
	Time       time.Time
	EmployeeID string
	// OrganizationID is the organization the employee belongs to from
	// the event's time on.
	OrganizationID int
	// Name is trimmed; empty when the event carries none.
	Name string
}

// Before reports whether e comes before o in an employee's history: by
// time, and for equal times by id compared byte by byte.
func (e Event) Before(o Event) bool { return Less(e.Time, e.ID, o.Time, o.ID) }

// Less orders two events given by time and id.
func Less(t1 time.Time, id1 string, t2 time.Time, id2 string) bool {
	if !t1.Equal(t2) {
		return t1.Before(t2)
	}
	return id1 < id2
}

// Outcome is the final word on an event the domain decides.
type Outcome string

// The outcomes of an event that was valid.
const (
	Applied Outcome = "applied"
	Skipped Outcome = "skipped"
	Failed  Outcome = "failed"
)
