package employee

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The classes of trouble an operation can meet, as the domain tells them
// apart. An error of any other class is transient: tried again with
// backoff.
var (
	// ErrRefused: ChatHub refused the change for this employee's data
	// (an unknown organization, a name it does not take). The events
	// that asked for it fail; the next event tries again.
	ErrRefused = errors.New("ChatHub refused the change")
	// ErrUnauthorized: ChatHub refuses the company token, or the worker
	// is misconfigured (a wrong base URL, a proxy in the way). Nothing is
	// the employee's fault: the work waits until ChatHub accepts the
	// token again, spending no attempt.
	ErrUnauthorized = errors.New("ChatHub refuses the company token")
	// ErrGone: the operator was deleted or removed in ChatHub by hand, and
	// ChatHub cannot bring it back: the employee gets another.
	ErrGone = errors.New("the operator is no longer in ChatHub")
	// ErrUnknownOutcome: ChatHub may have made the change without
	// answering; a create is then looked for before it is made again.
	ErrUnknownOutcome = errors.New("ChatHub may have made the change")
)

// Answer is what came of one Op.
type Answer struct {
	Op Op
	// Operator is the employee's operator after an Ensure: adopted or
	// created, with its status; set even when Err says its status could
	// not be set.
	Operator Operator
	// Err is nil when the operation was made.
	Err error
	// RetryAfter is how long ChatHub asked the worker to wait, if it did.
	RetryAfter time.Duration
	// Intent is the key of the note kept while the create of an Ensure
	// may have been under way (see Intents).
	Intent string
}

// Apply lays the answers to one decision's operations over the record. It
// returns the failed results of the events whose change ChatHub refused
// (or could not be brought to within the retry policy), and whether
// ChatHub refused the token, which spends no attempt. A transient trouble
// schedules a retry with backoff.
func (r *Record) Apply(answers []Answer, p Policy, now time.Time) (failed []Resolution, unauthorized bool) {
	var trouble error
	var retryAfter time.Duration
	for _, a := range answers {
		if a.Err != nil && a.Op.Kind == Ensure && a.Operator.ID != 0 && !a.Op.NoCreate {
			r.made(a) // made, though its status could not be set
		}
		switch err := a.Err; {
		case err == nil:
			r.made(a)
		case errors.Is(err, ErrGone):
			r.gone(a.Op)
		case errors.Is(err, ErrUnauthorized):
			unauthorized = true
		case errors.Is(err, ErrRefused):
			if r.Failure == "" {
				r.Failure = fmt.Sprintf("ChatHub refused to %s: %v", a.Op, err)
			}
		default:
			switch {
			case !errors.Is(err, ErrUnknownOutcome):
			case a.Op.Kind == Ensure && a.Operator.ID != 0:
				// Made or found: what is unknown is its status, not
				// whether it exists (it is the employee's own, never one
				// to look for and delete).
				r.unsure(a.Operator.ID)
			case a.Op.Kind == Ensure && r.Pending == nil:
				r.Pending = &Pending{Org: a.Op.Org, Name: a.Op.Name}
			case a.Op.Kind == SetStatus:
				r.unsure(a.Op.OperatorID)
			}
			if trouble == nil {
				trouble, retryAfter = err, a.RetryAfter
			}
		}
	}
	switch {
	case r.Failure != "":
		r.Retry = nil
		return r.Fail(r.Failure, now), unauthorized
	case trouble != nil:
		attempt := 1
		if r.Retry != nil {
			attempt = r.Retry.Attempts + 1
		}
		if attempt >= p.MaxAttempts {
			r.Retry, r.Failure = nil, fmt.Sprintf("ChatHub could not be brought to reflect the event within the retry policy (%d attempts): %v", attempt, trouble)
			return r.Fail(r.Failure, now), unauthorized
		}
		r.Retry = &Retry{Attempts: attempt, NextAt: now.Add(max(p.Backoff(attempt), retryAfter)), Err: trouble.Error()}
		r.bump()
	case !unauthorized:
		r.Retry = nil
	}
	return nil, unauthorized
}

// made records an operation ChatHub made.
func (r *Record) made(a Answer) {
	if a.Op.Kind == Ensure {
		if r.Pending != nil && r.Pending.Org == a.Op.Org {
			r.Pending = nil
		}
		if a.Op.NoCreate {
			// Found and deleted, or never made. One found is kept when
			// the employee has none, so that a rehire reactivates it; one
			// found and kept through a move is deleted once the operator
			// in the new organization exists.
			switch found := a.Operator; {
			case found.ID == 0 || found.ID == r.Operator.ID:
			case r.Operator.ID == 0:
				r.Operator = found
			case found.Status != StatusDeleted:
				r.Retired = append(r.Retired, found)
			}
			return
		}
		old := r.Operator
		if old.ID != 0 && old.ID != a.Operator.ID && (old.Status != StatusDeleted || old.Unsure) {
			r.Retired = append(r.Retired, old)
		}
		// An operator adopted back (a move undone before the old one was
		// deleted) is the employee's again, not one to delete.
		r.Retired = slices.DeleteFunc(r.Retired, func(o Operator) bool { return o.ID == a.Operator.ID })
		r.Operator, r.Relist = a.Operator, false
		return
	}
	if r.Operator.ID == a.Op.OperatorID {
		r.Operator.Status, r.Operator.Unsure = a.Op.To, false
	}
	for i := range r.Retired {
		if r.Retired[i].ID == a.Op.OperatorID {
			r.Retired[i].Status, r.Retired[i].Unsure = a.Op.To, false
		}
	}
	r.Retired = slices.DeleteFunc(r.Retired, func(o Operator) bool { return o.Status == StatusDeleted })
}

// unsure marks an operator's status as unsure.
func (r *Record) unsure(id int64) {
	if r.Operator.ID == id {
		r.Operator.Unsure = true
	}
	for i := range r.Retired {
		if r.Retired[i].ID == id {
			r.Retired[i].Unsure = true
		}
	}
}

// gone forgets an operator deleted or removed by hand. One of an
// organization the employee left is as good as deleted; their own is
// replaced, from a fresh list.
func (r *Record) gone(op Op) {
	r.Retired = slices.DeleteFunc(r.Retired, func(o Operator) bool { return o.ID == op.OperatorID })
	if r.Operator.ID == op.OperatorID {
		r.Operator, r.Relist = Operator{}, true
	}
}

// bump counts one more attempt for the owed events that took effect.
func (r *Record) bump() {
	for i, o := range r.Owed {
		if !r.isScheduled(o.ID) {
			r.Owed[i].Attempts++
		}
	}
}
