// Package ctxtime waits for a duration the way every loop of the worker
// must: until the time has passed or its context is done, whichever comes
// first, with no timer left behind.
package ctxtime

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx is done (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
