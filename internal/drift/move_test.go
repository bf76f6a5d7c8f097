package drift_test

import (
	"context"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/drift"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// memory is a store of records and claims, and ChatHub's lists, for a
// check.
type memory struct {
	recs   []employee.Record
	claims map[int]map[int64]string
	ops    map[int][]chathub.Operator
}

func (m *memory) Records(_ context.Context, each func(employee.Record, uint64), _ func(string, error)) error {
	for i, r := range m.recs {
		each(r, uint64(i+1))
	}
	return nil
}

func (m *memory) Claimed(_ context.Context, org int) (map[int64]string, error) {
	return m.claims[org], nil
}

func (m *memory) Get(_ context.Context, id string) (employee.Record, uint64, error) {
	for i, r := range m.recs {
		if r.EmployeeID == id {
			return r, uint64(i + 1), nil
		}
	}
	return employee.Record{}, 0, nil
}

func (m *memory) Put(_ context.Context, r employee.Record, rev uint64) (uint64, error) {
	m.recs[rev-1] = r
	return rev, nil
}

func (m *memory) ListOperators(_ context.Context, org int) ([]chathub.Operator, error) {
	return m.ops[org], nil
}

func (m *memory) Poke(context.Context, string) error { return nil }

// mover is employee E1, moved from 24 to 25: operator 102 in 25 is
// theirs, and 101 in 24 is still to delete.
func mover() employee.Record {
	return employee.Record{EmployeeID: "E1", Org: 25, Name: "Alex", Hire: &employee.Mark{Kind: employee.Hire, Time: now},
		Latest:   &employee.Mark{Kind: employee.Transfer, Time: now},
		Operator: employee.Operator{ID: 102, Org: 25, Status: employee.StatusActive},
		Retired:  []employee.Operator{{ID: 101, Org: 24, Status: employee.StatusActive}}}
}

// TestCheckWhileAMoveDeletes: while the worker deletes the operator of
// the organization an employee left, that operator is not drift in its
// organization; once it is deleted, it is not either; brought back by
// hand, it is, to delete again.
func TestCheckWhileAMoveDeletes(t *testing.T) {
	t.Parallel()
	stays := employee.Record{EmployeeID: "E2", Org: 24, Name: "Emma", Hire: &employee.Mark{Kind: employee.Hire, Time: now},
		Operator: employee.Operator{ID: 103, Org: 24, Status: employee.StatusActive}}
	m := &memory{recs: []employee.Record{mover(), stays},
		claims: map[int]map[int64]string{24: {101: "E1", 103: "E2"}, 25: {102: "E1"}},
		ops: map[int][]chathub.Operator{
			24: {{ID: 101, Name: "Alex", Status: chathub.StatusActive}, {ID: 103, Name: "Emma", Status: chathub.StatusActive}},
			25: {{ID: 102, Name: "Alex", Status: chathub.StatusActive}}}}
	check := func(what string, want int) {
		t.Helper()
		reports, err := drift.Check(t.Context(), m, m, m, drift.Options{Now: func() time.Time { return now }})
		n := 0
		for _, rep := range reports {
			n += len(rep.Findings)
		}
		if err != nil || len(reports) != 2 || n != want {
			t.Errorf("%s: %d findings in %+v (%v), want %d", what, n, reports, err, want)
		}
	}
	check("while the move deletes 101", 0)

	m.recs[0].Retired = nil
	m.ops[24][0].Status = chathub.StatusDeleted
	check("once 101 is deleted", 0)

	m.ops[24][0].Status = chathub.StatusActive
	check("101 brought back by hand", 1)
}
