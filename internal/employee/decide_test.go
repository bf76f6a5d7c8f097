package employee_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// hired is a record of an active employee of organization 24 whose
// operator 101 ChatHub holds, and the ChatHub that holds it.
func hired(t *testing.T) (employee.Record, *hub) {
	t.Helper()
	var r employee.Record
	r.Merge(ev("h1", employee.Hire, now.Add(-time.Hour)), 1, 1, "", now)
	h := newHub()
	h.nextID = 100
	drive(&r, h, now)
	if r.Operator.ID != 101 {
		t.Fatalf("setup: operator %+v", r.Operator)
	}
	return r, h
}

// TestDecideOps: what each kind of change asks of ChatHub, and which
// operations are urgent or counted by the guard.
func TestDecideOps(t *testing.T) {
	t.Parallel()
	r, _ := hired(t)
	if d := r.Decide(now, open{}); len(d.Ops) != 0 || len(d.Results) != 0 {
		t.Errorf("in step: %+v, want nothing", d)
	}
	leave := r.Clone()
	leave.Merge(ev("l1", employee.LeaveStart, now), 2, 1, "", now)
	d := leave.Decide(now, open{})
	if len(d.Ops) != 1 || d.Ops[0].Kind != employee.SetStatus || d.Ops[0].To != employee.StatusInactive || !d.Ops[0].Deactivation || !d.Ops[0].Urgent {
		t.Errorf("a leave: %+v, want an urgent deactivation to inactive", d.Ops)
	}
	back := leave.Clone()
	back.Apply([]employee.Answer{{Op: d.Ops[0]}}, employee.DefaultPolicy, now)
	back.Decide(now, open{})
	back.Merge(ev("e1", employee.LeaveEnd, now.Add(time.Second)), 3, 1, "", now)
	d = back.Decide(now, open{})
	if len(d.Ops) != 1 || d.Ops[0].To != employee.StatusActive || d.Ops[0].Deactivation || d.Ops[0].Urgent {
		t.Errorf("back from leave: %+v, want a reactivation, neither urgent nor counted", d.Ops)
	}
}

// TestMoveIsMadeBeforeItIsBroken: a transfer of an employee on leave
// first makes an operator in the new organization, then gives it the
// leave's status, and only then deletes the old one; the deletion is
// urgent but not a deactivation the guard counts.
func TestMoveIsMadeBeforeItIsBroken(t *testing.T) {
	t.Parallel()
	r, h := hired(t)
	r.Merge(ev("l1", employee.LeaveStart, now.Add(-time.Minute)), 2, 1, "", now)
	drive(&r, h, now)
	r.Merge(in(ev("x1", employee.Transfer, now), 25), 3, 1, "", now)
	steps := []func(employee.Op) bool{
		func(op employee.Op) bool {
			return op.Kind == employee.Ensure && op.Org == 25 && op.Name == "Alex" && op.To == employee.StatusInactive && !op.Deactivation
		},
		func(op employee.Op) bool {
			return op.Kind == employee.SetStatus && op.OperatorID == 101 && op.To == employee.StatusDeleted && !op.Deactivation && op.Urgent
		},
	}
	for i, ok := range steps {
		d := r.Decide(now, open{})
		if len(d.Ops) != 1 || !ok(d.Ops[0]) {
			t.Fatalf("step %d: %+v", i+1, d.Ops)
		}
		r.Apply([]employee.Answer{h.do(d.Ops[0])}, employee.DefaultPolicy, now)
	}
	d := r.Decide(now, open{})
	if len(d.Ops) != 0 || len(d.Results) != 1 || d.Results[0].ID != "x1" || d.Results[0].Outcome != employee.Applied {
		t.Errorf("after the move: %+v, want the transfer applied", d)
	}
	if r.Operator.ID != 102 || r.Operator.Org != 25 || len(r.Retired) != 0 {
		t.Errorf("operator %+v retired %+v", r.Operator, r.Retired)
	}
}

// TestRefusedMoveLeavesTheOldOperator: when the new organization refuses
// the create, the transfer fails with ChatHub's reason and the old
// operator is not touched; the employee's next event tries again.
func TestRefusedMoveLeavesTheOldOperator(t *testing.T) {
	t.Parallel()
	r, _ := hired(t)
	r.Merge(in(ev("x1", employee.Transfer, now), 99), 2, 1, "", now)
	d := r.Decide(now, open{})
	refused := employee.Answer{Op: d.Ops[0], Err: errors.Join(employee.ErrRefused, errors.New("organizationId is missing or unknown"))}
	failed, _ := r.Apply([]employee.Answer{refused}, employee.DefaultPolicy, now)
	if len(failed) != 1 || failed[0].ID != "x1" || failed[0].Outcome != employee.Failed || !strings.Contains(failed[0].Reason, "unknown") {
		t.Fatalf("refused transfer: %+v", failed)
	}
	if d := r.Decide(now, open{}); len(d.Ops) != 0 {
		t.Errorf("after the refusal: %+v, want nothing until the next event", d.Ops)
	}
	if r.Operator.ID != 101 || r.Operator.Status != employee.StatusActive {
		t.Errorf("the old operator: %+v, want 101 untouched", r.Operator)
	}
}

// TestGuardVerdicts: a deactivation the guard has not decided on waits; a
// held one is marked and waits for a person; a rejected one fails; other
// operations go on meanwhile.
func TestGuardVerdicts(t *testing.T) {
	t.Parallel()
	r, _ := hired(t)
	r.Merge(ev("t1", employee.Termination, now), 2, 1, "", now)
	later := now.Add(time.Second)
	waiting := r.Clone()
	if d := waiting.Decide(now, verdict{Wait: later}); len(d.Ops) != 0 || !d.Wake.Equal(later) || len(d.Results) != 0 {
		t.Errorf("not decided: %+v, want to look again at %s", d, later)
	}
	held := r.Clone()
	if d := held.Decide(now, verdict{Held: 3}); len(d.Ops) != 0 || !d.Held || held.Guard == nil || held.Guard.Held != 3 {
		t.Errorf("held: %+v guard %+v", d, held.Guard)
	}
	rejected := held.Clone()
	d := rejected.Decide(now, verdict{Rejected: true})
	if len(d.Results) != 1 || d.Results[0].Outcome != employee.Failed || !strings.Contains(d.Results[0].Reason, "rejected") {
		t.Errorf("rejected: %+v", d)
	}
	if rejected.Operator.Status != employee.StatusActive || rejected.Guard != nil {
		t.Errorf("rejected: operator %+v guard %+v, want untouched and no hold", rejected.Operator, rejected.Guard)
	}
	if d := held.Decide(now, verdict(guard.Verdict{})); len(d.Ops) != 1 || held.Guard != nil {
		t.Errorf("approved: %+v guard %+v, want the deactivation made", d, held.Guard)
	}
}

// TestApplyTrouble: what each class of trouble does to the record.
func TestApplyTrouble(t *testing.T) {
	t.Parallel()
	p := employee.Policy{MaxAttempts: 3, Base: time.Second, Max: time.Minute}
	r, _ := hired(t)
	r.Merge(ev("l1", employee.LeaveStart, now), 2, 1, "", now)
	probe := r.Clone()
	op := probe.Decide(now, open{}).Ops[0]

	paused := r.Clone()
	if failed, unauthorized := paused.Apply([]employee.Answer{{Op: op, Err: employee.ErrUnauthorized}}, p, now); !unauthorized || failed != nil || paused.Retry != nil {
		t.Errorf("unauthorized: %v %v retry %+v, want a pause that spends no attempt", failed, unauthorized, paused.Retry)
	}
	flaky := r.Clone()
	for attempt := 1; attempt < p.MaxAttempts; attempt++ {
		flaky.Apply([]employee.Answer{{Op: op, Err: errors.New("503"), RetryAfter: time.Hour}}, p, now)
		if flaky.Retry == nil || flaky.Retry.Attempts != attempt || flaky.Retry.NextAt.Before(now.Add(time.Hour)) {
			t.Fatalf("attempt %d: retry %+v, want a retry honouring Retry-After", attempt, flaky.Retry)
		}
		if d := flaky.Decide(now, open{}); len(d.Ops) != 0 || !d.Wake.Equal(flaky.Retry.NextAt) {
			t.Fatalf("attempt %d: %+v, want nothing until the retry", attempt, d)
		}
	}
	if failed, _ := flaky.Apply([]employee.Answer{{Op: op, Err: errors.New("503")}}, p, now); len(failed) != 1 || !strings.Contains(failed[0].Reason, "retry policy") {
		t.Errorf("last attempt: %+v, want the event failed", failed)
	}
	if len(flaky.Owed) != 0 || flaky.Recent[len(flaky.Recent)-1].Outcome != employee.Failed {
		t.Errorf("owed %+v", flaky.Owed)
	}

	gone := r.Clone()
	gone.Apply([]employee.Answer{{Op: op, Err: employee.ErrGone}}, p, now)
	d := gone.Decide(now, open{})
	if len(d.Ops) != 1 || d.Ops[0].Kind != employee.Ensure || !d.Ops[0].Fresh || gone.Retry != nil {
		t.Errorf("operator gone by hand: %+v retry %+v, want another made from a fresh list, no attempt spent", d.Ops, gone.Retry)
	}

	var lost employee.Record
	lost.Merge(ev("h1", employee.Hire, now), 1, 1, "", now)
	create := lost.Decide(now, open{}).Ops[0]
	lost.Apply([]employee.Answer{{Op: create, Err: employee.ErrUnknownOutcome}}, p, now)
	if d := lost.Decide(now.Add(time.Hour), open{}); len(d.Ops) != 1 || !d.Ops[0].Fresh {
		t.Errorf("after a create whose answer was lost: %+v, want a fresh list before another", d.Ops)
	}
}

// TestCreateOfAStoppedWorkerIsAwaited: a hire whose create a worker that
// stopped may still have under way at ChatHub waits until that call has
// surely ended, then looks for the operator before making one.
func TestCreateOfAStoppedWorkerIsAwaited(t *testing.T) {
	t.Parallel()
	var r employee.Record
	r.Merge(ev("h1", employee.Hire, now.Add(-time.Hour)), 1, 1, "", now)
	until := now.Add(15 * time.Second)
	r.Pending = &employee.Pending{Org: 24, Name: r.Name, Until: until}
	if d := r.Decide(now, open{}); len(d.Ops) != 0 || !d.Wake.Equal(until) {
		t.Errorf("before the call surely ended: %+v, want no operation and a look at %s", d, until)
	}
	d := r.Decide(until, open{})
	if len(d.Ops) != 1 || d.Ops[0].Kind != employee.Ensure || !d.Ops[0].Fresh {
		t.Errorf("after: %+v, want one create that looks afresh first", d.Ops)
	}
}

// TestTryNow: provisioning on demand lets a retry waiting for its backoff
// go at the next look, keeping its count of attempts.
func TestTryNow(t *testing.T) {
	t.Parallel()
	p := employee.Policy{MaxAttempts: 3, Base: time.Hour, Max: time.Hour}
	r, _ := hired(t)
	if r.TryNow() {
		t.Error("no retry waiting, yet TryNow lifted one")
	}
	r.Merge(ev("l1", employee.LeaveStart, now), 2, 1, "", now)
	probe := r.Clone()
	op := probe.Decide(now, open{}).Ops[0]
	r.Apply([]employee.Answer{{Op: op, Err: errors.New("503")}}, p, now)
	if d := r.Decide(now, open{}); len(d.Ops) != 0 {
		t.Fatalf("%+v, want nothing until the retry in an hour", d)
	}
	if !r.TryNow() || r.Retry == nil || r.Retry.Attempts != 1 {
		t.Fatalf("TryNow: retry %+v, want attempt 1 due now", r.Retry)
	}
	if d := r.Decide(now, open{}); len(d.Ops) != 1 || d.Ops[0] != op {
		t.Errorf("after TryNow: %+v, want the leave tried now", d.Ops)
	}
	if r.TryNow() {
		t.Error("TryNow lifted a retry already due")
	}
}
