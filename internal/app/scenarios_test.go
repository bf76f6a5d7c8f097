package app_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
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

// assertAllApplied fails for every result that is not applied or skipped.
func assertNoneFailed(t *testing.T, results []testenv.Result) {
	t.Helper()
	for _, r := range results {
		if r.Outcome == hrevent.Failed || r.Outcome == hrevent.Rejected {
			t.Errorf("event %s: %s: %s", r.EventID, r.Outcome, r.Reason)
		}
	}
}

// TestCrashMidBatch: a worker dies while its synchronize call is at
// ChatHub, which then commits it. A new worker on the same NATS store
// finishes the work without creating anyone twice.
func TestCrashMidBatch(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	rng := rand.New(rand.NewPCG(7, 7))
	stories := genStories(rng, 30)
	n := 0
	for _, s := range stories {
		for _, e := range s.events {
			h.PublishEvent(e)
			n++
		}
	}
	h.Sim.SetFaults(chathubsim.Faults{Latency: 300 * time.Millisecond})
	cfg := h.Config(func(c *config.Config) { c.LeaseTTL = 8 * time.Second })
	first := h.Start(cfg)
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().Calls["synchronize"] >= 1 }, "a synchronize call in flight")
	first.Crash(t)
	created := h.Sim.Counters().Calls["synchronize"]

	h.Sim.SetFaults(chathubsim.Faults{})
	h.Start(cfg)
	results := h.WaitResults(n, time.Minute)
	assertNoneFailed(t, results)
	if got := len(testenv.ByEventID(t, results)); got != n {
		t.Errorf("%d events have results, want %d", got, n)
	}
	assertChatHub(t, h.Sim, stories)
	t.Logf("crashed after %d synchronize calls; %d results", created, len(results))
}

// TestNATSRestart: the NATS server goes away mid-run and comes back on the
// same store; the worker reconnects and finishes.
func TestNATSRestart(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	w := h.Start(h.Config())
	for i := range 20 {
		h.PublishEvent(hire(i, 24))
	}
	h.WaitResults(20, 30*time.Second)

	h.NS.Shutdown()
	h.NS.WaitForShutdown()
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 20*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready without NATS")
	h.StartNATS()
	await.True(t, 20*time.Second, h.NC.IsConnected, "the test's connection to come back")
	for i := 20; i < 40; i++ {
		h.PublishEvent(hire(i, 24))
	}
	results := h.WaitResults(40, time.Minute)
	assertNoneFailed(t, results)
	await.True(t, 20*time.Second, func() bool { return status(t, readyz) == http.StatusOK }, "/readyz to turn ready again")
	if ops := h.Sim.Operators(24); len(ops) != 40 {
		t.Errorf("%d operators, want 40", len(ops))
	}
}

// TestBadItemsDoNotSinkTheBatch: ChatHub refuses a whole synchronize batch
// for two names in it; the worker splits the batch, creates the others and
// fails only those two, each with ChatHub's message.
func TestBadItemsDoNotSinkTheBatch(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{RejectNames: []string{"Person 0003", "Person 0011"}})
	for i := range 16 {
		h.PublishEvent(hire(i, 24))
	}
	h.Start(h.Config())
	results := testenv.ByEventID(t, h.WaitResults(16, 30*time.Second))
	for i := range 16 {
		r := results[fmt.Sprintf("hire-%d", i)]
		if i == 3 || i == 11 {
			if r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "is not allowed") || r.Event == nil {
				t.Errorf("hire %d: %s %q, want failed with ChatHub's message and the event", i, r.Outcome, r.Reason)
			}
			continue
		}
		if r.Outcome != hrevent.Applied || r.OperatorID == 0 {
			t.Errorf("hire %d: %s %s", i, r.Outcome, r.Reason)
		}
	}
	if ops := h.Sim.Operators(24); len(ops) != 14 {
		t.Errorf("%d operators, want 14", len(ops))
	}
	t.Logf("synchronize calls: %d, batch sizes %v", h.Sim.Counters().Calls["synchronize"], h.Sim.Counters().BatchSizes)
}

// TestUnauthorizedWindow: while ChatHub refuses the token the worker fails
// nothing, says it is not ready, and applies everything once the token is
// accepted again.
func TestUnauthorizedWindow(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	w := h.Start(h.Config())
	for i := range 10 {
		h.PublishEvent(hire(i, 24))
	}
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready")
	if got := h.Results(); len(got) != 0 {
		t.Fatalf("%d results during the 401 window, want none: %+v", len(got), got[0].Result)
	}
	h.Sim.SetFaults(chathubsim.Faults{})
	results := h.WaitResults(10, time.Minute)
	assertNoneFailed(t, results)
	await.True(t, 10*time.Second, func() bool { return status(t, readyz) == http.StatusOK }, "/readyz to turn ready")
	if n := h.Sim.Counters().Unauthorized; n == 0 {
		t.Error("the simulator served no 401")
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestShutdownWithInFlightWork: SIGTERM while a batch is at ChatHub; the
// worker finishes or hands back its messages, exits promptly, and a new
// worker applies the rest: nothing is lost or made twice.
func TestShutdownWithInFlightWork(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	// Calls outlast the grace period, so the batch cannot finish in time
	// and must be handed back.
	h.Sim.SetFaults(chathubsim.Faults{Latency: 700 * time.Millisecond})
	for i := range 30 {
		h.PublishEvent(hire(i, 24+i%2))
	}
	// A long AckWait: only messages handed back come again soon.
	cfg := h.Config(func(c *config.Config) { c.ShutdownGrace, c.AckWait = 300*time.Millisecond, time.Minute })
	first := h.Start(cfg)
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().Calls["list"] >= 1 }, "a call in flight")
	start := time.Now()
	first.Shutdown(t)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %s, want the 300ms grace plus the drain", took)
	}
	before := len(h.Results())
	if before == 30 {
		t.Error("every event finished before shutdown: nothing was handed back")
	}

	h.Sim.SetFaults(chathubsim.Faults{})
	restart := time.Now()
	h.Start(cfg)
	results := h.WaitResults(30, time.Minute)
	if took := time.Since(restart); took > 30*time.Second {
		t.Errorf("the second worker took %s: messages waited for AckWait instead of being handed back", took)
	}
	assertNoneFailed(t, results)
	if ops := len(h.Sim.Operators(24)) + len(h.Sim.Operators(25)); ops != 30 {
		t.Errorf("%d operators, want 30", ops)
	}
	t.Logf("%d results before shutdown, %d after restart", before, len(results))
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
			n := publishShuffled(h, rng, stories)
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
	t.Parallel()
	if testing.Short() {
		t.Skip("1,000 hires")
	}
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("published while running=%v", live), func(t *testing.T) {
			h := testenv.New(t)
			if live {
				h.Start(h.Config(func(c *config.Config) { c.BatchMaxWait = 200 * time.Millisecond }))
			}
			for i := range 1000 {
				h.PublishEvent(hire(i, 24))
			}
			if !live {
				h.Start(h.Config(func(c *config.Config) { c.BatchMaxWait = 200 * time.Millisecond }))
			}
			results := h.WaitResults(1000, 2*time.Minute)
			assertNoneFailed(t, results)
			c := h.Sim.Counters()
			t.Logf("1000 hires: %d synchronize calls (minimum 10), batch sizes %v", c.Calls["synchronize"], c.BatchSizes)
			// A backlog is batched whole (10 calls, or 11 when a loaded
			// machine makes the record changes trickle in past the round's
			// gathering). Published one at a time while the worker runs
			// (about 400 a second under -race), the hires fill their calls
			// over several rounds: 10 or 11 as well; on a machine loaded
			// with the short bench besides, once 13 in 12 runs.
			limit := 11
			if live {
				limit = 13
			}
			if c.Calls["synchronize"] > limit {
				t.Errorf("%d synchronize calls, want at most %d", c.Calls["synchronize"], limit)
			}
		})
	}
}

// TestCrashMidStatusChange: a worker dies after ChatHub took its status
// changes but before it recorded them; newer events then ask for the old
// status again. The next worker does not trust the dead worker's record.
func TestCrashMidStatusChange(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	cfg := h.Config(func(c *config.Config) { c.LeaseTTL = 8 * time.Second })
	first := h.Start(cfg)
	for i := range 20 {
		h.PublishEvent(hire(i, 24))
	}
	h.WaitResults(20, 30*time.Second)

	h.Sim.SetFaults(chathubsim.Faults{Latency: 300 * time.Millisecond})
	for i := range 20 {
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("leave-", i), Kind: "leave_started", Employee: fmt.Sprint("E-", i), Org: 24, At: t0.Add(time.Hour)})
	}
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().Calls["status"] >= 1 }, "a status call in flight")
	first.Crash(t)
	h.Sim.SetFaults(chathubsim.Faults{})
	// Half of them come back before the dead worker's lease runs out.
	for i := range 10 {
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("back-", i), Kind: "leave_ended", Employee: fmt.Sprint("E-", i), Org: 24, At: t0.Add(2 * time.Hour)})
	}
	h.Start(cfg)
	results := h.WaitResults(50, time.Minute)
	assertNoneFailed(t, results)
	for _, op := range h.Sim.Operators(24) {
		var i int
		fmt.Sscanf(op.Name, "Person %d", &i)
		if want := map[bool]int{true: 0, false: 1}[i < 10]; op.Status != want {
			t.Errorf("%s: status %d, want %d", op.Name, op.Status, want)
		}
	}
}

// TestRenewedTokenFileIsPickedUp: ChatHub refuses the token; once the
// token file holds a good one, the paused worker resumes by itself.
func TestRenewedTokenFileIsPickedUp(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("expired-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := h.Start(h.Config(func(c *config.Config) { c.ChatHubToken, c.ChatHubTokenFile = "expired-token", path }))
	h.PublishEvent(hire(1, 24))
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready")
	if err := os.WriteFile(path, []byte(testenv.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	results := h.WaitResults(1, 30*time.Second)
	assertNoneFailed(t, results)
}

// TestReplicasShareTheRateLimit: two workers with CHATHUB_RATE_LIMIT=10
// together never put more than 10 calls in a second at ChatHub. The
// limiter's own promise (starts spaced, under load) is tested where it is
// made, in internal/ratelimit; here arrivals at the simulator may jitter
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

// TestChatHubOutage: ChatHub answers nothing but 503 for a while; events
// wait with backoff and are all applied once it is back, none failed.
func TestChatHubOutage(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 1})
	h.Start(h.Config(func(c *config.Config) { c.ChatHubTimeout = time.Second; c.LeaseTTL = 4 * time.Second }))
	for i := range 20 {
		h.PublishEvent(hire(i, 24+i%2))
	}
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().ServerErrors >= 10 }, "the outage to be felt")
	if got := h.Results(); len(got) != 0 {
		t.Fatalf("%d results during the outage, want none (retried, not failed)", len(got))
	}
	h.Sim.SetFaults(chathubsim.Faults{})
	results := h.WaitResults(20, time.Minute)
	assertNoneFailed(t, results)
	if n := len(h.Sim.Operators(24)) + len(h.Sim.Operators(25)); n != 20 {
		t.Errorf("%d operators, want 20", n)
	}
}

// TestTokenNeverLogged: at the most verbose level, through a 401 window,
// failures and retries, no log line carries the token.
func TestTokenNeverLogged(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	var logs testenv.SyncBuffer
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	h.StartWithLog(h.Config(), zerolog.New(&logs).Level(zerolog.TraceLevel))
	h.PublishEvent(hire(1, 24))
	h.PublishEvent(testenv.Event{ID: "bad-org", Kind: "hired", Employee: "E-x", Name: "Nowhere", Org: 999, At: t0})
	await.True(t, 30*time.Second, func() bool { return strings.Contains(logs.String(), "refuses the company token") }, "the 401 to be logged")
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 0.5})
	h.WaitResults(2, time.Minute)
	if strings.Contains(logs.String(), testenv.Token) {
		t.Error("a log line carries the token")
	}
	if !strings.Contains(logs.String(), `"event_id":"bad-org"`) {
		t.Errorf("the failure was not logged with its event id:\n%s", logs.String())
	}
}
