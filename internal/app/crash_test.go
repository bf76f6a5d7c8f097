package app_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

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
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().Calls["list"] >= 2 }, "a call in flight (the token's probe, then a list)")
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
