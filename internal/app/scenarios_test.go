package app_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func hire(i, org int) testenv.Event {
	return testenv.Event{ID: fmt.Sprintf("hire-%d", i), Kind: "hired", Employee: fmt.Sprintf("E-%d", i),
		Name: fmt.Sprintf("Person %04d", i), Org: org, At: t0}
}

// assertNoneFailed fails for every result that is failed or rejected.
func assertNoneFailed(t *testing.T, results []testenv.Result) {
	t.Helper()
	for _, r := range results {
		if r.Outcome == hrevent.Failed || r.Outcome == hrevent.Rejected {
			t.Errorf("event %s: %s: %s", r.EventID, r.Outcome, r.Reason)
		}
	}
}

// TestSeveralWorkers: two and three workers share the consumers under
// faults: ChatHub converges with no duplicate operators, and every event
// has exactly one result, read back from HR_RESULTS from its first message.
// Leases last the default two minutes, and the results must come well
// within that: no worker waits for another's lease to run out.
func TestSeveralWorkers(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{2, 3} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			t.Parallel()
			h := testenv.New(t)
			h.Sim.Seed(11)
			h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 0.05, SyncDropRate: 0.2, StatusDropRate: 0.1})
			rng := rand.New(rand.NewPCG(11, uint64(workers)))
			stories := genStories(rng, 60)
			cfg := h.Config(func(c *config.Config) { c.BatchMaxSize, c.LeaseTTL = 5, 2*time.Minute })
			for range workers {
				h.Start(cfg)
			}
			n := publishShuffled(h, rng, stories, 0)
			results := h.WaitResults(n, 45*time.Second)
			assertNoneFailed(t, results)
			if got := len(testenv.ByEventID(t, results)); got != n {
				t.Errorf("%d events have results, want %d", got, n)
			}
			assertChatHub(t, h.Sim, stories)
		})
	}
}

// TestAdoptsExistingOperators: going live over a ChatHub that already has
// operators adopts them by name instead of creating duplicates; a deleted
// one is not adopted, and an adopted inactive one is activated.
func TestAdoptsExistingOperators(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	alex := h.Sim.AddOperator(24, "Alex Brown", 0)
	emma := h.Sim.AddOperator(24, "emma davis", 1)
	mike := h.Sim.AddOperator(24, "Mike Wilson", 2)
	for i, name := range []string{"Alex Brown", "Emma Davis", "Mike Wilson"} {
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("h", i), Kind: "hired", Employee: fmt.Sprint("E", i), Name: name, Org: 24, At: t0})
	}
	h.Start(h.Config())
	results := testenv.ByEventID(t, h.WaitResults(3, 30*time.Second))
	if r := results["h0"]; r.OperatorID != alex {
		t.Errorf("Alex: operator %d, want the existing %d", r.OperatorID, alex)
	}
	if r := results["h1"]; r.OperatorID != emma || *r.OperatorStatus != 0 {
		t.Errorf("Emma: operator %d status %v, want the existing %d made active", r.OperatorID, *r.OperatorStatus, emma)
	}
	if r := results["h2"]; r.OperatorID == mike || r.OperatorID == 0 {
		t.Errorf("Mike: operator %d, want a new one (the existing one is deleted)", r.OperatorID)
	}
	if c := h.Sim.Counters(); c.Calls["synchronize"] != 1 || len(h.Sim.Operators(24)) != 4 {
		t.Errorf("%d synchronize calls and %d operators, want 1 and 4", c.Calls["synchronize"], len(h.Sim.Operators(24)))
	}
}

// TestHireBurstBatches: 1,000 hires in one organization cost close to
// ceil(1000/100) = 10 synchronize calls.
func TestHireBurstBatches(t *testing.T) {
	// Not parallel: it counts calls against the timing of hires published
	// one by one, which the package's other tests would stretch.
	if testing.Short() {
		t.Skip("1,000 hires")
	}
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("published while running=%v", live), func(t *testing.T) {
			h := testenv.New(t)
			if live {
				h.Start(h.Config(func(c *config.Config) { c.BatchMaxWait = 200 * time.Millisecond }))
			}
			start := time.Now()
			for i := range 1000 {
				h.PublishEvent(hire(i, 24))
			}
			took := time.Since(start)
			if !live {
				h.Start(h.Config(func(c *config.Config) { c.BatchMaxWait = 200 * time.Millisecond }))
			}
			results := h.WaitResults(1000, 2*time.Minute)
			assertNoneFailed(t, results)
			c := h.Sim.Counters()
			t.Logf("1000 hires: %d synchronize calls (minimum 10), batch sizes %v", c.Calls["synchronize"], c.BatchSizes)
			// A backlog is batched whole: 10 calls, 11 on a loaded machine.
			// Published one at a time while the worker runs (about 400 a
			// second under -race, fewer on a loaded machine), a call fills
			// for BATCH_MAX_WAIT at most: it holds the hires published in
			// 200 ms, or 100; one call more for the flow's ends.
			limit := 11
			if live {
				perCall := min(100, int(1000*(200*time.Millisecond).Seconds()/took.Seconds()))
				limit = (1000+perCall-1)/max(perCall, 1) + 2
				t.Logf("published in %s: calls of %d hires at least", took.Round(time.Millisecond), perCall)
			}
			if c.Calls["synchronize"] > limit {
				t.Errorf("%d synchronize calls, want at most %d", c.Calls["synchronize"], limit)
			}
		})
	}
}

// TestReplicasShareTheRateLimit: two workers with CHATHUB_RATE_LIMIT=10
// together never put more than 10 calls in a second at ChatHub. The
// limiter's own promise (starts spaced, under load) is tested where it is
// made, in internal/broker (limiter_test.go); here arrivals at the simulator may jitter
// by up to CHATHUB_RATE_MARGIN, set wide for a loaded CI machine.
func TestReplicasShareTheRateLimit(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	for i := range 30 {
		h.Sim.AddOperator(24, fmt.Sprintf("Person %04d", i), 0)
		h.PublishEvent(hire(i, 24))
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("leave-", i), Kind: "leave_started", Employee: fmt.Sprint("E-", i), Org: 24, At: t0.Add(time.Hour)})
	}
	cfg := h.Config(func(c *config.Config) {
		c.ChatHubRateLimit, c.ChatHubRateMargin, c.BatchMaxSize = 10, 150*time.Millisecond, 5
	})
	start := time.Now()
	h.Start(cfg)
	h.Start(cfg)
	results := h.WaitResults(60, time.Minute)
	assertNoneFailed(t, results)
	arrivals := h.Sim.Arrivals()
	if most := chathubsim.MaxInWindow(arrivals, time.Second); most > 10 {
		t.Errorf("%d calls within one second from two workers, want at most 10", most)
	}
	if n := h.Sim.Counters().Calls["status"]; n < 30 {
		t.Errorf("%d status calls, want at least 30", n)
	}
	if min := time.Duration(len(arrivals)-1) * time.Second / 10; time.Since(start) < min {
		t.Errorf("%d calls in %s, want at least %s at a shared 10/s", len(arrivals), time.Since(start), min)
	}
	t.Logf("%d calls, at most %d in any second", len(arrivals), chathubsim.MaxInWindow(arrivals, time.Second))
}
