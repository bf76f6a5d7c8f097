package employee_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// unknownOrg is the organization ChatHub refuses, when a run has one.
const unknownOrg = 26

// mover drives one employee's record step by step against the hub, as
// the worker does, and checks after every step what a move promises.
type mover struct {
	t      *rapid.T
	r      employee.Record
	h      *hub
	refuse int // an organization ChatHub refuses (0: none)
	owed   map[string]bool
	failed map[string]string
}

// step decides once and makes what the record asks, and checks that a
// move is made before it is broken (an employee who has an operator and
// keeps needing one is never left with none), that only the employee's
// own loss of access is a deactivation the guard counts, and that a
// refused move leaves the old operator as it was. It reports whether
// there was anything to do.
func (m *mover) step(at time.Time) bool {
	t, r, h := m.t, &m.r, m.h
	if r.Retry != nil {
		r.Retry.NextAt = time.Time{}
	}
	d := r.Decide(at, open{})
	m.resolve(d.Results)
	if len(d.Ops) == 0 {
		return false
	}
	_, needed := r.State().Want()
	hadOne := len(h.live()) > 0
	own := r.Operator
	lost := h.lose
	var answers []employee.Answer
	refused := false
	for _, op := range d.Ops {
		if op.Deactivation && (op.OperatorID != own.ID || (r.State() != employee.OnLeave && r.State() != employee.Terminated)) {
			t.Fatalf("%s counted as a deactivation while the employee is %v with operator %+v", op, r.State(), own)
		}
		if op.Kind == employee.Ensure && op.Org == m.refuse && !op.NoCreate {
			refused = true
			answers = append(answers, employee.Answer{Op: op, Err: errors.Join(employee.ErrRefused, errors.New("organization does not exist"))})
			continue
		}
		answers = append(answers, h.do(op))
	}
	failed, _ := r.Apply(answers, employee.DefaultPolicy, at)
	m.resolve(failed)
	if _, still := r.State().Want(); needed && still && hadOne && len(h.live()) == 0 {
		t.Fatalf("the step %+v left an employee who needs an operator with none", d.Ops)
	}
	if refused && own.ID != 0 && h.ops[own.ID].Status != own.Status && !own.Unsure {
		t.Fatalf("a refused move changed the old operator: %+v, was %+v", h.ops[own.ID], own)
	}
	if lost {
		h.lose = false
	}
	return true
}

// resolve crosses off the results that came due: each event gets one,
// and only a refused organization fails one.
func (m *mover) resolve(results []employee.Resolution) {
	for _, res := range results {
		if !m.owed[res.ID] {
			m.t.Fatalf("%s resolved twice or never owed", res.ID)
		}
		delete(m.owed, res.ID)
		if res.Outcome == employee.Failed {
			if m.refuse == 0 || !strings.Contains(res.Reason, "does not exist") {
				m.t.Fatalf("%s failed: %s", res.ID, res.Reason)
			}
			m.failed[res.ID] = res.Reason
		}
	}
}

// TestMovesAreMadeBeforeTheyAreBroken: random timelines of three
// organizations, one of which ChatHub may refuse, merged in any order and
// driven a step at a time (ChatHub losing answers after making the
// change): no step leaves an employee who needs an operator without one,
// no move is a deactivation, a refused move leaves the old operator as it
// was, every event gets exactly one result, and ChatHub ends as the state
// machine says unless the employee's organization is the refused one.
func TestMovesAreMadeBeforeTheyAreBroken(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		events := genHistory(t)
		m := &mover{t: t, h: newHub(), owed: map[string]bool{}, failed: map[string]string{}}
		if rapid.Bool().Draw(t, "refuse") {
			m.refuse = unknownOrg
		}
		for i, e := range rapid.Permutation(events).Draw(t, "order") {
			if v := m.r.Merge(e, uint64(i+1), 1, "", now); v.Kind == employee.Owe {
				m.owed[e.ID] = true
			}
			for range rapid.IntRange(0, 3).Draw(t, "steps") {
				m.h.lose = rapid.Bool().Draw(t, "lose")
				m.step(now)
			}
		}
		m.h.lose = false
		later := now.Add(time.Hour)
		for i := 0; m.step(later); i++ {
			if i == 20 {
				t.Fatalf("the record never settled: %+v", m.r)
			}
		}
		if len(m.owed) != 0 {
			t.Fatalf("owed events without a result: %v (record %+v)", m.owed, m.r)
		}
		state, org := machine(events)
		want, needed := state.Want()
		live := m.h.live()
		switch {
		case len(live) > 1:
			t.Fatalf("%v employee has live operators %+v", state, live)
		case needed && org == m.refuse:
			// ChatHub refuses the organization: the old operator stays.
		case !needed && len(live) != 0:
			t.Fatalf("%v employee has live operators %+v", state, live)
		case needed && (len(live) != 1 || live[0].Org != org || live[0].Status != want):
			t.Fatalf("%v employee in organization %d: live operators %+v, want one there with status %v", state, org, live, want)
		}
	})
}

// TestMoveUndoneBeforeTheOldIsDeleted: an employee moved from 24 to 25
// and back before the operator in 24 was deleted adopts that operator
// again and keeps it: only the one in 25 is deleted.
func TestMoveUndoneBeforeTheOldIsDeleted(t *testing.T) {
	t.Parallel()
	r, h := hired(t)
	r.Merge(in(ev("x1", employee.Transfer, now.Add(-time.Minute)), 25), 2, 1, "", now)
	d := r.Decide(now, open{})
	r.Apply([]employee.Answer{h.do(d.Ops[0])}, employee.DefaultPolicy, now) // made in 25
	r.Merge(ev("x2", employee.Transfer, now), 3, 1, "", now)
	d = r.Decide(now, open{})
	if len(d.Ops) != 1 || d.Ops[0].Kind != employee.Ensure || d.Ops[0].Org != 24 {
		t.Fatalf("moving back: %+v, want the operator in 24 made (101 may be adopted back), nothing deleted yet", d.Ops)
	}
	r.Apply([]employee.Answer{h.do(d.Ops[0])}, employee.DefaultPolicy, now)
	if r.Operator.ID != 101 || len(r.Retired) != 1 || r.Retired[0].ID != 102 {
		t.Fatalf("adopted back: operator %+v, retired %+v; want 101, and 102 to delete", r.Operator, r.Retired)
	}
	drive(&r, h, now)
	if live := h.live(); len(live) != 1 || live[0].ID != 101 || len(r.Retired) != 0 {
		t.Errorf("live %+v, retired %+v; want 101 alone", live, r.Retired)
	}
}

// TestChangeDatedAheadAfterARefusal: a termination dated ahead takes
// effect at its time even though ChatHub refused the employee's move
// before it; its result is not lost behind the failure.
func TestChangeDatedAheadAfterARefusal(t *testing.T) {
	t.Parallel()
	r, h := hired(t)
	r.Merge(in(ev("x1", employee.Transfer, now), 99), 2, 1, "", now)
	d := r.Decide(now, open{})
	refused := employee.Answer{Op: d.Ops[0], Err: errors.Join(employee.ErrRefused, errors.New("organization does not exist"))}
	if failed, _ := r.Apply([]employee.Answer{refused}, employee.DefaultPolicy, now); len(failed) != 1 {
		t.Fatalf("refused move: %+v", failed)
	}
	at := now.Add(time.Hour)
	r.Merge(in(ev("t1", employee.Termination, at), 99), 3, 1, "", now)
	drive(&r, h, now) // tries the move again, refused again
	results := drive(&r, h, at)
	if len(results) != 1 || results[0].ID != "t1" || results[0].Outcome != employee.Applied || len(h.live()) != 0 {
		t.Errorf("at the termination's time: %+v, live %+v; want t1 applied and no operator", results, h.live())
	}
}
