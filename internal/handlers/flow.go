package handlers

import (
	"sync/atomic"
	"time"
)

// flow tells whether events are still arriving, so that the hires of a
// flow fill their calls while a lone hire waits for nothing.
//
// The stream is quiet once no batch came for quiet; in a flow (batches
// closer together than flowGap, each arriving while the worker still
// handles earlier ones), once none came for four of its recent gaps, so
// that a loaded machine that stretches a flow's gaps does not cut it into
// small calls. Events sent one at a time, each once the last one's result
// came, are no flow however close together. One goroutine (the intake)
// calls arrived; any may call arriving.
type flow struct {
	// last is when the last batch came (Unix nanoseconds); gap is the
	// flow's average gap, 0 outside a flow.
	last, gap atomic.Int64
}

const (
	// quiet is how long no event must have come for the stream to be
	// quiet outside a flow.
	quiet = 10 * time.Millisecond
	// flowGap is the longest gap between batches of one flow.
	flowGap = 50 * time.Millisecond
)

// arrived notes a batch that came at now; idle says the worker had
// nothing else in hand.
func (f *flow) arrived(now time.Time, idle bool) {
	g := now.UnixNano() - f.last.Swap(now.UnixNano())
	switch avg := f.gap.Load(); {
	case idle || g >= int64(flowGap):
		f.gap.Store(0)
	case avg == 0:
		f.gap.Store(g)
	default:
		f.gap.Store((3*avg + g) / 4)
	}
}

// arriving says whether more events are likely to come soon after now.
func (f *flow) arriving(now time.Time) bool { return f.quietAt().After(now) }

// flowing says whether events came as a flow and may still be coming at
// now, and until when.
func (f *flow) flowing(now time.Time) (time.Time, bool) {
	at := f.quietAt()
	return at, f.gap.Load() > 0 && at.After(now)
}

// quietAt is when the stream is quiet if nothing more comes.
func (f *flow) quietAt() time.Time {
	return time.Unix(0, f.last.Load()).Add(max(quiet, 4*time.Duration(f.gap.Load())))
}
