package chathub_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

// TestThrottleHoldsEveryCaller: after a 429 with Retry-After, no caller
// starts a call before that time has passed.
func TestThrottleHoldsEveryCaller(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	sim.SetFaults(chathubsim.Faults{ThrottleRate: 1, RetryAfter: time.Second})
	c := newClient(t, srv.URL)
	_, err := c.ListOperators(t.Context(), 24)
	assertClass(t, err, chathub.ErrThrottled)
	throttledAt := sim.Arrivals()[0]
	sim.SetFaults(chathubsim.Faults{})

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := c.ListOperators(t.Context(), 24); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, at := range sim.Arrivals()[1:] {
		if gap := at.Sub(throttledAt); gap < 990*time.Millisecond {
			t.Errorf("a call arrived %s after the 429, want at least 1s", gap)
		}
	}
}

// TestRateLimitUnderConcurrency: 20 callers share a limit of 20 calls a
// second. Measured where the promise is made, never more than 20 calls
// start within a second (the margin absorbs the delay between the
// limiter's decision and the meter's note of it); at the simulator, so do
// they arrive, in windows cut by how much a call can take.
func TestRateLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	const rate, calls = 20, 41
	sim, srv := startSim(t)
	meter := &chathubsim.Meter{L: chathub.NewPacer(rate, chathub.DefaultRateMargin)}
	c := newClient(t, srv.URL, chathub.WithLimiter(meter), chathub.WithCallObserver(meter.Observe))
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan struct{}, calls)
	for range calls {
		work <- struct{}{}
	}
	close(work)
	for range 20 {
		wg.Go(func() {
			for range work {
				if _, err := c.ListOperators(t.Context(), 24); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	starts, arrivals := meter.Starts(), sim.Arrivals()
	if len(arrivals) != calls || len(starts) != calls {
		t.Fatalf("%d starts, %d arrivals, want %d", len(starts), len(arrivals), calls)
	}
	if most := chathubsim.MaxInWindow(starts, time.Second); most > rate {
		t.Errorf("%d calls started within one second, want at most %d", most, rate)
	}
	window := chathubsim.ArrivalWindow(meter.Longest())
	if most := chathubsim.MaxInWindow(arrivals, window); most > rate {
		t.Errorf("%d calls arrived within %s, want at most %d", most, window, rate)
	}
	if min := (calls - 1) * time.Second / rate; elapsed < min {
		t.Errorf("%d calls took %s, want at least %s at %d/s", calls, elapsed, min, rate)
	}
	observed := float64(calls-1) / arrivals[calls-1].Sub(arrivals[0]).Seconds()
	t.Logf("rate limit %d/s, 20 callers: %d calls in %s, observed %.2f calls/s at the simulator, at most %d in any second there",
		rate, calls, elapsed.Round(time.Millisecond), observed, chathubsim.MaxInWindow(arrivals, time.Second))
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	sim.SetFaults(chathubsim.Faults{Latency: time.Minute})
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "Alex"}})
		done <- err
	}()
	// Cancel once the request is at the server.
	await.True(t, 10*time.Second, func() bool { return sim.Counters().Calls["synchronize"] == 1 }, "the call to reach the simulator")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		// The request was sent, so ChatHub may still act on it.
		assertClass(t, err, chathub.ErrOutcomeUnknown)
	case <-time.After(10 * time.Second):
		t.Fatal("Synchronize did not return after cancel")
	}

}

func TestCancelWhileWaitingForRateLimit(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	id := sim.AddOperator(24, "Mike", 0)
	slow := newClient(t, srv.URL, chathub.WithRateLimit(0.001))
	if err := slow.SetStatus(t.Context(), id, chathub.StatusActive); err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The next call may not start for 1000s; it gives up without sending.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := slow.SetStatus(ctx, id, chathub.StatusInactive)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline while waiting", err)
	}
	assertClass(t, err, chathub.ErrTransient)
	if n := sim.Counters().Calls["status"]; n != 1 {
		t.Errorf("status calls = %d, want only the first", n)
	}
}
