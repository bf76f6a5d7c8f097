package app_test

import (
	"encoding/json"
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestLeadLostThenRegained: the leading worker finds its lease taken by
// another worker (as after a pause longer than LEASE_TTL): it stops all
// work and stands by, and once that worker is gone it leads again and
// takes events as before.
func TestLeadLostThenRegained(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	w := h.Start(h.Config(func(c *config.Config) { c.LeaseTTL = 2 * time.Second }))
	await.True(t, 30*time.Second, w.W.Leads, "the worker to lead")
	h.PublishEvent(hire(0, 24))
	h.WaitResults(1, 30*time.Second)
	loseTheLead(t, h, w)()
	await.True(t, 30*time.Second, w.W.Leads, "the worker to lead again")
	h.PublishEvent(hire(1, 24))
	h.WaitResults(2, 30*time.Second)
	if n := len(h.Sim.Operators(24)); n != 2 {
		t.Errorf("%d operators, want 2", n)
	}
}

// TestPauseEndsWithItsLead: a worker that ChatHub refuses pauses; it loses
// the lead meanwhile, and leads again while ChatHub still refuses: it
// pauses again and probes again, and once ChatHub accepts the token the
// waiting hire is applied.
func TestPauseEndsWithItsLead(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	w := h.Start(h.Config(func(c *config.Config) { c.LeaseTTL = 2 * time.Second }))
	h.PublishEvent(hire(0, 24))
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "the worker to pause")
	loseTheLead(t, h, w)()
	await.True(t, 30*time.Second, w.W.Leads, "the worker to lead again")
	unauthorized := h.Sim.Counters().Unauthorized
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().Unauthorized > unauthorized+1 },
		"the worker to meet the refusal again, and to probe")
	h.Sim.SetFaults(chathubsim.Faults{})
	assertNoneFailed(t, h.WaitResults(1, 30*time.Second))
	await.True(t, 10*time.Second, func() bool { return status(t, readyz) == http.StatusOK }, "/readyz to turn ready")
}

// loseTheLead makes another worker, alive (it answers a standby's
// question), take the lease from w, and waits until w stands by. The
// function it returns makes that worker go: w then takes over at once.
func loseTheLead(t *testing.T, h *testenv.Harness, w *testenv.Worker) (gone func()) {
	t.Helper()
	kv, err := h.JS.KeyValue(t.Context(), testenv.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	alive, err := h.NC.Subscribe(broker.AliveSubject(testenv.Bucket, "another-worker"), func(m *nats.Msg) { _ = m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	other, _ := json.Marshal(map[string]any{"owner": "another-worker", "since": time.Now()})
	if _, err := kv.Put(t.Context(), broker.LeaderKey, other); err != nil {
		t.Fatal(err)
	}
	if !await.Within(30*time.Second, func() bool { return !w.W.Leads() }) {
		var stacks strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Fatalf("the worker did not give up the lead it lost within 30s; goroutines:\n%s", stacks.String())
	}
	return func() {
		if err := alive.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
	}
}
