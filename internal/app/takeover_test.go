package app_test

import (
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// resumeWithin is how soon a crashed worker's work must be finished by
// another: its messages come back after ACK_WAIT (10 s by default), and
// nothing waits for the dead worker's lease, however long.
const resumeWithin = 15 * time.Second

// TestCrashedWorkerResumesWithin15s: the leading worker dies, as SIGKILL
// kills it, while it holds events under way at a slow ChatHub. A standby
// that runs beside it, or the same worker restarted alone, finishes every
// event within 15 s, with the default ACK_WAIT and a LEASE_TTL of two
// minutes (the default is one) that nothing may wait for.
func TestCrashedWorkerResumesWithin15s(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		standby bool
	}{{"a standby takes over", true}, {"the worker is restarted", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := testenv.New(t)
			cfg := h.Config(func(c *config.Config) { c.AckWait, c.LeaseTTL = 10*time.Second, 2*time.Minute })
			h.Sim.SetFaults(chathubsim.Faults{Latency: 300 * time.Millisecond})
			first := h.Start(cfg)
			await.True(t, 30*time.Second, first.W.Leads, "the first worker to lead")
			if tc.standby {
				h.Start(cfg)
			}
			for i := range 60 {
				h.PublishEvent(hire(i, 24+i%2))
			}
			await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().Calls["synchronize"] >= 1 }, "a call under way")
			// The crash is the dropped connection; Crash then waits for the
			// dead worker's goroutines, which no real crash would.
			crashed := time.Now()
			first.Crash(t)
			if len(h.Results()) == 60 {
				t.Fatal("every event had its result before the crash")
			}
			h.Sim.SetFaults(chathubsim.Faults{})
			if !tc.standby {
				h.Start(cfg)
			}
			results := h.WaitResults(60, time.Minute)
			if took := time.Since(crashed); took > resumeWithin {
				t.Errorf("the work took %s after the crash, want at most %s", took.Round(time.Millisecond), resumeWithin)
			}
			assertNoneFailed(t, results)
			if n := len(h.Sim.Operators(24)) + len(h.Sim.Operators(25)); n != 60 {
				t.Errorf("%d operators, want 60", n)
			}
			t.Logf("finished %s after the crash", time.Since(crashed).Round(time.Millisecond))
		})
	}
}

// TestLongCallsAreNotDeliveredAgain: ChatHub takes 4 s to answer, twice
// ACK_WAIT. The worker marks the messages it holds in progress, so none is
// delivered again while it waits.
func TestLongCallsAreNotDeliveredAgain(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{Latency: 4 * time.Second})
	h.Start(h.Config(func(c *config.Config) {
		c.AckWait, c.ChatHubTimeout, c.LeaseTTL = 2*time.Second, 10*time.Second, time.Minute
	}))
	for i := range 10 {
		h.PublishEvent(hire(i, 24+i%2))
	}
	redelivered := 0
	await.True(t, time.Minute, func() bool {
		if info, err := h.ConsumerInfo(testenv.EventsStream); err == nil {
			redelivered = max(redelivered, info.NumRedelivered)
		}
		return len(h.Results()) == 10
	}, "10 results")
	assertNoneFailed(t, h.WaitResults(10, time.Minute))
	if redelivered != 0 {
		t.Errorf("%d messages delivered again while ChatHub answered, want none", redelivered)
	}
}
