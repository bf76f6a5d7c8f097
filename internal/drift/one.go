package drift

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// One is the comparison of one employee's record with ChatHub, for
// provisioning on demand (worker reconcile -employee ID).
type One struct {
	EmployeeID     string `json:"employeeId"`
	OrganizationID int    `json:"organizationId"`
	// State is the employee's state now; Desired the status it asks
	// ChatHub to hold (deleted: no operator is wanted).
	State   string `json:"state"`
	Desired string `json:"desired"`
	// OperatorID is the operator the record names (0: none), Recorded
	// the status the record says it has, Listed what ChatHub lists for
	// it ("missing" when ChatHub does not list it, "none" when the record
	// names no operator).
	OperatorID int64  `json:"operatorId,omitempty"`
	Recorded   string `json:"recorded"`
	Listed     string `json:"listed"`
	// InStep: ChatHub holds what the record asks for now.
	InStep bool `json:"inStep"`
	// Busy: the worker is working on the employee (an event waiting for
	// its result, a create, a retry, a guard hold, a failure).
	Busy bool `json:"busy"`
	// Drift is what a person changed in ChatHub, found when the employee
	// is not busy; Applied once the record is corrected.
	Drift *Finding `json:"drift,omitempty"`
}

// CheckOne compares one employee with ChatHub, with one list call of the
// organization of their operator (or theirs when they have none). An
// employee without a record is employee.ErrUnknown.
func CheckOne(ctx context.Context, store Store, hub Lister, employeeID string, now time.Time) (One, error) {
	rec, rev, err := store.Get(ctx, employeeID)
	if err != nil {
		return One{}, err
	}
	if rev == 0 {
		return One{}, fmt.Errorf("employee %q %w", employeeID, ErrUnknown)
	}
	e := EntryOf(rec, rev, now)
	o := One{EmployeeID: employeeID, OrganizationID: e.OrganizationID, State: rec.StateAt(now).String(),
		Desired: e.Desired.String(), OperatorID: e.OperatorID, Recorded: "none", Listed: "none", Busy: e.Busy}
	if e.OperatorID == 0 {
		o.InStep = !e.Needed
		return o, nil
	}
	o.Recorded = e.Recorded.String()
	ops, err := hub.ListOperators(ctx, e.OrganizationID)
	if err != nil {
		return o, err
	}
	op, listed := chathub.FindByID(ops, e.OperatorID)
	switch {
	case !listed:
		o.Listed, o.InStep = "missing", !e.Needed
	default:
		o.Listed = op.Status.String()
		o.InStep = op.Status == e.Desired || !e.Needed && op.Status == employee.StatusDeleted
	}
	// The organization's other operators are no concern of this
	// employee's: only a finding of theirs is kept.
	for _, f := range Compare(e.OrganizationID, []Entry{e}, nil, ops).Findings {
		if f.EmployeeID == employeeID {
			o.Drift = &f
		}
	}
	return o, nil
}

// ErrUnknown is an employee of whom no event has been taken in.
var ErrUnknown = errors.New("is unknown: no event of theirs has been taken in")

// ApplyOne has the worker that leads look at the employee now: it
// corrects the record when a person changed ChatHub (as Apply does), lets
// a retry waiting for its backoff go at once, and wakes the worker for
// the employee. It reports whether it lifted a backoff. A failure or a
// guard hold stays: the employee's next event (or a replay), or a
// person's decision at the guard, settles those.
func ApplyOne(ctx context.Context, store Store, poke Poker, o *One) (bool, error) {
	if o.Drift != nil {
		findings := []Finding{*o.Drift}
		if err := Apply(ctx, store, poke, findings); err != nil {
			return false, err
		}
		if *o.Drift = findings[0]; o.Drift.Applied {
			return false, nil
		}
		// The record changed since it was compared: the worker is at it.
	}
	lifted := false
	for attempt := 0; ; attempt++ {
		rec, rev, err := store.Get(ctx, o.EmployeeID)
		if err != nil {
			return false, err
		}
		if !rec.TryNow() {
			break
		}
		_, err = store.Put(ctx, rec, rev)
		if err == nil {
			lifted = true
			break
		}
		if !errors.Is(err, employee.ErrConflict) || attempt == 10 {
			return false, err
		}
	}
	if err := poke.Poke(ctx, o.EmployeeID); err != nil {
		return lifted, err
	}
	return lifted, nil
}
