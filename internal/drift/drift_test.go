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
	creating.Busy, creating.Pending = true, "Half Made"
	entries := []drift.Entry{
		entry("inStep", 101, employee.StatusActive, true),
		entry("byHand", 102, employee.StatusActive, true),
		entry("deleted", 103, employee.StatusInactive, true),
		entry("gone", 104, employee.StatusActive, true),
		entry("left", 105, employee.StatusDeleted, false),
		entry("leftAndGone", 107, employee.StatusDeleted, false),
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
	rep := drift.Compare(24, entries, map[int64]string{108: "someone"}, ops)
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
	if rep.Employees != 6 || rep.Busy != 2 || rep.Operators != len(ops) || rep.Managed() != 4 || rep.Count(drift.Unmanaged) != 1 {
		t.Errorf("report %+v", rep)
	}
}

// TestCorrectMakesTheReconcilerAct: a corrected record is no longer
// converged, so the reconciler acts on it; a gone operator's employee
// lists afresh before creating.
func TestCorrectMakesTheReconcilerAct(t *testing.T) {
	t.Parallel()
	rec := employee.Record{EmployeeID: "E1", OrganizationID: 24, Name: "Alex", Hire: &employee.Mark{Time: now}, OperatorID: 101}
	if !rec.Converged() {
		t.Fatalf("the record starts in step: %+v", rec)
	}
	rep := drift.Compare(24, []drift.Entry{drift.EntryOf(rec, 7, now)}, nil, []chathub.Operator{{ID: 101, Name: "Alex", Status: chathub.StatusInactive}})
	if len(rep.Findings) != 1 {
		t.Fatalf("findings %+v", rep.Findings)
	}
	changed := rec.Clone()
	drift.Correct(&changed, rep.Findings[0], now)
	if changed.OperatorStatus != employee.StatusInactive || changed.Converged() {
		t.Errorf("status changed by hand: %+v", changed)
	}
	rep = drift.Compare(24, []drift.Entry{drift.EntryOf(rec, 7, now)}, nil, nil)
	gone := rec.Clone()
	drift.Correct(&gone, rep.Findings[0], now)
	if gone.OperatorID != 0 || gone.Pending == nil || gone.Pending.Name != "Alex" || !gone.NeedsCreate() {
		t.Errorf("gone: %+v", gone)
	}
}
