package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// lateBy is how long after its time a scheduled change may reach ChatHub
// (the worker promises at most a couple of seconds after).
const lateBy = 2 * time.Second

// changesOf returns ChatHub's changes to the operators named name, after
// the first skip changes of all.
func changesOf(sim *chathubsim.Server, name string, skip int) []chathubsim.Change {
	var out []chathubsim.Change
	for _, c := range sim.Changes()[skip:] {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// assertWhen fails unless every change to name after the first skip
// happened within [from, from+lateBy], and there is at least one.
func assertWhen(t *testing.T, sim *chathubsim.Server, name string, skip int, from time.Time) {
	t.Helper()
	cs := changesOf(sim, name, skip)
	if len(cs) == 0 {
		t.Errorf("%s: no change reached ChatHub", name)
	}
	for _, c := range cs {
		if c.At.Before(from) {
			t.Errorf("%s: changed to status %d %s before its time", name, c.Status, from.Sub(c.At))
		}
		if c.At.After(from.Add(lateBy)) {
			t.Errorf("%s: changed to status %d %s after its time, want at most %s", name, c.Status, c.At.Sub(from), lateBy)
		}
		t.Logf("%s: status %d %s after its time", name, c.Status, c.At.Sub(from).Round(time.Millisecond))
	}
}

// resultTime is when a result was published.
func resultTime(t *testing.T, r testenv.Result) time.Time {
	t.Helper()
	var ce struct{ Time time.Time }
	if err := json.Unmarshal(r.Body, &ce); err != nil {
		t.Fatal(err)
	}
	return ce.Time
}

func person(i int) string { return fmt.Sprintf("Person %04d", i) }

// TestScheduledChangesTakeEffectAtTheirTime: changes dated ahead reach
// ChatHub at their time, not before and at most two seconds after, and so
// do their results; a change dated an hour ahead does nothing meanwhile.
func TestScheduledChangesTakeEffectAtTheirTime(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	for i := range 4 {
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("hire-", i), Kind: "hired", Employee: fmt.Sprint("E-", i), Name: person(i), Org: 24, At: time.Now().Add(-time.Hour)})
	}
	h.WaitResults(4, 30*time.Second)
	before := len(h.Sim.Changes())

	at := time.Now().Add(3 * time.Second)
	scheduled := []testenv.Event{
		{ID: "term-0", Kind: "terminated", Employee: "E-0", Org: 24, At: at},
		{ID: "leave-1", Kind: "leave_started", Employee: "E-1", Org: 24, At: at},
		{ID: "leave-2", Kind: "leave_started", Employee: "E-2", Org: 24, At: at},
		{ID: "back-2", Kind: "leave_ended", Employee: "E-2", Org: 24, At: at.Add(700 * time.Millisecond)},
		{ID: "hire-10", Kind: "hired", Employee: "E-10", Name: person(10), Org: 24, At: at},
		{ID: "term-3", Kind: "terminated", Employee: "E-3", Org: 24, At: time.Now().Add(time.Hour)},
	}
	for _, e := range scheduled {
		h.PublishEvent(e)
	}
	results := testenv.ByEventID(t, h.WaitResults(4+5, 30*time.Second))
	if len(h.Sim.Changes()) < before+4 {
		t.Fatalf("%d changes reached ChatHub, want at least 4", len(h.Sim.Changes())-before)
	}
	assertWhen(t, h.Sim, person(0), before, at)
	assertWhen(t, h.Sim, person(1), before, at)
	assertWhen(t, h.Sim, person(10), before, at)
	for _, c := range changesOf(h.Sim, person(2), before) {
		if c.At.Before(at) {
			t.Errorf("E-2 changed to %d before the leave's time", c.Status)
		}
	}
	if ops := h.Sim.Operators(24); len(ops) != 5 {
		t.Errorf("%d operators, want 5", len(ops))
	}
	for _, op := range h.Sim.Operators(24) {
		want := map[string]int{person(0): 2, person(1): 1, person(2): 0, person(3): 0, person(10): 0}[op.Name]
		if op.Status != want {
			t.Errorf("%s: status %d, want %d", op.Name, op.Status, want)
		}
	}
	for _, e := range scheduled[:5] {
		r, ok := results[e.ID]
		switch {
		case !ok:
			t.Errorf("%s: no result", e.ID)
		case resultTime(t, r).Before(e.At):
			t.Errorf("%s: result published %s before the change's time", e.ID, e.At.Sub(resultTime(t, r)))
		case r.Outcome != hrevent.Applied && !(e.ID == "leave-2" && strings.Contains(r.Reason, `overtaken by leave_ended "back-2"`)):
			t.Errorf("%s: %s %q", e.ID, r.Outcome, r.Reason)
		}
	}
	if _, ok := results["term-3"]; ok {
		t.Error("a termination dated an hour ahead has a result already")
	}
}

// TestScheduledChangesSurviveCrashAndNATSRestart: the worker dies and NATS
// restarts while changes wait for their time, which passes while NATS is
// down. The next worker applies them at once; two changes of one employee
// that came due together give the earlier one a skipped result naming the
// later one.
func TestScheduledChangesSurviveCrashAndNATSRestart(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	first := h.Start(h.Config())
	for i := range 2 {
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("hire-", i), Kind: "hired", Employee: fmt.Sprint("E-", i), Name: person(i), Org: 24, At: time.Now().Add(-time.Hour)})
	}
	h.WaitResults(2, 30*time.Second)
	at := time.Now().Add(2 * time.Second)
	h.PublishEvent(testenv.Event{ID: "term-0", Kind: "terminated", Employee: "E-0", Org: 24, At: at})
	h.PublishEvent(testenv.Event{ID: "leave-1", Kind: "leave_started", Employee: "E-1", Org: 24, At: at})
	h.PublishEvent(testenv.Event{ID: "back-1", Kind: "leave_ended", Employee: "E-1", Org: 24, At: at.Add(300 * time.Millisecond)})
	await.True(t, 10*time.Second, h.ConsumerIdle, "the intake to take the changes in")
	first.Crash(t)

	h.NS.Shutdown()
	h.NS.WaitForShutdown()
	// The changes come due while NATS is down.
	await.True(t, 10*time.Second, func() bool { return time.Now().After(at.Add(time.Second)) }, "the changes' time to pass")
	h.StartNATS()
	restarted := time.Now()
	h.Start(h.Config())
	results := testenv.ByEventID(t, h.WaitResults(5, 30*time.Second))
	if took := time.Since(restarted); took > 10*time.Second {
		t.Errorf("the changes took %s after the restart", took)
	}
	for _, op := range h.Sim.Operators(24) {
		if want := map[string]int{person(0): 2, person(1): 0}[op.Name]; op.Status != want {
			t.Errorf("%s: status %d, want %d", op.Name, op.Status, want)
		}
	}
	if r := results["term-0"]; r.Outcome != hrevent.Applied {
		t.Errorf("termination: %s %q", r.Outcome, r.Reason)
	}
	if r := results["leave-1"]; r.Outcome != hrevent.Skipped || !strings.Contains(r.Reason, `overtaken by leave_ended "back-1"`) {
		t.Errorf("the leave overtaken by the return: %s %q", r.Outcome, r.Reason)
	}
	if r := results["back-1"]; r.Outcome != hrevent.Applied {
		t.Errorf("the return: %s %q", r.Outcome, r.Reason)
	}
	if n := len(changesOf(h.Sim, person(1), 0)); n != 1 {
		t.Errorf("E-1: %d changes in ChatHub, want only the create (the leave and return came due together)", n)
	}
}

// TestManyScheduledChangesSlowNothingDueNow: thousands of start dates next
// week wait in schedules, not in the input's ack window, while hires due
// now are applied.
func TestManyScheduledChangesSlowNothingDueNow(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	n := 5000
	if testing.Short() {
		n = 1000
	}
	h.Start(h.Config())
	week := time.Now().Add(7 * 24 * time.Hour)
	var later []testenv.Event
	for i := range n {
		later = append(later, testenv.Event{ID: fmt.Sprint("start-", i), Kind: "hired", Employee: fmt.Sprint("S-", i), Name: fmt.Sprint("Starter ", i), Org: 25, At: week})
	}
	h.PublishAsync(later)
	await.True(t, time.Minute, func() bool { return h.StreamMsgs("CHATHUB_SCHEDULES") >= uint64(n) }, "a wake-up per start date")
	for i := range 100 {
		h.PublishEvent(hire(i, 24))
	}
	results := h.WaitResults(100, 30*time.Second)
	assertNoneFailed(t, results)
	if ops := len(h.Sim.Operators(24)); ops != 100 {
		t.Errorf("%d operators in organization 24, want 100", ops)
	}
	if ops := len(h.Sim.Operators(25)); ops != 0 {
		t.Errorf("%d operators created for next week's starters", ops)
	}
	if !h.ConsumerIdle() {
		t.Error("messages wait in the input's ack window")
	}
}
