// Package handlers holds the worker's two handlers. The intake takes HR
// events off the stream, merges them into the employees' records and
// decides at once what changes nothing. The reconciler makes ChatHub
// match an employee's desired state and publishes the results of the
// events ChatHub now reflects. Both see NATS and ChatHub only through the
// small interfaces in this file, and both return one Outcome per message
// that the broker maps to its acknowledgement.
package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// ErrConflict is returned by Store.PutAll when a record changed since the
// revision given.
var ErrConflict = errors.New("record changed since it was read")

type (
	// Store keeps employee records and operator claims, with optimistic
	// concurrency.
	Store interface {
		// Get returns the employee's record and its revision; revision 0
		// and an empty record when there is none.
		Get(ctx context.Context, employeeID string) (employee.Record, uint64, error)
		// Decode reads a record as the store keeps it.
		Decode(value []byte) (employee.Record, error)
		// PutAll writes each record if its revision is still the one given
		// (0: only if there is none), all at once, and returns per record
		// the new revision or an error: ErrConflict when it changed.
		PutAll(ctx context.Context, writes []Write) ([]uint64, []error)
		// ClaimAll makes each operator its employee's, unless another
		// employee has it already, and reports per claim whether the
		// operator is now that employee's.
		ClaimAll(ctx context.Context, claims []Claim) ([]bool, []error)
	}

	// ChatHub is what the reconciler needs of the ChatHub client.
	ChatHub interface {
		// FindByNames returns per chathub.NameKey the organization's
		// operators of those names that are not deleted; fresh asks
		// ChatHub rather than the client's cache.
		FindByNames(ctx context.Context, orgID int, names []string, fresh bool) (map[string][]chathub.Operator, error)
		// CountActive is how many of the organization's operators are
		// active, for a guard threshold in percent.
		CountActive(ctx context.Context, orgID int) (int, error)
		// Lookup lists the organization afresh and returns the operator
		// with id, if listed.
		Lookup(ctx context.Context, orgID int, id int64) (chathub.Operator, bool, error)
		Synchronize(ctx context.Context, ops []chathub.NewOperator) ([]chathub.Operator, error)
		SetStatus(ctx context.Context, id int64, status chathub.Status) error
	}

	// Results publishes result events and reports, per result, whether the
	// stream stored it.
	Results interface {
		Publish(ctx context.Context, results []hrevent.Result) []error
	}

	// Wakes asks for a look at employees at given times. One wake-up per
	// employee: asking again replaces the earlier one.
	Wakes interface {
		WakeAll(ctx context.Context, wakes []Wake) []error
	}

	// Guards keeps the mass-offboarding guard of each organization: its
	// state (revision-checked) and the deactivations waiting or held.
	Guards interface {
		State(ctx context.Context, org int) (guard.State, uint64, error)
		PutState(ctx context.Context, st guard.State, rev uint64) error
		Waiting(ctx context.Context, org int) (map[string]guard.Wait, error)
		PutWaiting(ctx context.Context, org int, waits []guard.Wait) error
		Forget(ctx context.Context, org int, ids []string) error
	}

	// Alerts tells people that an organization's guard tripped.
	Alerts interface {
		Tripped(ctx context.Context, org int, trip guard.Trip) error
	}

	// Events reads an input message back from the stream by its
	// sequence, for the original body a failed result carries.
	Events interface {
		Body(ctx context.Context, seq uint64) ([]byte, error)
	}
)

// Ports are what the handlers reach the world through.
type Ports struct {
	Store   Store
	ChatHub ChatHub
	Results Results
	Wakes   Wakes
	Events  Events
	Guards  Guards
	Alerts  Alerts
}

// Write is one record to write, with the revision it was read at.
type Write struct {
	Record   employee.Record
	Revision uint64
}

// Claim gives an operator to an employee.
type Claim struct {
	OrganizationID int
	OperatorID     int64
	EmployeeID     string
}

// Wake is a look at an employee asked for at a time.
type Wake struct {
	EmployeeID string
	At         time.Time
}
