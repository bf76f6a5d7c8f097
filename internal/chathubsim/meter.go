package chathubsim

import (
	"context"
	"slices"
	"sync"
	"time"
)

// limiter is what a ChatHub client waits on before each call.
type limiter interface {
	Wait(ctx context.Context) error
	HoldUntil(t time.Time)
}

// Meter measures a client's calls where the rate limit's promise is made:
// it wraps the client's limiter and notes when each call was let go, and,
// as the client's call observer, how long the longest call took. A call
// arrives at the simulator between its start and its end, so the longest
// call bounds how much arrivals can bunch up compared with starts.
type Meter struct {
	L limiter

	mu      sync.Mutex
	starts  []time.Time
	longest time.Duration
}

// Wait waits on the wrapped limiter and notes the start.
func (m *Meter) Wait(ctx context.Context) error {
	err := m.L.Wait(ctx)
	if err == nil {
		now := time.Now()
		m.mu.Lock()
		m.starts = append(m.starts, now)
		m.mu.Unlock()
	}
	return err
}

// HoldUntil passes the hold on.
func (m *Meter) HoldUntil(t time.Time) { m.L.HoldUntil(t) }

// Observe notes a call's duration; it fits the client's call observer.
func (m *Meter) Observe(_ string, _ int, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.longest = max(m.longest, took)
}

// Starts returns the starts noted, in order.
func (m *Meter) Starts() []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := slices.Clone(m.starts)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	return s
}

// Longest is the longest call noted.
func (m *Meter) Longest() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.longest
}

// ArrivalWindow is how long a window at the simulator must be cut to hold
// no more calls than a one-second window of starts: arrivals come later
// than starts by anything from nothing to the longest call.
func ArrivalWindow(longest time.Duration) time.Duration { return max(time.Second-longest, 0) }

// MaxInWindow returns the most calls that arrived within any span of
// length window.
func MaxInWindow(arrivals []time.Time, window time.Duration) int {
	best, lo := 0, 0
	for hi := range arrivals {
		for arrivals[hi].Sub(arrivals[lo]) >= window {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
