package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestGuardHoldsABurst: 20 of 40 operators terminated at once, past 20 %:
// nobody is deactivated, one alert goes out, hires and another
// organization flow meanwhile; approving applies every held termination.
func TestGuardHoldsABurst(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(guarded(h, "20%", 5, time.Hour))
	staff(t, h, 24, 0, 40)
	staff(t, h, 25, 100, 10)
	statusCalls := h.Sim.Counters().Calls["status"]

	var burst []testenv.Event
	for i := range 20 {
		burst = append(burst, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(burst)
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 20 }, "the guard to hold 20 deactivations of organization 24")
	// Meanwhile a hire in 24 and a leave in 25 go through.
	h.PublishEvent(hire(50, 24))
	h.PublishEvent(testenv.Event{ID: "leave-100", Kind: "leave_started", Employee: "E-100", Org: 25, At: t0.Add(time.Hour)})
	results := testenv.ByEventID(t, h.WaitResults(40+10+2, 30*time.Second))
	if r := results["hire-50"]; r.Outcome != hrevent.Applied {
		t.Errorf("a hire while the guard holds: %s", r.Outcome)
	}
	if r := results["leave-100"]; r.Outcome != hrevent.Applied {
		t.Errorf("another organization's leave: %s", r.Outcome)
	}
	for i := range 20 {
		if _, ok := results[fmt.Sprint("term-", i)]; ok {
			t.Errorf("held termination %d has a result", i)
		}
		if s := statusOf(h, 24, person(i)); s != 0 {
			t.Errorf("%s deactivated although held: status %d", person(i), s)
		}
	}
	if n := h.Sim.Counters().Calls["status"] - statusCalls; n != 1 {
		t.Errorf("%d status calls while the guard holds, want only the leave in 25", n)
	}
	alerts := h.Messages("HR_ALERTS")
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	v, _ := testenv.ValidatorOnce()
	if err := v.ValidateAlert(alerts[0].Data); err != nil {
		t.Error(err)
	}
	var alert struct {
		Data struct {
			OrganizationID, Held, Threshold int
			Window                          string
			EmployeeIDs                     []string
		}
	}
	if err := json.Unmarshal(alerts[0].Data, &alert); err != nil || alerts[0].Subject != "hr.alerts.guard.24" ||
		alert.Data.OrganizationID != 24 || alert.Data.Held != 20 || alert.Data.Threshold != 8 || len(alert.Data.EmployeeIDs) != 20 {
		t.Errorf("alert on %s: %+v (%v)", alerts[0].Subject, alert.Data, err)
	}

	out, err := guardCLI(t, h, "approve", "-org", "24")
	if err != nil || !strings.Contains(out, "approved: the worker applies 20 held deactivations") {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	results = testenv.ByEventID(t, h.WaitResults(72, 30*time.Second))
	for i := range 20 {
		if r := results[fmt.Sprint("term-", i)]; r.Outcome != hrevent.Applied || statusOf(h, 24, person(i)) != 2 {
			t.Errorf("approved termination %d: %s, status %d", i, r.Outcome, statusOf(h, 24, person(i)))
		}
	}
	if held := heldOrgs(t, h); len(held) != 0 {
		t.Errorf("held after approving: %v", held)
	}
	// Approving again finishes an approval (here: nothing is left) rather
	// than failing; rejecting now fails, nothing being held.
	if out, err := guardCLI(t, h, "approve", "-org", "24"); err != nil || !strings.Contains(out, "decided before; finishing") {
		t.Errorf("approving again: %v\n%s", err, out)
	}
	if _, err := guardCLI(t, h, "reject", "-org", "24"); err == nil || !strings.Contains(err.Error(), "organization 24 holds no deactivations") {
		t.Errorf("rejecting after the approval: %v", err)
	}
	// The approval started a fresh window: the 20 it let through do not
	// count, so one more termination is applied, not held.
	h.PublishEvent(terminate(20, t0.Add(2*time.Hour)))
	results = testenv.ByEventID(t, h.WaitResults(73, 30*time.Second))
	if r := results["term-20"]; r.Outcome != hrevent.Applied || statusOf(h, 24, person(20)) != 2 {
		t.Errorf("a termination after the approval: %s %q, status %d; want applied", r.Outcome, r.Reason, statusOf(h, 24, person(20)))
	}
	if n := len(h.Messages("HR_ALERTS")); n != 1 {
		t.Errorf("%d alerts after the approval and one more termination, want still 1", n)
	}
}

// TestGuardReject: rejected deactivations get failed results naming the
// guard, and ChatHub keeps those operators as they are.
func TestGuardReject(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(guarded(h, "5", 2, time.Hour))
	staff(t, h, 24, 0, 12)
	var burst []testenv.Event
	for i := range 8 {
		burst = append(burst, testenv.Event{ID: fmt.Sprint("leave-", i), Kind: "leave_started", Employee: fmt.Sprint("E-", i), Org: 24, At: t0.Add(time.Hour)})
	}
	h.PublishAsync(burst)
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 8 }, "8 held leaves")
	if out, err := guardCLI(t, h, "reject", "-org", "24"); err != nil || !strings.Contains(out, "rejected") {
		t.Fatalf("reject: %v\n%s", err, out)
	}
	results := testenv.ByEventID(t, h.WaitResults(20, 30*time.Second))
	for i := range 8 {
		r := results[fmt.Sprint("leave-", i)]
		if r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "rejected this deactivation at the mass-offboarding guard") || r.Event == nil {
			t.Errorf("rejected leave %d: %s %q", i, r.Outcome, r.Reason)
		}
		if s := statusOf(h, 24, person(i)); s != 0 {
			t.Errorf("%s: status %d after a rejection, want 0 as it was", person(i), s)
		}
	}
}

// TestGuardTrickle: deactivations one at a time are applied up to the
// threshold; the next trips the guard, and it and the ones after are held.
func TestGuardTrickle(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(guarded(h, "3", 2, time.Hour))
	staff(t, h, 24, 0, 10)
	for i := range 3 {
		h.PublishEvent(terminate(i, t0.Add(time.Hour)))
		h.WaitResults(10+i+1, 30*time.Second)
	}
	for i := 3; i < 6; i++ {
		h.PublishEvent(terminate(i, t0.Add(time.Hour)))
		await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == i-2 }, fmt.Sprintf("%d held", i-2))
	}
	results := testenv.ByEventID(t, h.Results())
	for i := range 6 {
		r, ok := results[fmt.Sprint("term-", i)]
		if i < 3 && (r.Outcome != hrevent.Applied || statusOf(h, 24, person(i)) != 2) {
			t.Errorf("termination %d, under the threshold: %s", i, r.Outcome)
		}
		if i >= 3 && (ok || statusOf(h, 24, person(i)) != 0) {
			t.Errorf("termination %d, past the threshold: result %v, status %d", i, ok, statusOf(h, 24, person(i)))
		}
	}
}

// TestGuardWindowRolls: deactivations applied longer ago than GUARD_WINDOW
// no longer count.
func TestGuardWindowRolls(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(guarded(h, "3", 2, 2*time.Second))
	staff(t, h, 24, 0, 10)
	var first []testenv.Event
	for i := range 3 {
		first = append(first, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(first)
	h.WaitResults(13, 30*time.Second)
	// The worker notes the deactivations applied once it saved them,
	// moments after their results.
	applied := time.Now()
	await.True(t, 10*time.Second, func() bool { return time.Since(applied) > 2500*time.Millisecond }, "the window to roll over")
	var second []testenv.Event
	for i := 3; i < 6; i++ {
		second = append(second, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(second)
	results := h.WaitResults(16, 30*time.Second)
	assertNoneFailed(t, results)
	if held := heldOrgs(t, h); len(held) != 0 {
		t.Errorf("held %v, want none: the first three left the window", held)
	}
}

// TestGuardOff: with GUARD_THRESHOLD=0 a whole organization can go.
func TestGuardOff(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	staff(t, h, 24, 0, 20)
	var all []testenv.Event
	for i := range 20 {
		all = append(all, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(all)
	assertNoneFailed(t, h.WaitResults(40, 30*time.Second))
	for i := range 20 {
		if s := statusOf(h, 24, person(i)); s != 2 {
			t.Errorf("%s: status %d", person(i), s)
		}
	}
}

// TestGuardHoldsThroughRestarts: two workers trip the guard once (one
// alert); the held state outlives a worker crash and a NATS restart, and
// the approval after them applies every held termination.
func TestGuardHoldsThroughRestarts(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	cfg := guarded(h, "20%", 5, time.Hour)
	first := h.Start(cfg)
	h.Start(cfg)
	staff(t, h, 24, 0, 30)
	var burst []testenv.Event
	for i := range 15 {
		burst = append(burst, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(burst)
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 15 }, "15 held")
	if n := len(h.Messages("HR_ALERTS")); n != 1 {
		t.Errorf("%d alerts from two workers, want 1", n)
	}
	first.Crash(t)
	h.NS.Shutdown()
	h.NS.WaitForShutdown()
	h.StartNATS()
	await.True(t, 20*time.Second, h.NC.IsConnected, "the test's connection to come back")
	h.Start(cfg)
	if held := heldOrgs(t, h); held[24] != 15 {
		t.Fatalf("held after the restarts: %v", held)
	}
	if _, err := guardCLI(t, h, "approve", "-org", "24"); err != nil {
		t.Fatal(err)
	}
	results := testenv.ByEventID(t, h.WaitResults(45, time.Minute))
	for i := range 15 {
		if r := results[fmt.Sprint("term-", i)]; r.Outcome != hrevent.Applied {
			t.Errorf("termination %d: %s %q", i, r.Outcome, r.Reason)
		}
	}
}

// TestGuardCountsScheduledChangesWhenDue: terminations dated ahead count
// when they come due, not when they arrive.
func TestGuardCountsScheduledChangesWhenDue(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(guarded(h, "3", 2, time.Hour))
	staff(t, h, 24, 0, 10)
	at := time.Now().Add(3 * time.Second)
	var later []testenv.Event
	for i := range 5 {
		later = append(later, terminate(i, at))
	}
	h.PublishAsync(later)
	await.True(t, 10*time.Second, h.ConsumerIdle, "the intake to take them in")
	if held := heldOrgs(t, h); len(held) != 0 || time.Now().After(at) {
		t.Fatalf("held %v before the terminations' time", held)
	}
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 5 }, "5 held once due")
	for i := range 5 {
		if s := statusOf(h, 24, person(i)); s != 0 {
			t.Errorf("%s: status %d", person(i), s)
		}
	}
}
