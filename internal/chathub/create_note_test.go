package chathub_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// spaced lets one call start every gap.
type spaced struct {
	mu   sync.Mutex
	next time.Time
	gap  time.Duration
}

func (s *spaced) Wait(ctx context.Context) error {
	s.mu.Lock()
	at := s.next
	if now := time.Now(); at.Before(now) {
		at = now
	}
	s.next = at.Add(s.gap)
	s.mu.Unlock()
	select {
	case <-time.After(time.Until(at)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *spaced) HoldUntil(time.Time) {}

// notes is an Intents port that keeps when each note was written.
type notes struct {
	mu sync.Mutex
	at []time.Time
}

func (n *notes) Intend(context.Context, int, []employee.Intent) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.at = append(n.at, time.Now())
	return "k", nil
}
func (n *notes) Forget(context.Context, string) error { return nil }
func (n *notes) Intents(context.Context, func(string, int, time.Time, []employee.Intent)) error {
	return nil
}

// TestNoteComesRightBeforeItsCall: a hire whose organization must be
// listed first waits for the rate twice (the list, then synchronize); the
// note of its create is written once the synchronize call has its slot,
// right before it goes, so that the note's time bounds when the call can
// reach ChatHub (a worker that takes over waits out that time plus
// CHATHUB_TIMEOUT, then lists).
func TestNoteComesRightBeforeItsCall(t *testing.T) {
	t.Parallel()
	sim := chathubsim.New(token, map[int]string{24: "Support"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := chathub.NewClient(srv.URL, token, chathub.WithTimeout(5*time.Second), chathub.WithLimiter(&spaced{gap: 700 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	n := &notes{}
	e := chathub.NewExecutor(c, &claimBook{owner: map[int64]string{}}, chathub.ExecutorOptions{Intents: n, BatchMaxWait: time.Millisecond}, zerolog.Nop())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	got := make(chan employee.Answer, 1)
	e.Do(employee.Op{Kind: employee.Ensure, EmployeeID: "E1", Org: 24, Name: "Alex", To: employee.StatusActive, Fresh: true},
		func(a employee.Answer) { got <- a })
	if a := <-got; a.Err != nil {
		t.Fatal(a.Err)
	}
	arrivals := sim.Arrivals()
	if len(n.at) != 1 || len(arrivals) != 2 {
		t.Fatalf("%d notes and %d calls, want 1 and 2 (a list, then synchronize)", len(n.at), len(arrivals))
	}
	if lag := arrivals[1].Sub(n.at[0]); lag > 300*time.Millisecond {
		t.Errorf("the synchronize call reached ChatHub %s after its note, want right after it", lag.Round(time.Millisecond))
	}
}
