package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestOneEmployeeRecordIsBounded: 600 changes dated ahead for one
// employee. Those past the bound of events waiting fail at once with a
// reason that says so; the others wait for their time and then take
// effect; nothing is delivered again, and once they are resolved the
// employee's next event is taken as any other.
func TestOneEmployeeRecordIsBounded(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	h.PublishEvent(hire(1, 24))
	h.WaitResults(1, 30*time.Second)

	const n = 600
	at := time.Now().Add(4 * time.Second)
	changes := make([]testenv.Event, n)
	for i := range n {
		kind := "leave_ended"
		if i%2 == 1 {
			kind = "leave_started"
		}
		changes[i] = testenv.Event{ID: fmt.Sprint("change-", i), Kind: kind, Employee: "E-1", Org: 24, At: at.Add(time.Duration(i) * time.Millisecond)}
	}
	h.PublishAsync(changes)
	h.PublishEvent(hire(2, 24))
	// Those past the bound fail at once; the others wait for their time.
	early := testenv.ByEventID(t, h.WaitResults(2+n-employee.MaxWaiting, 30*time.Second))
	if time.Now().After(at) {
		t.Fatal("the changes came due before the test could look at them")
	}
	for i := range n {
		r, ok := early[changes[i].ID]
		switch {
		case i < employee.MaxWaiting && ok:
			t.Errorf("change %d, within the bound: %s %q before its time", i, r.Outcome, r.Reason)
		case i >= employee.MaxWaiting && (!ok || r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "events waiting")):
			t.Errorf("change %d, past the bound: %v %s %q, want failed saying why", i, ok, r.Outcome, r.Reason)
		case i >= employee.MaxWaiting && r.Attempts != 1:
			t.Errorf("change %d: %d attempts, want 1", i, r.Attempts)
		}
	}
	if r := early["hire-2"]; r.Outcome != hrevent.Applied {
		t.Errorf("another employee's hire: %s %q", r.Outcome, r.Reason)
	}

	// At their time they take effect, as any scheduled changes do: the
	// last one within the bound decides the employee's state.
	results := testenv.ByEventID(t, h.WaitResults(2+n, 30*time.Second))
	for i := range employee.MaxWaiting {
		r := results[changes[i].ID]
		if r.Outcome != hrevent.Applied && r.Outcome != hrevent.Skipped {
			t.Errorf("change %d: %s %q, want applied or overtaken", i, r.Outcome, r.Reason)
		}
		if when := resultTime(t, r); when.Before(changes[i].At) || when.After(changes[i].At.Add(lateBy)) {
			t.Errorf("change %d: result %s after its time, want within %s", i, when.Sub(changes[i].At), lateBy)
		}
	}
	if r := results[changes[employee.MaxWaiting-1].ID]; r.Outcome != hrevent.Applied {
		t.Errorf("the last change within the bound: %s %q", r.Outcome, r.Reason)
	}
	if s := statusOf(h, 24, person(1)); s != 1 {
		t.Errorf("%s: status %d, want 1 (the last change within the bound, a leave)", person(1), s)
	}
	// The employee takes events again.
	h.PublishEvent(testenv.Event{ID: "back", Kind: "leave_ended", Employee: "E-1", Org: 24, At: time.Now()})
	results = testenv.ByEventID(t, h.WaitResults(3+n, 30*time.Second))
	if r := results["back"]; r.Outcome != hrevent.Applied || statusOf(h, 24, person(1)) != 0 {
		t.Errorf("an event once the waiting ones resolved: %s %q", r.Outcome, r.Reason)
	}
}

// TestLongIDsDoNotOverflowTheRecord: changes dated ahead whose ids have
// 256 four-byte characters (1 KiB each, within the schema) fill one
// employee's record long before the count does: those that would not fit
// in one message of the store fail at once, instead of the record's write
// failing and the events being delivered again for ever.
func TestLongIDsDoNotOverflowTheRecord(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	const n = 60
	at := time.Now().Add(time.Hour)
	var changes []testenv.Event
	for i := range n {
		id := fmt.Sprintf("%04d", i) + strings.Repeat("𝄞", 252)
		changes = append(changes, testenv.Event{ID: id, Kind: "leave_started", Employee: "E-1", Org: 24, At: at.Add(time.Duration(i) * time.Second)})
	}
	h.PublishAsync(changes)
	kv, err := h.JS.KeyValue(t.Context(), testenv.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	store := broker.NewStore(h.JS, kv)
	var results []testenv.Result
	var rec employee.Record
	// Every event is accounted for, and nothing is delivered again.
	await.True(t, 30*time.Second, func() bool {
		results = h.Results()
		rec, _, err = store.Get(t.Context(), "E-1")
		return err == nil && len(results) > 0 && len(results)+len(rec.Scheduled) == n && h.ConsumerIdle()
	}, "every change failed or stored, and the consumer idle")
	for _, r := range results {
		if r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "events waiting") || r.Attempts != 1 {
			t.Errorf("%s…: %s %q after %d attempts, want failed at once saying why", r.EventID[:8], r.Outcome, r.Reason, r.Attempts)
		}
	}
	t.Logf("%d changes wait in the record, %d failed", len(rec.Scheduled), len(results))
}
