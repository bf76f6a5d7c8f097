package employee_test

import (
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// now is the tests' clock; events are dated before it or more than a
// second after it (scheduled).
var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// ev is an event of employee E1 in organization 24.
func ev(id string, k employee.Kind, at time.Time) employee.Event {
	return employee.Event{ID: id, Kind: k, Time: at, EmployeeID: "E1", OrganizationID: 24, Name: "Alex"}
}

// in is e naming organization org.
func in(e employee.Event, org int) employee.Event {
	e.OrganizationID = org
	return e
}

// open is a guard that lets every deactivation through.
type open struct{}

func (open) Admit(int, string, uint64, time.Time) guard.Verdict { return guard.Verdict{} }

// verdict is a guard that answers v.
type verdict guard.Verdict

func (v verdict) Admit(int, string, uint64, time.Time) guard.Verdict { return guard.Verdict(v) }

// hub is ChatHub and the claims as the domain tests model them:
// operators by id, each in an organization with a status, and the
// employee each belongs to.
type hub struct {
	ops    map[int64]employee.Operator
	owner  map[int64]string
	nextID int64
	// lose: the next answer is lost after ChatHub made the change.
	lose bool
}

func newHub() *hub {
	return &hub{ops: map[int64]employee.Operator{}, owner: map[int64]string{}, nextID: 100}
}

// do makes op and answers it, as the executor does: an Ensure adopts an
// operator of the organization the employee (or nobody) claims before it
// creates one.
func (h *hub) do(op employee.Op) employee.Answer {
	a := employee.Answer{Op: op}
	switch op.Kind {
	case employee.Ensure:
		for id, o := range h.ops {
			if o.Org == op.Org && o.Status != employee.StatusDeleted && (h.owner[id] == "" || h.owner[id] == op.EmployeeID) {
				a.Operator = o
				break
			}
		}
		if a.Operator.ID == 0 && !op.NoCreate {
			h.nextID++
			a.Operator = employee.Operator{ID: h.nextID, Org: op.Org, Status: employee.StatusActive}
		}
		if a.Operator.ID != 0 {
			h.owner[a.Operator.ID] = op.EmployeeID
			a.Operator.Status = op.To
			h.ops[a.Operator.ID] = a.Operator
		}
	case employee.SetStatus:
		o := h.ops[op.OperatorID]
		o.Status = op.To
		h.ops[op.OperatorID] = o
	}
	if h.lose {
		h.lose = false
		return employee.Answer{Op: op, Err: employee.ErrUnknownOutcome}
	}
	return a
}

// live lists the operators that are not deleted.
func (h *hub) live() []employee.Operator {
	var out []employee.Operator
	for _, o := range h.ops {
		if o.Status != employee.StatusDeleted {
			out = append(out, o)
		}
	}
	return out
}

// drive decides and makes what the record asks for until nothing is left
// to do, and returns the results that came due. Retries are due at once.
func drive(r *employee.Record, h *hub, at time.Time) []employee.Resolution {
	var results []employee.Resolution
	for range 20 {
		if r.Retry != nil {
			r.Retry.NextAt = time.Time{}
		}
		d := r.Decide(at, open{})
		results = append(results, d.Results...)
		if len(d.Ops) == 0 {
			return results
		}
		lost := h.lose
		var answers []employee.Answer
		for _, op := range d.Ops {
			answers = append(answers, h.do(op))
		}
		failed, _ := r.Apply(answers, employee.DefaultPolicy, at)
		results = append(results, failed...)
		if lost {
			return results // the retry comes later, maybe after more events
		}
	}
	panic("the record never settled")
}
