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

// TestGuardAtTheDefaultRate: the guard's burst at CHATHUB_RATE_LIMIT=5,
// ChatHub answering in 200 to 500 ms. The whole burst is counted and
// held, nobody is deactivated before the trip, the alert counts all 20,
// and the approval applies them all.
func TestGuardAtTheDefaultRate(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	cfg := guarded(h, "20%", 5, time.Hour)
	cfg.ChatHubRateLimit = 5
	h.Start(cfg)
	staff(t, h, 24, 0, 40)
	h.Sim.SetFaults(chathubsim.Faults{Latency: 200 * time.Millisecond, LatencyMax: 500 * time.Millisecond})
	before := len(h.Sim.Changes())
	var burst []testenv.Event
	for i := range 20 {
		burst = append(burst, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(burst)
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 20 }, "the guard to hold all 20")
	if n := len(h.Sim.Changes()) - before; n != 0 {
		t.Errorf("%d changes reached ChatHub although the burst is held", n)
	}
	await.True(t, 10*time.Second, func() bool { return len(h.Messages("HR_ALERTS")) == 1 }, "the alert")
	var alert struct{ Data struct{ Held int } }
	if err := json.Unmarshal(h.Messages("HR_ALERTS")[0].Data, &alert); err != nil || alert.Data.Held != 20 {
		t.Errorf("the alert counts %d held (%v), want 20", alert.Data.Held, err)
	}
	if out, err := guardCLI(t, h, "approve", "-org", "24"); err != nil {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	results := testenv.ByEventID(t, h.WaitResults(60, 30*time.Second))
	for i := range 20 {
		if r := results[fmt.Sprint("term-", i)]; r.Outcome != hrevent.Applied || statusOf(h, 24, person(i)) != 2 {
			t.Errorf("termination %d after the approval: %s %q", i, r.Outcome, r.Reason)
		}
	}
}

// TestGuardCountsAFlowingBurstWhole: a burst of terminations that takes
// several times the guard's settle to arrive, its first two taken in
// alone (at most GUARD_MIN, which never trips by itself): nobody is
// deactivated, all 30 are held together.
func TestGuardCountsAFlowingBurstWhole(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	cfg := guarded(h, "5", 2, time.Hour)
	h.Start(cfg)
	staff(t, h, 24, 0, 40)
	before := len(h.Sim.Changes())
	h.PublishAsync([]testenv.Event{terminate(0, t0.Add(time.Hour)), terminate(1, t0.Add(time.Hour))})
	// The rest comes as a flow, an event every 20 ms, for about three
	// times the settle.
	settle := 5 * cfg.BatchMaxWait
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 2; i < 30; i++ {
		<-tick.C
		h.PublishEvent(terminate(i, t0.Add(time.Hour)))
	}
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 30 || len(h.Results()) > 40 }, "all 30 held, or one applied")
	if held := heldOrgs(t, h)[24]; held != 30 {
		t.Errorf("%d held, want 30 (settle %s); results: %s", held, settle, describe(h.Results()))
	}
	if n := len(h.Sim.Changes()) - before; n != 0 {
		t.Errorf("%d terminations reached ChatHub before the trip", n)
	}
}

// describe lists results briefly, for a failure message.
func describe(results []testenv.Result) string {
	var out []string
	for _, r := range results {
		if !strings.HasPrefix(r.EventID, "hire-") {
			out = append(out, r.EventID+" "+string(r.Outcome))
		}
	}
	return strings.Join(out, ", ")
}
