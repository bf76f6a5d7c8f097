package broker

import (
	"fmt"
	"sync/atomic"
	"time"
)

// idleBeat is how often an idle loop shows it is alive.
const idleBeat = 5 * time.Second

// Beat records when a loop last made progress.
type Beat struct{ last atomic.Int64 }

// Now records progress.
func (b *Beat) Now() { b.last.Store(time.Now().UnixNano()) }

// Alive says whether the loop made progress within limit.
func (b *Beat) Alive(limit time.Duration) error {
	last := b.last.Load()
	if last == 0 {
		return nil // not started yet
	}
	if since := time.Since(time.Unix(0, last)); since > limit {
		return fmt.Errorf("no progress for %s", since.Round(time.Second))
	}
	return nil
}
