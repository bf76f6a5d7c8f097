package employee

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Policy is how transient trouble is retried: with jittered exponential
// backoff from Base, doubling up to Max, until attempt MaxAttempts fails
// the events for good.
type Policy struct {
	MaxAttempts int
	Base, Max   time.Duration
}

// DefaultPolicy outlasts an hour of ChatHub outage: 40 attempts from 1 s
// doubling to 5 minutes span about 2.7 hours.
var DefaultPolicy = Policy{MaxAttempts: 40, Base: time.Second, Max: 5 * time.Minute}

// Backoff is the jittered delay after attempt n (from 1).
func (p Policy) Backoff(n int) time.Duration {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.Base,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         p.Max,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	d := b.NextBackOff()
	for i := 1; i < n && d < p.Max; i++ {
		d = b.NextBackOff()
	}
	return d
}
