package employee

import (
	"fmt"
	"time"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

// OpKind is what one ChatHub operation does.
type OpKind int

const (
	// Ensure: an operator named Name in organization Org is the
	// employee's, with status To: one of that name that no employee
	// claims is adopted, else one is created; its status is then set if
	// it is not To. Making the state's operator takes nobody's access
	// away, so it is never a deactivation.
	Ensure OpKind = iota
	// SetStatus: operator OperatorID gets status To.
	SetStatus
)

// Op is one ChatHub operation an employee's record asks for.
type Op struct {
	Kind       OpKind
	EmployeeID string
	Org        int
	// Name is the operator's name (Ensure).
	Name string
	// Fresh: list the organization afresh before adopting (Ensure).
	Fresh bool
	// NoCreate: only find an operator a create whose answer was lost may
	// have made, and give it status To; make none (Ensure).
	NoCreate bool
	// OperatorID and From: the operator and its status (SetStatus).
	OperatorID int64
	From       Status
	// To is the status the operator gets.
	To Status
	// Deactivation: the mass-offboarding guard counts it.
	Deactivation bool
	// Urgent: it takes access away, so it goes before hires and
	// reactivations when more work waits than ChatHub's rate allows.
	Urgent bool
	// Trace is the W3C traceparent of the look that asked for it: its
	// ChatHub calls are spans of that trace.
	Trace string
}

// String says what the operation does, for reasons and logs.
func (op Op) String() string {
	if op.Kind == Ensure {
		return fmt.Sprintf("create an operator named %s in organization %d", Quote(op.Name), op.Org)
	}
	return fmt.Sprintf("set operator %d to %s", op.OperatorID, op.To)
}

// Decision is what should happen for an employee now.
type Decision struct {
	// Ops are the ChatHub operations to make now; they may run together.
	Ops []Op
	// Results are the results that became due: the owed events ChatHub
	// now reflects, or failed ones (a person rejected a deactivation).
	Results []Resolution
	// Wake is when the employee must be looked at again (a change dated
	// ahead, a retry, the guard deciding); zero when nothing waits.
	Wake time.Time
	// Held: the mass-offboarding guard holds the employee's deactivation
	// until a person decides.
	Held bool
	// Undecided: the guard has not decided on the employee's deactivation
	// yet (more of a burst may be arriving); look again at Wake.
	Undecided bool
}

// Gate is the mass-offboarding guard, asked about one deactivation.
type Gate interface {
	// Admit says what becomes of the employee's deactivation in org; held
	// is the trip that holds it already (0: none).
	Admit(org int, employeeID string, held uint64, now time.Time) guard.Verdict
}

// Decide says, at time now, what making ChatHub match the record takes.
// It lets due changes take effect, asks the guard about a deactivation,
// and, when ChatHub holds the desired state, resolves the owed events
// that took effect; the record changes accordingly and is then saved.
func (r *Record) Decide(now time.Time, gate Gate) Decision {
	r.Fold(now)
	d := Decision{Wake: r.NextChange()}
	switch {
	case r.Retry != nil && now.Before(r.Retry.NextAt):
		d.Wake = earliest(d.Wake, r.Retry.NextAt)
		return d
	case r.Failure != "":
		// ChatHub refused this state; the employee's next event tries
		// again.
		return d
	case r.Pending != nil && now.Before(r.Pending.Until):
		// A create a worker that stopped sent may still be under way at
		// ChatHub: it is looked for once it has surely ended, so that it
		// is not made twice.
		d.Wake = earliest(d.Wake, r.Pending.Until)
		return d
	}
	wanted := r.wanted()
	if len(wanted) == 0 {
		r.Guard = nil
		d.Results = r.Resolve(now)
		return d
	}
	for _, op := range wanted {
		if !op.Deactivation {
			d.Ops = append(d.Ops, op)
			continue
		}
		held := uint64(0)
		if r.Guard != nil {
			held = r.Guard.Held
		}
		switch v := gate.Admit(op.Org, r.EmployeeID, held, now); {
		case v.Rejected:
			reason := fmt.Sprintf("a person rejected this deactivation at the mass-offboarding guard of organization %d "+
				"(worker guard reject); ChatHub keeps the operator as it was", op.Org)
			r.Guard, r.Failure = nil, reason
			d.Results = r.Fail(reason, now)
			return d
		case v.Held != 0:
			if r.Guard == nil || r.Guard.Held != v.Held {
				r.Guard = &Guarded{Since: now, Held: v.Held, Org: op.Org}
			}
			d.Held = true
		case !v.Wait.IsZero():
			d.Wake, d.Undecided = earliest(d.Wake, v.Wait), true
		default:
			r.Guard = nil
			d.Ops = append(d.Ops, op)
		}
	}
	return d
}

// Settled reports whether ChatHub holds what the state asks for now, as
// far as the record knows.
func (r *Record) Settled() bool { return len(r.wanted()) == 0 }

// wanted lists the operations that make ChatHub hold the desired state.
// A move is made before it is broken: the operator in the new
// organization exists, with the status the state gives, before the one in
// the old organization is deleted.
func (r *Record) wanted() []Op {
	want, needed := r.State().Want()
	cur := r.Operator
	var ops []Op
	makeOne := needed && (cur.ID == 0 || cur.Org != r.Org)
	if p := r.Pending; p != nil && !(makeOne && p.Org == r.Org) {
		// A create the state no longer wants here may have been made: it
		// is found and deleted. When the employee moved meanwhile, it is
		// found and kept first, with the status the state gives: it is
		// deleted as the old operator once the new one exists, and stays
		// if the new organization refuses.
		op := Op{Kind: Ensure, EmployeeID: r.EmployeeID, Org: p.Org, Name: p.Name, To: StatusDeleted, Fresh: true, NoCreate: true}
		if makeOne {
			op.To = want
			return []Op{op}
		}
		ops = append(ops, op)
	}
	switch {
	case makeOne:
		ops = append(ops, Op{Kind: Ensure, EmployeeID: r.EmployeeID, Org: r.Org, Name: r.Name, To: want,
			Fresh: r.Relist || r.Pending != nil})
		if cur.ID == 0 || cur.Status == StatusDeleted {
			// The operators of organizations left may be all the access
			// the employee has: they wait for the new one.
			return ops
		}
		// The employee's operator keeps their access meanwhile: those of
		// organizations they left before it go now, even if the new
		// organization refuses; one in the new organization waits, as it
		// may be adopted back.
	case needed && (cur.Status != want || cur.Unsure):
		return append(ops, r.setStatus(cur, want, true))
	case !needed && cur.ID != 0 && (cur.Status != StatusDeleted || cur.Unsure):
		ops = append(ops, r.setStatus(cur, StatusDeleted, true))
	}
	for _, old := range r.Retired {
		if (old.Status != StatusDeleted || old.Unsure) && !(makeOne && old.Org == r.Org) {
			ops = append(ops, r.setStatus(old, StatusDeleted, false))
		}
	}
	return ops
}

// setStatus is the operation that takes op to status to. Taking the
// employee's own operator from active to on leave or deleted, or from on
// leave to deleted, is a deactivation the guard counts; deleting the
// operator of an organization the employee left is not. The status last
// known decides, even when it is in doubt (a worker stopped while the
// change was under way): a deactivation the guard did not see must not go
// through because a message came back.
func (r *Record) setStatus(op Operator, to Status, own bool) Op {
	takesAway := op.Status != StatusDeleted && to > op.Status
	return Op{Kind: SetStatus, EmployeeID: r.EmployeeID, Org: op.Org, OperatorID: op.ID, From: op.Status, To: to,
		Deactivation: own && takesAway, Urgent: takesAway}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
