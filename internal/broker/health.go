package broker

import (
	"fmt"
	"sync/atomic"
	"time"
)

// idleBeat is how often an idle loop shows it is alive.
const idleBeat = 5 * time.Second

// beat records when a loop last made progress.
type beat struct{ last atomic.Int64 }

func (b *beat) now() { b.last.Store(time.Now().UnixNano()) }

// alive says whether the loop made progress within limit.
func (b *beat) alive(name string, limit time.Duration) error {
	last := b.last.Load()
	if last == 0 {
		return nil // not started yet
	}
	if since := time.Since(time.Unix(0, last)); since > limit {
		return fmt.Errorf("the %s loop has made no progress for %s", name, since.Round(time.Second))
	}
	return nil
}
