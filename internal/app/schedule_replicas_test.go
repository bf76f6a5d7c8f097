package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestScheduledChangesWithReplicas: three workers; 300 employees each get
// a leave dated 4 s ahead and a return dated 8 s ahead, the return
// published first. Every change reaches ChatHub within 2 s of its time,
// and none is skipped.
func TestScheduledChangesWithReplicas(t *testing.T) {
	t.Parallel()
	n := 300
	if testing.Short() {
		n = 60
	}
	h := testenv.New(t)
	cfg := h.Config()
	for range 3 {
		h.Start(cfg)
	}
	staff(t, h, 24, 0, n)
	before := len(h.Sim.Changes())
	leave, back := time.Now().Add(4*time.Second), time.Now().Add(8*time.Second)
	var returns, leaves []testenv.Event
	for i := range n {
		id := fmt.Sprint("E-", i)
		returns = append(returns, testenv.Event{ID: fmt.Sprint("back-", i), Kind: "leave_ended", Employee: id, Org: 24, At: back})
		leaves = append(leaves, testenv.Event{ID: fmt.Sprint("leave-", i), Kind: "leave_started", Employee: id, Org: 24, At: leave})
	}
	h.PublishAsync(returns)
	h.PublishAsync(leaves)
	if time.Now().After(leave) {
		t.Fatal("publishing took longer than the time to the leaves")
	}
	results := testenv.ByEventID(t, h.WaitResults(3*n, 30*time.Second))
	late := 0
	for i := range n {
		for _, id := range []string{fmt.Sprint("leave-", i), fmt.Sprint("back-", i)} {
			if r := results[id]; r.Outcome != hrevent.Applied {
				t.Errorf("%s: %s %q, want applied", id, r.Outcome, r.Reason)
			}
		}
		var changes []time.Time
		for _, c := range changesOf(h.Sim, person(i), before) {
			want := map[int]time.Time{1: leave, 0: back}[c.Status]
			if c.At.Before(want) || c.At.After(want.Add(lateBy)) {
				late++
				t.Errorf("%s: status %d %s after its time, want within %s", person(i), c.Status, c.At.Sub(want), lateBy)
			}
			changes = append(changes, c.At)
		}
		if len(changes) != 2 {
			t.Errorf("%s: %d changes reached ChatHub, want the leave and the return", person(i), len(changes))
		}
	}
	t.Logf("%d employees, %d changes out of time", n, late)
}

// TestLostWakeUpIsFound: the wake-up of a change dated ahead is lost (its
// schedule purged from the stream before it fires). The sweep of the list
// of unfinished work finds the employee once the change's time passed,
// and the change takes effect.
func TestLostWakeUpIsFound(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	const sweep = 500 * time.Millisecond
	h.StartWithLog(h.Config(), zerolog.Nop(), app.WithSweep(sweep))
	staff(t, h, 24, 0, 1)
	at := time.Now().Add(3 * time.Second)
	h.PublishEvent(testenv.Event{ID: "leave-0", Kind: "leave_started", Employee: "E-0", Org: 24, At: at})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	schedules, err := h.JS.Stream(ctx, testenv.SchedulesStream)
	if err != nil {
		t.Fatal(err)
	}
	subject := broker.AtSubject(testenv.SchedulesStream, "E-0")
	await.True(t, 10*time.Second, func() bool {
		info, err := schedules.Info(ctx, jetstream.WithSubjectFilter(subject))
		return err == nil && info.State.Subjects[subject] == 1 && h.ConsumerIdle()
	}, "the leave's wake-up to be scheduled")
	if err := schedules.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		t.Fatal(err)
	}
	results := testenv.ByEventID(t, h.WaitResults(2, 30*time.Second))
	if r := results["leave-0"]; r.Outcome != hrevent.Applied || statusOf(h, 24, person(0)) != 1 {
		t.Fatalf("the leave whose wake-up was lost: %s %q, status %d", r.Outcome, r.Reason, statusOf(h, 24, person(0)))
	}
	changes := changesOf(h.Sim, person(0), 0)
	if last := changes[len(changes)-1]; last.At.Before(at) || last.At.After(at.Add(sweep+lateBy)) {
		t.Errorf("the leave reached ChatHub %s after its time, want within the sweep and %s", last.At.Sub(at), lateBy)
	}
}
