package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestDuplicateWhileTheFirstIsOwed: an event published twice (the second
// copy without a message id NATS could drop it by) while the first copy's
// result is still owed: a hire waiting for a slow ChatHub, and a leave
// waiting for its time. Each second copy gets a skipped duplicate result
// under a message id of its own, result@<sequence>:<id>, and each first
// copy's real result is stored under result:<id> all the same.
func TestDuplicateWhileTheFirstIsOwed(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{Latency: 500 * time.Millisecond})
	hired := hire(1, 24)
	h.PublishEvent(hired)                // sequence 1
	h.Publish(hired.Body(), "hired", "") // sequence 2
	h.Start(h.Config())
	await.True(t, 30*time.Second, func() bool { return len(h.Results()) >= 1 }, "a result")
	at := time.Now().Add(3 * time.Second)
	leave := testenv.Event{ID: "leave-1", Kind: "leave_started", Employee: "E-1", Org: 24, At: at}
	h.PublishEvent(leave)                        // sequence 3
	h.Publish(leave.Body(), "leave_started", "") // sequence 4
	results := h.WaitResults(2, 30*time.Second)
	if len(results) != 4 {
		t.Fatalf("%d results, want 4: %+v", len(results), results)
	}
	byMsgID := map[string]testenv.Result{}
	for _, r := range results {
		byMsgID[r.MsgID] = r
	}
	for _, tc := range []struct {
		msgID   string
		outcome hrevent.Outcome
		reason  string
	}{
		{"result:hire-1", hrevent.Applied, ""},
		{"result@2:hire-1", hrevent.Skipped, "duplicate: event \"hire-1\" was already taken from the stream at sequence 1"},
		{"result:leave-1", hrevent.Applied, ""},
		{"result@4:leave-1", hrevent.Skipped, "duplicate: event \"leave-1\" was already taken from the stream at sequence 3"},
	} {
		r, ok := byMsgID[tc.msgID]
		if !ok || r.Outcome != tc.outcome || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("%s: %v %s %q, want %s %q", tc.msgID, ok, r.Outcome, r.Reason, tc.outcome, tc.reason)
		}
	}
	if when := resultTime(t, byMsgID["result:leave-1"]); when.Before(at) {
		t.Errorf("the leave's result came %s before its time", at.Sub(when))
	}
	if when := resultTime(t, byMsgID["result@4:leave-1"]); !when.Before(at) {
		t.Error("the duplicate leave's result waited for the leave's time")
	}
	if s := statusOf(h, 24, person(1)); s != 1 {
		t.Errorf("%s: status %d, want 1", person(1), s)
	}
}

// TestScheduledChangeBeforeTheHire: a leave dated ahead arrives before the
// employee's hire, and a termination dated ahead arrives for someone never
// hired. Neither is answered before its time: the leave is applied once
// the hire came, the termination skipped at its time.
func TestScheduledChangeBeforeTheHire(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	at := time.Now().Add(3 * time.Second)
	h.PublishEvent(testenv.Event{ID: "leave-2", Kind: "leave_started", Employee: "E-2", Org: 24, At: at})
	h.PublishEvent(testenv.Event{ID: "term-3", Kind: "terminated", Employee: "E-3", Org: 24, At: at})
	await.True(t, 10*time.Second, h.ConsumerIdle, "the intake to take them in")
	h.PublishEvent(hire(2, 24))
	early := testenv.ByEventID(t, h.WaitResults(1, 30*time.Second))
	if time.Now().After(at) {
		t.Fatal("the changes came due before the test could look at them")
	}
	for _, id := range []string{"leave-2", "term-3"} {
		if r, ok := early[id]; ok {
			t.Errorf("%s: %s %q before its time", id, r.Outcome, r.Reason)
		}
	}
	results := testenv.ByEventID(t, h.WaitResults(3, 30*time.Second))
	if r := results["leave-2"]; r.Outcome != hrevent.Applied || statusOf(h, 24, person(2)) != 1 {
		t.Errorf("the leave dated before its hire arrived: %s %q, status %d", r.Outcome, r.Reason, statusOf(h, 24, person(2)))
	}
	if r := results["term-3"]; r.Outcome != hrevent.Skipped || !strings.Contains(r.Reason, "no hire dated before") {
		t.Errorf("the termination of someone never hired: %s %q, want skipped: no hire", r.Outcome, r.Reason)
	}
	for _, id := range []string{"leave-2", "term-3"} {
		if when := resultTime(t, results[id]); when.Before(at) {
			t.Errorf("%s: result %s before its time", id, at.Sub(when))
		}
	}
}
