package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
)

// TestTimerLoopLetsGoOfAQueuedSlot: a slot waiting for a time that is
// made ready meanwhile (a wake-up came) and whose time then comes before
// a look takes it leaves the timers: the timer loop neither puts it back
// nor spins on it with the queue locked (it did, and the worker stopped).
func TestTimerLoopLetsGoOfAQueuedSlot(t *testing.T) {
	q := newQueue(Config{LooksMax: 1})
	q.mu.Lock()
	s := q.slot("E-1")
	s.at = time.Now().Add(5 * time.Millisecond)
	q.poke(s, time.Now())
	q.mu.Unlock()
	q.trigger("E-1", nil, false)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); q.timerLoop(ctx) }()
	off := await.Within(5*time.Second, func() bool {
		if !q.mu.TryLock() {
			return false
		}
		defer q.mu.Unlock()
		return q.timers.Len() == 0
	})
	cancel()
	if !off {
		t.Fatal("the slot stayed on the timers after its time came, or the timer loop kept the queue locked")
	}
	<-done
	if got := q.next(t.Context()); got != s {
		t.Errorf("next gave %v, want the slot", got)
	}
}

// TestPausedSlotWaitsOutItsPause: a slot pausing after trouble (its record
// could not be read) is not made ready by a wake-up before its pause ends;
// and once the looks' context is done, next hands out nothing, however
// much is ready (a lead that ended looped over its slots, logging, for
// ever).
func TestPausedSlotWaitsOutItsPause(t *testing.T) {
	q := newQueue(Config{LooksMax: 1})
	q.mu.Lock()
	s := q.slot("E-1")
	s.at = time.Now().Add(time.Hour)
	q.mu.Unlock()
	q.trigger("E-1", nil, false)
	q.mu.Lock()
	ready := s.queued
	q.mu.Unlock()
	if ready {
		t.Error("a wake-up made a pausing slot ready before its pause ended")
	}
	q.mu.Lock()
	s.at = time.Time{}
	q.poke(s, time.Now())
	q.mu.Unlock()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := q.next(ctx); got != nil {
		t.Error("next handed out a slot after the looks' context ended")
	}
}
