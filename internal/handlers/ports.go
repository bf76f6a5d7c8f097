package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// ErrConflict is returned by Store.Put when the record changed since the
// revision given.
var ErrConflict = errors.New("record changed since it was read")

type (
	// Store keeps employee records and operator claims, with optimistic
	// concurrency.
	Store interface {
		// Get returns the employee's record and its revision; revision 0
		// and an empty record when there is none.
		Get(ctx context.Context, employeeID string) (Record, uint64, error)
		// PutAll writes each record if its revision is still the one given
		// (0: only if there is none), all at once, and returns per record
		// the new revision or an error: ErrConflict when it changed.
		PutAll(ctx context.Context, writes []Write) ([]uint64, []error)
		// Claim makes the operator the employee's, unless another employee
		// already has it; it reports whether the operator is now theirs.
		Claim(ctx context.Context, orgID int, operatorID int64, employeeID string) (bool, error)
		// ClaimAll makes many claims at once, with Claim's answers.
		ClaimAll(ctx context.Context, claims []Claim) ([]bool, []error)
	}

	// ChatHub is what the handlers need of the ChatHub client.
	ChatHub interface {
		ListOperators(ctx context.Context, orgID int) ([]chathub.Operator, error)
		Invalidate(orgID int)
		Synchronize(ctx context.Context, ops []chathub.NewOperator) ([]chathub.Operator, error)
		SetStatus(ctx context.Context, id int64, status chathub.Status) error
	}
)

// Claim gives an operator to an employee.
type Claim struct {
	OrganizationID int
	OperatorID     int64
	EmployeeID     string
}

// Write is one record to write, with the revision it was read at.
type Write struct {
	Record   Record
	Revision uint64
}

// Message is one message taken off HR_EVENTS.
type Message struct {
	Body      []byte
	Seq       uint64 // stream sequence in HR_EVENTS
	Delivered int    // delivery attempt, from 1
	// MoreWaiting: when the batch was cut, more messages were waiting (in
	// the stream, or the batch was full).
	MoreWaiting bool
	// Carried: the message was carried over from the previous batch
	// already; it is never carried twice.
	Carried bool
}

// Action is what becomes of a message after its batch.
type Action int

// The actions the consumer maps to JetStream acknowledgements.
const (
	// Ack: done; its result is final.
	Ack Action = iota
	// Term: invalid; never deliver it again.
	Term
	// Nak: try again after Delay; no result yet.
	Nak
	// Carry: not handled yet; put it in the next batch. The processor
	// carries the last hires of an organization that would make a
	// synchronize call short of BatchMaxSize while more events are
	// waiting, so that they join the next batch's full call.
	Carry
)

// Decision is the outcome for one message: an action and, for Ack and
// Term, the result to publish first.
type Decision struct {
	Action Action
	Delay  time.Duration
	Result *hrevent.Result
	// Why names the cause of a Nak, for metrics: "chathub",
	// "unauthorized", "busy", "store" or "converging".
	Why string
}

// Report tells the consumer about the batch as a whole.
type Report struct {
	// Unauthorized: ChatHub refused the token; stop taking events until
	// it accepts it again.
	Unauthorized bool
	// Org is an organization the batch touched, for probing the token.
	Org int
	// Err is the first retryable ChatHub error of the batch, for logs.
	Err error
}
