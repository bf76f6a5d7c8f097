package drift_test

import (
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/drift"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

var now = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func entry(id string, op int64, want employee.Status, needed bool) drift.Entry {
	return drift.Entry{EmployeeID: id, OrganizationID: 24, Name: "Name " + id, OperatorID: op, Recorded: want, Desired: want, Needed: needed}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	busy := entry("busy", 106, employee.StatusActive, true)
	busy.Busy = true
	creating := entry("creating", 0, employee.StatusActive, true)
	creating.Busy, creating.Creating = true, "Half Made"
	entries := []drift.Entry{
		entry("inStep", 101, employee.StatusActive, true),
		entry("byHand", 102, employee.StatusActive, true),
		entry("deleted", 103, employee.StatusInactive, true),
		entry("gone", 104, employee.StatusActive, true),
		entry("left", 105, employee.StatusDeleted, false),
		entry("leftAndGone", 107, employee.StatusDeleted, false),
		entry("adopted", 108, employee.StatusActive, true),
		busy, creating,
	}
	ops := []chathub.Operator{
		{ID: 101, Name: "Name inStep", Status: chathub.StatusActive},
		{ID: 102, Name: "Name byHand", Status: chathub.StatusInactive},
		{ID: 103, Name: "Name deleted", Status: chathub.StatusDeleted},
		{ID: 105, Name: "Name left", Status: chathub.StatusActive}, // reactivated by hand
		{ID: 106, Name: "Name busy", Status: chathub.StatusInactive},
		{ID: 108, Name: "Adopted", Status: chathub.StatusActive},
		{ID: 109, Name: "Stray", Status: chathub.StatusActive},
		{ID: 110, Name: "Old Stray", Status: chathub.StatusDeleted},
		{ID: 111, Name: "half made", Status: chathub.StatusActive},
	}
	rep := drift.Compare(24, entries, map[int64]string{108: "adopted"}, ops)
	want := []struct {
		kind drift.Kind
		id   string
		op   int64
	}{
		{drift.StatusChanged, "byHand", 102},
		{drift.StatusChanged, "left", 105},
		{drift.Deleted, "deleted", 103},
		{drift.Gone, "gone", 104},
		{drift.Unmanaged, "", 109},
	}
	if len(rep.Findings) != len(want) {
		t.Fatalf("findings %+v, want %+v", rep.Findings, want)
	}
	for i, w := range want {
		if f := rep.Findings[i]; f.Kind != w.kind || f.EmployeeID != w.id || f.OperatorID != w.op {
			t.Errorf("finding %d = %+v, want %+v", i, f, w)
		}
	}
	if rep.Employees != 7 || rep.Busy != 2 || rep.Operators != len(ops) || rep.Managed() != 4 || rep.Count(drift.Unmanaged) != 1 {
		t.Errorf("report %+v", rep)
	}
}

// TestCorrectMakesTheWorkerAct: a corrected record no longer says ChatHub
// holds the desired state, so the worker acts on it; a gone operator's
// employee lists afresh before making another.
func TestCorrectMakesTheWorkerAct(t *testing.T) {
	t.Parallel()
	rec := employee.Record{EmployeeID: "E1", Org: 24, Name: "Alex", Hire: &employee.Mark{Kind: employee.Hire, Time: now},
		Operator: employee.Operator{ID: 101, Org: 24, Status: employee.StatusActive}}
	if !rec.Settled() {
		t.Fatalf("the record starts in step: %+v", rec)
	}
	rep := drift.Compare(24, []drift.Entry{drift.EntryOf(rec, 7, now)}, nil, []chathub.Operator{{ID: 101, Name: "Alex", Status: chathub.StatusInactive}})
	if len(rep.Findings) != 1 {
		t.Fatalf("findings %+v", rep.Findings)
	}
	changed := rec.Clone()
	drift.Correct(&changed, rep.Findings[0])
	if changed.Operator.Status != employee.StatusInactive || changed.Settled() {
		t.Errorf("status changed by hand: %+v", changed)
	}
	rep = drift.Compare(24, []drift.Entry{drift.EntryOf(rec, 7, now)}, nil, nil)
	gone := rec.Clone()
	drift.Correct(&gone, rep.Findings[0])
	if gone.Operator.ID != 0 || !gone.Relist || gone.Settled() {
		t.Errorf("gone: %+v", gone)
	}
}

// TestOperatorOfALeftOrganization: an operator of an organization its
// employee left, deleted by the worker and brought back by hand, is drift
// to delete again; one the employee's move is still deleting is not.
func TestOperatorOfALeftOrganization(t *testing.T) {
	t.Parallel()
	ops := []chathub.Operator{{ID: 201, Name: "Alex", Status: chathub.StatusActive}}
	rep := drift.Compare(25, nil, map[int64]string{201: "E1"}, ops)
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != drift.StatusChanged || rep.Findings[0].EmployeeID != "E1" || rep.Findings[0].Desired != "deleted" {
		t.Fatalf("findings %+v, want E1's old operator to delete again", rep.Findings)
	}
	var rec employee.Record
	drift.Correct(&rec, rep.Findings[0])
	if len(rec.Retired) != 1 || rec.Retired[0].ID != 201 || rec.Retired[0].Org != 25 || rec.Settled() {
		t.Errorf("corrected: %+v, want operator 201 retired, to delete", rec)
	}
	moving := drift.Entry{EmployeeID: "E1", OrganizationID: 25, Busy: true}
	if rep := drift.Compare(25, []drift.Entry{moving}, map[int64]string{201: "E1"}, ops); len(rep.Findings) != 0 {
		t.Errorf("while the move deletes it: %+v, want nothing", rep.Findings)
	}
}
