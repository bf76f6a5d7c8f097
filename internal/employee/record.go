// Package employee is the worker's domain: an employee's record of HR
// events, the state machine, the desired state at a given time, what
// ChatHub must be asked for to match it (Decide), what each answer changes
// (Apply), and what each event's result is (Resolve). It knows neither
// NATS nor HTTP: ports.go names what it needs of the world, and the
// adapters (broker, chathub) provide it.
package employee

import (
	"slices"
	"time"

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

// Mark is the place in an employee's history of an event that took
// effect: the newest of its kind, or the newest of all.
type Mark struct {
	Kind Kind
	Time time.Time
	ID   string
	Seq  uint64
}

// Change is an event dated ahead that waits for its time.
type Change struct {
	ID   string
	Kind Kind
	Time time.Time
	Seq  uint64
	Org  int
	Name string
}

// Owed is an event taken in whose result is still to be published: when
// ChatHub reflects it, or when it is overtaken.
type Owed struct {
	ID   string
	Kind Kind
	Time time.Time
	Seq  uint64
	// Org is the organization the event names.
	Org      int
	Attempts int
	// Trace is the event's W3C traceparent, continued by its result.
	Trace string
	// Repeat: another message carried the same event id before (a replay
	// after a failure); the result tells the two apart.
	Repeat bool
}

// Operator is one of the employee's ChatHub operators, as last seen.
type Operator struct {
	ID     int64
	Org    int
	Status Status
	// Unsure: a status change may have reached ChatHub without the record
	// knowing (its answer was lost, or a worker stopped mid-way), so the
	// status is set again whatever it says.
	Unsure bool
}

// Pending is a create that may have been made; one a worker that stopped
// made may still be under way at ChatHub until Until.
type Pending struct {
	Org   int
	Name  string
	Until time.Time
}

// Retry is transient trouble being retried with backoff.
type Retry struct {
	Attempts int
	NextAt   time.Time
	Err      string
}

// Resolved is a result already published, kept to explain the employee
// and to know a redelivered message whose result is out.
type Resolved struct {
	ID      string
	Seq     uint64
	Outcome Outcome
	Reason  string
	At      time.Time
}

// Guarded is a deactivation the mass-offboarding guard holds: since when,
// the trip that holds it, and the organization whose guard tripped.
type Guarded struct {
	Since time.Time
	Held  uint64
	Org   int
}

// recentResults is how many resolved results a record keeps.
const recentResults = 5

// Record is what the worker keeps per employee. The state is a function of
// three marks (the newest hire, leave event and termination that took
// effect), the organization that of the newest event of any kind; merging
// an event only ever moves marks forward, so the order in which events
// arrive, and how often, does not matter. Events dated ahead wait in
// Scheduled until their time.
type Record struct {
	EmployeeID string

	Hire, Leave, Term *Mark
	// LeaveStarted: the newest leave event began a leave.
	LeaveStarted bool
	// Latest is the newest event that took effect, of any kind; Org, the
	// organization it names, is the employee's.
	Latest *Mark
	Org    int
	// Named is the newest event that took effect carrying a name; Name,
	// that name, is the name of an operator made for the employee.
	Named *Mark
	Name  string

	Scheduled []Change
	Owed      []Owed

	// Operator is the employee's operator (ID 0: none), in Org once a
	// move is made.
	Operator Operator
	// Retired are operators in organizations the employee left: each is
	// deleted once the operator in the new organization exists.
	Retired []Operator
	// Relist: an operator of theirs vanished from ChatHub; ChatHub is
	// listed afresh before the employee adopts or creates one.
	Relist bool
	// Pending is a create whose outcome is unknown (its answer was lost,
	// or the worker stopped): the operator may exist. It is looked for
	// (listing afresh) before another is made, and deleted if the state
	// no longer wants it.
	Pending *Pending

	Retry *Retry
	// Failure is why ChatHub refused this employee's state (or the retry
	// policy ran out, or a person rejected a deactivation); the worker
	// tries again at their next event.
	Failure string
	Recent  []Resolved
	// Guard is set while the mass-offboarding guard holds the employee's
	// deactivation.
	Guard *Guarded
	// Due is when the worker looks at the employee again, for a change
	// dated ahead or a retry; zero when nothing waits. The employee is on
	// the store's list of unfinished work while it is set.
	Due time.Time
}

// New returns the empty record of an employee.
func New(employeeID string) Record { return Record{EmployeeID: employeeID} }

// Clone returns a deep copy: changing it leaves r as it was.
func (r Record) Clone() Record {
	r.Scheduled = slices.Clone(r.Scheduled)
	r.Owed = slices.Clone(r.Owed)
	r.Retired = slices.Clone(r.Retired)
	r.Recent = slices.Clone(r.Recent)
	return r
}

// Distrust marks the operators' statuses as unsure: work on the employee
// may have been under way when a worker stopped.
func (r *Record) Distrust() {
	if r.Operator.ID != 0 {
		r.Operator.Unsure = true
	}
	for i := range r.Retired {
		r.Retired[i].Unsure = true
	}
}

// Known reports whether the record holds anything: an employee whose
// events were taken in.
func (r *Record) Known() bool { return r.Latest != nil || len(r.Scheduled) > 0 || len(r.Recent) > 0 }

// TryNow lets a retry waiting for its backoff go at the next look, as a
// person who provisions the employee on demand asks, and reports whether
// one was waiting. A failure is left as it is: ChatHub refused that state,
// and the employee's next event (or a replay) tries it again.
func (r *Record) TryNow() bool {
	if r.Retry == nil || r.Retry.NextAt.IsZero() {
		return false
	}
	r.Retry.NextAt = time.Time{}
	return true
}
