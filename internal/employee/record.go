// Package employee is the worker's domain: an employee's record of HR
// events, the state machine of CONTRACT §3, the desired state at a given
// time, and what each event's result is. It knows neither NATS nor HTTP;
// the handlers read and write records through small interfaces.
package employee

import (
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/opstatus"
)

// Status is an operator's status as ChatHub stores it.
type Status = opstatus.Status

// The statuses ChatHub knows.
const (
	StatusActive   = opstatus.Active
	StatusInactive = opstatus.Inactive
	StatusDeleted  = opstatus.Deleted
)

// Mark is the place in an employee's history of the newest event of one
// kind that has taken effect.
type Mark struct {
	Time time.Time `json:"time"`
	ID   string    `json:"id"`
	Seq  uint64    `json:"seq"`
}

// Change is an event dated ahead that waits for its time (CONTRACT §3).
type Change struct {
	ID   string       `json:"id"`
	Kind hrevent.Kind `json:"kind"`
	Time time.Time    `json:"time"`
	Seq  uint64       `json:"seq"`
	Name string       `json:"name,omitempty"`
}

// Owed is an event recorded by the intake whose result is still to be
// published: when ChatHub reflects it, or it is overtaken.
type Owed struct {
	ID       string       `json:"id"`
	Kind     hrevent.Kind `json:"kind"`
	Time     time.Time    `json:"time"`
	Seq      uint64       `json:"seq"`
	Attempts int          `json:"attempts"`
	// Trace is the event's W3C traceparent, continued by its result.
	Trace string `json:"trace,omitempty"`
}

// Intent is a create that may have reached ChatHub: it is written before
// synchronize is called and cleared once the operator is known.
type Intent struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

// Lease says which worker drives ChatHub for the employee until when.
type Lease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Retry is transient trouble being retried with backoff.
type Retry struct {
	Attempts int       `json:"attempts"`
	NextAt   time.Time `json:"nextAt"`
	Err      string    `json:"err"`
}

// Resolved is a result already published, kept for explain and to know a
// redelivered message whose result is out.
type Resolved struct {
	ID      string          `json:"id"`
	Seq     uint64          `json:"seq"`
	Outcome hrevent.Outcome `json:"outcome"`
	Reason  string          `json:"reason,omitempty"`
	At      time.Time       `json:"at"`
}

// recentResults is how many resolved results a record keeps.
const recentResults = 5

// Record is what the worker keeps per employee. The desired state is a
// function of three marks (the newest hire, leave event and termination
// that took effect), and merging an event only ever moves a mark forward,
// so the order in which events arrive, and how often, does not matter.
// Events dated ahead wait in Scheduled until their time.
type Record struct {
	EmployeeID     string `json:"employeeId"`
	OrganizationID int    `json:"organizationId"`

	Hire         *Mark  `json:"hire,omitempty"`
	Name         string `json:"name,omitempty"` // of the newest hire
	Leave        *Mark  `json:"leave,omitempty"`
	LeaveStarted bool   `json:"leaveStarted,omitempty"` // the newest leave event began a leave
	Term         *Mark  `json:"term,omitempty"`

	Scheduled []Change `json:"scheduled,omitempty"`
	Owed      []Owed   `json:"owed,omitempty"`

	OperatorID     int64   `json:"operatorId,omitempty"`
	OperatorStatus Status  `json:"operatorStatus"`
	Pending        *Intent `json:"pending,omitempty"`

	Lease *Lease `json:"lease,omitempty"`
	Retry *Retry `json:"retry,omitempty"`
	// Failure is why ChatHub refused this employee's state (or the retry
	// policy ran out); the worker tries again at their next event.
	Failure string     `json:"failure,omitempty"`
	Recent  []Resolved `json:"recent,omitempty"`
	// Guard is set while the mass-offboarding guard counts this
	// employee's deactivation.
	Guard *Guarded `json:"guard,omitempty"`
}

// Guarded is a deactivation the mass-offboarding guard counts: since when
// it waits, and the trip that holds it (0 while none does).
type Guarded struct {
	Since time.Time `json:"since"`
	Held  uint64    `json:"held,omitempty"`
}

// New returns the empty record of an employee.
func New(employeeID string, orgID int) Record {
	return Record{EmployeeID: employeeID, OrganizationID: orgID}
}

// Clone returns a deep copy: merging into it leaves r as it was.
func (r Record) Clone() Record {
	r.Scheduled = slices.Clone(r.Scheduled)
	r.Owed = slices.Clone(r.Owed)
	r.Recent = slices.Clone(r.Recent)
	return r
}
