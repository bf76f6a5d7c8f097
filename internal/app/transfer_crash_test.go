package app_test

import (
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestScheduledTransferWithACrashBetweenItsSteps: a transfer dated three
// seconds ahead is made at its time, and the worker dies between its two
// ChatHub steps: the operator in the new organization exists, and the
// old one's deletion is at ChatHub, held there so that it is never made.
// The worker that takes over ends with exactly one operator that is not
// deleted, in the new organization (the one made, not another), the old
// one deleted, and the transfer applied once.
func TestScheduledTransferWithACrashBetweenItsSteps(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	cfg := h.Config(func(c *config.Config) { c.LeaseTTL = 8 * time.Second })
	first := h.Start(cfg)
	staff(t, h, 24, 1, 1)
	old := idOf(h.Sim, person(1))
	statusCalls := h.Sim.Counters().Calls["status"]
	// Status calls outlast the client's timeout: none is ever made.
	h.Sim.SetFaults(chathubsim.Faults{StatusLatency: time.Minute})
	at := time.Now().Add(3 * time.Second)
	h.PublishEvent(transfer("move-1", 1, 25, at))
	await.True(t, 30*time.Second, func() bool {
		return len(h.Sim.Operators(25)) == 1 && h.Sim.Counters().Calls["status"] > statusCalls
	}, "the operator in 25 made and the old one's deletion at ChatHub")
	first.Crash(t)
	if s := statusOf(h, 24, person(1)); s != 0 || len(h.Results()) != 1 {
		t.Fatalf("before the restart: the old operator's status %d, %d results; want it active, the transfer's result not out", s, len(h.Results()))
	}
	made := h.Sim.Operators(25)[0]

	h.Sim.SetFaults(chathubsim.Faults{})
	h.Start(cfg)
	r := testenv.ByEventID(t, h.WaitResults(2, time.Minute))["move-1"]
	if r.Outcome != hrevent.Applied || r.OperatorID != made.ID {
		t.Errorf("transfer: %s %q, operator %d; want applied on operator %d", r.Outcome, r.Reason, r.OperatorID, made.ID)
	}
	if resultTime(t, r).Before(at) {
		t.Errorf("the transfer's result came %s before its time", at.Sub(resultTime(t, r)))
	}
	if id := assertOneLive(t, h.Sim, person(1), 25, 0); id != made.ID {
		t.Errorf("the live operator is %d, want %d, the one made before the crash", id, made.ID)
	}
	if s := statusOf(h, 24, person(1)); s != 2 {
		t.Errorf("the old operator %d: status %d, want deleted", old, s)
	}
	if n := h.Sim.Counters().CreatedByName[person(1)]; n != 2 {
		t.Errorf("%d operators created for %s, want 2 (the hire's and the move's)", n, person(1))
	}
	for _, c := range h.Sim.Changes() {
		if c.OperatorID == made.ID && c.Created && (c.At.Before(at) || c.At.After(at.Add(lateBy))) {
			t.Errorf("the operator in 25 was made %s after the transfer's time, want within [0, %s]", c.At.Sub(at), lateBy)
		}
	}
}
