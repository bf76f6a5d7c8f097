package employee_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestDoubtDoesNotBypassTheGuard: a termination whose message came back
// (a takeover, a graceful stop that handed it back) finds its operator's
// status in doubt; the mass-offboarding guard is asked all the same.
func TestDoubtDoesNotBypassTheGuard(t *testing.T) {
	r, _ := hired(t)
	r.Distrust() // what a redelivered message does (handlers/look.go:54)
	r.Merge(ev("t1", employee.Termination, now), 2, 2, "", now)
	d := r.Decide(now, verdict{Held: 7})
	if !d.Held {
		t.Errorf("guard that holds everything was bypassed: ops %+v", d.Ops)
	}
}

// TestOwnOperatorIsNeverLookedForToDelete: a move whose operator was made
// in the new organization, but whose status could not be set (no answer),
// leaves the operator's status in doubt, not a create to look for: the
// next decision never asks to find and delete an operator of the
// employee's name in their own organization (it would find their own).
func TestOwnOperatorIsNeverLookedForToDelete(t *testing.T) {
	r, h := hired(t)
	r.Merge(ev("l1", employee.LeaveStart, now.Add(-time.Minute)), 2, 1, "", now)
	drive(&r, h, now)
	r.Merge(in(ev("x1", employee.Transfer, now), 25), 3, 1, "", now)
	d := r.Decide(now, open{})
	if len(d.Ops) != 1 || d.Ops[0].Kind != employee.Ensure {
		t.Fatalf("setup %+v", d.Ops)
	}
	// Made (active) in organization 25; setting it on leave got no answer.
	a := employee.Answer{Op: d.Ops[0], Operator: employee.Operator{ID: 500, Org: 25, Status: employee.StatusActive},
		Err: errors.Join(employee.ErrUnknownOutcome, errors.New("timeout"))}
	r.Apply([]employee.Answer{a}, employee.DefaultPolicy, now)
	r.Retry.NextAt = time.Time{}
	d = r.Decide(now, open{})
	onLeave := false
	for _, op := range d.Ops {
		if op.Kind == employee.Ensure && op.NoCreate && op.Org == 25 && op.To == employee.StatusDeleted {
			t.Errorf("asks to find and delete an operator named %q in org 25, where the employee's own operator 500 is", op.Name)
		}
		onLeave = onLeave || op.Kind == employee.SetStatus && op.OperatorID == 500 && op.To == employee.StatusInactive
	}
	if !onLeave {
		t.Errorf("does not set operator 500 on leave again: %v", d.Ops)
	}
}
