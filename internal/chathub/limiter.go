package chathub

import (
	"context"
	"sync"
	"time"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
)

// Limiter paces ChatHub calls. Every call waits on it before it starts, and
// a 429 makes every caller hold off until ChatHub's Retry-After has passed.
// The worker shares one Limiter among all its calls; a deployment of several
// replicas can plug in one coordinated between them.
type Limiter interface {
	// Wait blocks until a call may start, or ctx is done.
	Wait(ctx context.Context) error
	// HoldUntil stops every call from starting before t.
	HoldUntil(t time.Time)
}

// DefaultRateMargin is how much the arrivals of calls at ChatHub may
// jitter (network, scheduling) without a one-second window there holding
// more than the rate limit: calls start (1 s + margin)/rps apart.
const DefaultRateMargin = 25 * time.Millisecond

// Interval is the gap between call starts for rps calls a second with
// margin for jitter: any rps+1 starts in a row span 1 s + margin.
func Interval(rps float64, margin time.Duration) time.Duration {
	if rps <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second+margin) / rps)
}

// Pacer is a Limiter that starts calls at least Interval apart, as the
// API docs' own throttle does. It never bursts, so no one-second window
// holds more than rps call starts.
//
// It measures the gap from the moment the previous call was let go, not
// from when it was scheduled: golang.org/x/time/rate schedules by
// reservation, so a caller that wakes a little late is followed by the next
// one less than 1/rps later, and a window then holds rps+1 calls.
type Pacer struct {
	interval time.Duration
	// turn admits one waiter at a time, so that the gap is kept between
	// actual starts.
	turn chan struct{}

	mu        sync.Mutex
	last      time.Time
	heldUntil time.Time
}

// NewPacer returns a Pacer for rps calls a second with margin for jitter
// (see Interval); rps <= 0 means no limit (a 429 still holds every caller
// back).
func NewPacer(rps float64, margin time.Duration) *Pacer {
	return &Pacer{turn: make(chan struct{}, 1), interval: Interval(rps, margin)}
}

// Wait blocks until the hold is over and at least 1/rps has passed since
// the previous call started.
func (p *Pacer) Wait(ctx context.Context) error {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.turn }()
	for {
		p.mu.Lock()
		at := p.heldUntil
		if p.interval > 0 && !p.last.IsZero() {
			at = later(at, p.last.Add(p.interval))
		}
		p.mu.Unlock()
		d := time.Until(at)
		if d <= 0 {
			break
		}
		// The hold may grow while this caller sleeps, so look again after.
		if err := ctxtime.Sleep(ctx, d); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.last = time.Now()
	p.mu.Unlock()
	return nil
}

// HoldUntil makes every caller wait until t; an earlier t than the current
// hold changes nothing.
func (p *Pacer) HoldUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heldUntil = later(p.heldUntil, t)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
