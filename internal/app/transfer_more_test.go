package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestTransferToAnUnknownOrganization: ChatHub refuses the new
// organization: the transfer fails with ChatHub's reason and the original
// event, the old operator is left exactly as it was, and the employee's
// next event tries again.
func TestTransferToAnUnknownOrganization(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	staff(t, h, 24, 1, 1)
	old := idOf(h.Sim, person(1))
	before := len(h.Sim.Changes())
	h.PublishEvent(transfer("move-999", 1, 999, t0.Add(time.Hour)))
	r := testenv.ByEventID(t, h.WaitResults(2, 30*time.Second))["move-999"]
	if r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "organizationId is missing or unknown") || r.Event == nil {
		t.Errorf("transfer to 999: %s %q (event echoed: %v), want failed with ChatHub's reason", r.Outcome, r.Reason, r.Event != nil)
	}
	if r.OperatorID != old || r.OperatorStatus == nil || *r.OperatorStatus != 0 {
		t.Errorf("the failed transfer names operator %d (%v), want the old %d, active", r.OperatorID, r.OperatorStatus, old)
	}
	if cs := changesOf(h.Sim, person(1), before); len(cs) != 0 {
		t.Errorf("ChatHub changed %s after the refusal: %+v", person(1), cs)
	}
	assertOneLive(t, h.Sim, person(1), 24, 0)

	h.PublishEvent(transfer("move-25", 1, 25, t0.Add(2*time.Hour)))
	if r := testenv.ByEventID(t, h.WaitResults(3, 30*time.Second))["move-25"]; r.Outcome != hrevent.Applied {
		t.Errorf("the next transfer: %s %q, want applied", r.Outcome, r.Reason)
	}
	assertOneLive(t, h.Sim, person(1), 25, 0)
}

// TestMoveThereAndBack: 24 to 25 and back to 24, each move made before
// the next arrives, ends with one operator in 24 (a new one: the old was
// deleted); both moves published at once end there too, and a worker that
// takes them in together need not move at all.
func TestMoveThereAndBack(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	staff(t, h, 24, 1, 2)
	first := idOf(h.Sim, person(1))
	h.PublishEvent(transfer("there-1", 1, 25, t0.Add(time.Hour)))
	h.WaitResults(3, 30*time.Second)
	assertOneLive(t, h.Sim, person(1), 25, 0)
	h.PublishEvent(transfer("back-1", 1, 24, t0.Add(2*time.Hour)))
	h.PublishAsync([]testenv.Event{transfer("there-2", 2, 25, t0.Add(time.Hour)), transfer("back-2", 2, 24, t0.Add(2*time.Hour))})
	results := testenv.ByEventID(t, h.WaitResults(6, 30*time.Second))
	for _, id := range []string{"there-1", "back-1", "back-2"} {
		if r := results[id]; r.Outcome != hrevent.Applied || r.OrganizationID != 24 && id != "there-1" {
			t.Errorf("%s: %s %q in %d, want applied", id, r.Outcome, r.Reason, r.OrganizationID)
		}
	}
	if r := results["there-2"]; r.Outcome != hrevent.Applied && !strings.Contains(r.Reason, `overtaken by transferred "back-2"`) {
		t.Errorf("there-2: %s %q, want applied or overtaken by the move back", r.Outcome, r.Reason)
	}
	if id := assertOneLive(t, h.Sim, person(1), 24, 0); id == first {
		t.Errorf("%s is back on operator %d, deleted when they left", person(1), id)
	}
	assertOneLive(t, h.Sim, person(2), 24, 0)
}

// TestStaleTransfersMoveNobody: events older than the employee's newest
// move nobody: a transfer, a return from leave and a hire naming
// another organization are skipped, and nothing is made there. A late
// leave naming the organization a moved employee left takes effect
// where they are now.
func TestStaleTransfersMoveNobody(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	staff(t, h, 24, 1, 2)
	h.PublishEvent(change("leave-1", "leave_started", 1, 24, t0.Add(2*time.Hour)))
	h.PublishEvent(transfer("move-2", 2, 25, t0.Add(2*time.Hour)))
	h.WaitResults(4, 30*time.Second)
	stale := []testenv.Event{
		transfer("stale-move-1", 1, 25, t0.Add(time.Hour)),
		change("stale-back-1", "leave_ended", 1, 25, t0.Add(90*time.Minute)),
		{ID: "stale-hire-1", Kind: "hired", Employee: "E-1", Name: person(1), Org: 25, At: t0.Add(-time.Hour)},
		change("late-leave-2", "leave_started", 2, 24, t0.Add(time.Hour)),
	}
	h.PublishAsync(stale)
	results := testenv.ByEventID(t, h.WaitResults(8, 30*time.Second))
	for _, e := range stale[:3] {
		if r := results[e.ID]; r.Outcome != hrevent.Skipped || !strings.Contains(r.Reason, "older than") {
			t.Errorf("%s: %s %q, want skipped as older", e.ID, r.Outcome, r.Reason)
		}
	}
	if r := results["late-leave-2"]; r.Outcome != hrevent.Applied || r.OperatorStatus == nil || *r.OperatorStatus != 1 {
		t.Errorf("late-leave-2: %s %q (%v), want applied, on leave", r.Outcome, r.Reason, r.OperatorStatus)
	}
	assertOneLive(t, h.Sim, person(1), 24, 1)
	assertOneLive(t, h.Sim, person(2), 25, 1)
	for _, op := range h.Sim.Operators(25) {
		if op.Name == person(1) {
			t.Errorf("a stale event made %s an operator in 25: %+v", person(1), op)
		}
	}
}

// TestTransferNamesTheNewOperator: a transfer that carries a name gives
// it to the operator in the new organization; the old one, of the old
// name, is deleted.
func TestTransferNamesTheNewOperator(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	staff(t, h, 24, 1, 1)
	move := transfer("move-1", 1, 25, t0.Add(time.Hour))
	move.Name = "  Person 0001 (Sales)  "
	h.PublishEvent(move)
	if r := testenv.ByEventID(t, h.WaitResults(2, 30*time.Second))["move-1"]; r.Outcome != hrevent.Applied {
		t.Errorf("move-1: %s %q", r.Outcome, r.Reason)
	}
	assertOneLive(t, h.Sim, "Person 0001 (Sales)", 25, 0)
	if live := liveOf(h.Sim, person(1)); len(live) != 0 {
		t.Errorf("the old name's operators are not all deleted: %+v", live)
	}
}
