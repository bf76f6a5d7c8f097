package employee

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

// ErrConflict is returned by a revision-checked write that found the
// value changed since it was read.
var ErrConflict = errors.New("changed since it was read")

// The ports: what the worker needs of the world, in the domain's terms.
// The NATS adapter (package broker) keeps records, claims and the guard;
// the HTTP adapter (package chathub) makes operations.
type (
	// Store keeps employee records, with optimistic concurrency, and the
	// list of employees whose work is unfinished.
	Store interface {
		// Get returns the employee's record and its revision; revision 0
		// and an empty record when there is none.
		Get(ctx context.Context, employeeID string) (Record, uint64, error)
		// Put writes the record if its revision is still rev (0: only if
		// there is none) and returns the new revision, or ErrConflict.
		Put(ctx context.Context, rec Record, rev uint64) (uint64, error)
		// PutAll writes several records as Put does, at once.
		PutAll(ctx context.Context, recs []Versioned) ([]uint64, []error)
		// Note keeps the employee on the list of unfinished work, due at
		// at (zero: now): a worker that takes over, and the sweep, look
		// at every employee on it. Done takes them off.
		Note(ctx context.Context, employeeID string, at time.Time) error
		Done(ctx context.Context, employeeID string) error
		// Unfinished calls each with every employee on the list.
		Unfinished(ctx context.Context, each func(employeeID string, at time.Time)) error
	}

	// Claims says which employee an operator belongs to, so that no two
	// employees ever share one.
	Claims interface {
		// ClaimAll makes each operator its employee's unless another
		// employee has it, and reports per claim whether it is now that
		// employee's.
		ClaimAll(ctx context.Context, claims []Claim) ([]bool, []error)
	}

	// Intents keeps, while a synchronize call may be under way, which
	// employees' operators it may make: whoever leads after a crash looks
	// for them (a create is not idempotent, and its answer may be lost
	// with the worker).
	Intents interface {
		// Intend notes the creates of one call in org and returns a key.
		Intend(ctx context.Context, org int, creates []Intent) (string, error)
		// Forget drops the note once every employee's record says what
		// came of their create.
		Forget(ctx context.Context, key string) error
		// Intents calls each with every note kept, and when it was
		// written.
		Intents(ctx context.Context, each func(key string, org int, at time.Time, creates []Intent)) error
	}

	// ChatHub makes operations, paced to ChatHub's rate with urgent ones
	// first, and answers each once made.
	ChatHub interface {
		// Do starts op when the rate allows, and calls done with its
		// answer. It never blocks.
		Do(op Op, done func(Answer))
		// Withdraw takes back an operation not started yet, and reports
		// whether it did (done is then never called).
		Withdraw(op Op) bool
		// CountActive is how many of the organization's operators are
		// active, for a guard threshold in percent.
		CountActive(ctx context.Context, org int) (int, error)
	}

	// Guards keeps each organization's mass-offboarding guard: its state,
	// revision-checked, and the deactivations a trip holds.
	Guards interface {
		State(ctx context.Context, org int) (guard.State, uint64, error)
		PutState(ctx context.Context, st guard.State, rev uint64) (uint64, error)
		States(ctx context.Context) ([]guard.State, error)
		Hold(ctx context.Context, org int, waits []guard.Wait) error
		Held(ctx context.Context, org int) (map[string]guard.Wait, error)
		// HeldOne returns the employee's held deactivation in org, if any.
		HeldOne(ctx context.Context, org int, employeeID string) (guard.Wait, bool, error)
		Release(ctx context.Context, org int, employeeIDs []string) error
	}

	// Alerts tells people that an organization's guard tripped.
	Alerts interface {
		Tripped(ctx context.Context, org int, trip guard.Trip) error
	}
)

// Intent is one create a synchronize call may make.
type Intent struct {
	EmployeeID string `json:"employeeId"`
	Name       string `json:"name"`
}

// Versioned is a record to write, with the revision it was read at.
type Versioned struct {
	Record *Record
	Rev    uint64
}

// Claim gives an operator to an employee.
type Claim struct {
	Org        int
	OperatorID int64
	EmployeeID string
}
