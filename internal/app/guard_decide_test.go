package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestInterruptedApprovalIsFinished: the guard holds 1,000 terminations of
// one organization and 50 of another. An approval stops after recording
// the decision and waking half of the held employees, as `worker guard
// approve` killed half-way does, while no worker runs. `worker guard` and
// `worker explain` show who decided, when and why; running the approval
// again finishes it, and the next worker applies all 1,000. A decision
// about the other organization that wakes nobody at all is carried out by
// the running worker by itself.
func TestInterruptedApprovalIsFinished(t *testing.T) {
	t.Parallel()
	n := 1000
	if testing.Short() {
		n = 200
	}
	h := testenv.New(t)
	cfg := guarded(h, "5", 2, time.Hour)
	first := h.Start(cfg)
	staff(t, h, 24, 0, n)
	staff(t, h, 25, n, 50)
	var burst []testenv.Event
	for i := range n + 50 {
		e := terminate(i, t0.Add(time.Hour))
		if i >= n {
			e.Org = 25
		}
		burst = append(burst, e)
	}
	h.PublishAsync(burst)
	// Holding them is as quick as taking them in: their looks all meet
	// the trip at once.
	await.True(t, 20*time.Second, func() bool { return h.StreamMsgs("HR_EVENTS") == uint64(2*n+100) && h.ConsumerIdle() }, "every termination taken in")
	if held := heldOrgs(t, h); held[24] != n || held[25] != 50 {
		t.Fatalf("held %v, want %d in organization 24 and 50 in 25; results: %s", held, n, describe(h.Results()))
	}
	first.Shutdown(t)

	// The approval is interrupted after its decision and half its wake-ups.
	store := harnessStore(t, h)
	decideAsTheCommand(t, h, store, 24, true, "alice", "the Leeds site closes", 2)
	if list := guardList(t, h); len(list) != 2 || list[0].OrganizationID != 24 || list[0].Decision == nil || list[0].Decision.By != "alice" ||
		list[0].Held != n || list[1].OrganizationID != 25 || list[1].Decision != nil {
		t.Errorf("worker guard -json after the interrupted approval: %+v, want organization 24 with alice's decision and %d still held, then 25", list, n)
	}
	out, err := guardCLI(t, h)
	if err != nil || !strings.Contains(out, "approved by alice at ") || !strings.Contains(out, "the Leeds site closes") {
		t.Errorf("worker guard: %v, want who approved and why:\n%s", err, out)
	}
	var explained testenv.SyncBuffer
	env := cli.Env{Stdout: &explained, Stderr: &explained, Environ: map[string]string{"NATS_URL": h.URL()}}
	if err := cli.Explain(t.Context(), []string{"E-0"}, env); err != nil || !strings.Contains(explained.String(), "approved by alice at ") ||
		!strings.Contains(explained.String(), "the Leeds site closes") {
		t.Errorf("worker explain: %v, want who approved and why:\n%s", err, explained.String())
	}

	// Running it again finishes it.
	out, err = guardCLI(t, h, "approve", "-org", "24")
	if err != nil || !strings.Contains(out, fmt.Sprintf("(decided before; finishing) %d held deactivations", n)) {
		t.Fatalf("approving again: %v\n%s", err, out)
	}
	h.Start(cfg)
	results := testenv.ByEventID(t, h.WaitResults(2*n+50, time.Minute))
	for i := range n {
		if r := results[fmt.Sprint("term-", i)]; r.Outcome != hrevent.Applied {
			t.Fatalf("termination %d after the approval was finished: %s %q", i, r.Outcome, r.Reason)
		}
	}

	// A decision that wakes nobody: the worker finds it by itself.
	decideAsTheCommand(t, h, store, 25, false, "carol", "not a real import", 0)
	results = testenv.ByEventID(t, h.WaitResults(2*n+100, 30*time.Second))
	for i := n; i < n+50; i++ {
		if r := results[fmt.Sprint("term-", i)]; r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "mass-offboarding guard") {
			t.Errorf("termination %d, rejected: %s %q", i, r.Outcome, r.Reason)
		}
	}
	await.True(t, 30*time.Second, func() bool { return len(guardList(t, h)) == 0 }, "nothing held any more")
}

// harnessStore is the worker's store in the harness's NATS.
func harnessStore(t *testing.T, h *testenv.Harness) *broker.Store {
	t.Helper()
	kv, err := h.JS.KeyValue(t.Context(), testenv.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	return broker.NewStore(h.JS, kv)
}

// decideAsTheCommand does what `worker guard approve|reject` does first,
// with the same pieces: it records the decision, then wakes one held
// employee in every (0: none), and stops there, as the command killed
// half-way would.
func decideAsTheCommand(t *testing.T, h *testenv.Harness, store *broker.Store, org int, approve bool, by, reason string, every int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, rev, err := store.State(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	d, again, err := st.Decide(approve, by, reason, time.Now())
	if err != nil || again {
		t.Fatalf("deciding about organization %d: %v (again %v)", org, err, again)
	}
	if _, err := store.PutState(ctx, st, rev); err != nil {
		t.Fatal(err)
	}
	if every == 0 {
		return
	}
	held, err := store.Held(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	wakes, i := broker.NewSchedules(h.JS, testenv.SchedulesStream), 0
	for id, w := range held {
		if w.Held == d.Gen && i%every == 0 {
			if err := wakes.Poke(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		i++
	}
}
