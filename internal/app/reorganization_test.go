package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestReorganizationUnderTheDefaultGuard: 40 % of an organization moves
// to another at once under the default guard (GUARD_THRESHOLD 20 %,
// GUARD_MIN 10, GUARD_WINDOW 1h). A move takes nobody's access away:
// nothing is held, nobody is alerted, every move is made, the creates
// share synchronize calls and each old operator's deletion is one status
// call. Nor do the moves count later: ten terminations after them (not
// over GUARD_MIN alone, over it with the twenty moves) are applied.
func TestReorganizationUnderTheDefaultGuard(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(guarded(h, "20%", 10, time.Hour))
	staff(t, h, 24, 0, 50)
	before := h.Sim.Counters()
	var moves []testenv.Event
	for i := range 20 {
		moves = append(moves, transfer(fmt.Sprint("reorg-", i), i, 25, t0.Add(time.Hour)))
	}
	h.PublishAsync(moves)
	results := testenv.ByEventID(t, h.WaitResults(70, time.Minute))
	for i := range 20 {
		if r := results[fmt.Sprint("reorg-", i)]; r.Outcome != hrevent.Applied || r.OrganizationID != 25 {
			t.Errorf("reorg-%d: %s %q in %d, want applied in 25", i, r.Outcome, r.Reason, r.OrganizationID)
		}
		assertOneLive(t, h.Sim, person(i), 25, 0)
		if s := statusOf(h, 24, person(i)); s != 2 {
			t.Errorf("%s: old operator status %d, want deleted", person(i), s)
		}
	}
	if held := heldOrgs(t, h); len(held) != 0 {
		t.Errorf("held %v after a reorganization, want nothing", held)
	}
	if n := len(h.Messages("HR_ALERTS")); n != 0 {
		t.Errorf("%d guard alerts after a reorganization, want none", n)
	}
	after := h.Sim.Counters()
	syncs, statuses := after.Calls["synchronize"]-before.Calls["synchronize"], after.Calls["status"]-before.Calls["status"]
	t.Logf("20 moves: %d synchronize calls (batch sizes %v), %d status calls", syncs, after.BatchSizes[len(before.BatchSizes):], statuses)
	if syncs > 3 || statuses != 20 {
		t.Errorf("20 moves cost %d synchronize and %d status calls, want at most 3 and exactly 20", syncs, statuses)
	}

	var terms []testenv.Event
	for i := 20; i < 30; i++ {
		terms = append(terms, terminate(i, t0.Add(2*time.Hour)))
	}
	h.PublishAsync(terms)
	results = testenv.ByEventID(t, h.WaitResults(80, time.Minute))
	for i := 20; i < 30; i++ {
		if r := results[fmt.Sprint("term-", i)]; r.Outcome != hrevent.Applied {
			t.Errorf("term-%d after the reorganization: %s %q, want applied", i, r.Outcome, r.Reason)
		}
	}
	if held := heldOrgs(t, h); len(held) != 0 {
		t.Errorf("held %v: the moves were counted as deactivations", held)
	}
}

// TestMoveWhileTheGuardCounts: an employee's leave waits for the guard of
// 24 to count it; they move to 25 meanwhile, so the leave is made on the
// new operator and the old one deleted, neither a deactivation of 24. The
// leave no longer counts in 24: three terminations after it, a burst at
// the threshold of three, are applied, not held.
func TestMoveWhileTheGuardCounts(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	// The guard decides once no new deactivation came for 5 batch
	// windows: 5 s here, for the move to arrive meanwhile.
	cfg := guarded(h, "3", 2, time.Hour)
	cfg.BatchMaxWait = time.Second
	h.Start(cfg)
	staff(t, h, 24, 0, 10)
	h.PublishEvent(change("leave-0", "leave_started", 0, 24, t0.Add(time.Hour)))
	// The leave's look holds its message while the guard counts.
	await.True(t, 30*time.Second, func() bool {
		info, err := h.ConsumerInfo(testenv.EventsStream)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 1
	}, "the leave to wait for the guard's count")
	h.PublishEvent(transfer("move-0", 0, 25, t0.Add(2*time.Hour)))
	results := testenv.ByEventID(t, h.WaitResults(12, time.Minute))
	if r := results["leave-0"]; r.Outcome != hrevent.Applied {
		t.Errorf("leave-0: %s %q", r.Outcome, r.Reason)
	}
	assertOneLive(t, h.Sim, person(0), 25, 1)
	var terms []testenv.Event
	for i := 1; i <= 3; i++ {
		terms = append(terms, terminate(i, t0.Add(3*time.Hour)))
	}
	h.PublishAsync(terms)
	await.True(t, 30*time.Second, func() bool {
		return len(testenv.ByEventID(t, h.Results())) == 15 || len(heldOrgs(t, h)) > 0
	}, "the terminations applied or held")
	if held := heldOrgs(t, h); len(held) != 0 {
		t.Errorf("held %v: the moved employee's leave was still counted in 24", held)
	}
}
