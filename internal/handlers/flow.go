package handlers

import (
	"sync/atomic"
	"time"
)

// flow tells whether events are still arriving, so that the hires of a
// flow fill their calls while a lone hire waits for nothing.
//
// A flow is batches closer together than flowGap, each arriving while the
// worker still handles earlier ones; events sent one at a time, each once
// the last one's result came, are no flow however close together. Outside
// a flow the stream is quiet once no batch came for quiet; in one, once
// none came for flowQuiet, four of its average gaps, or half as long
// again as its longest recent gap, so that a loaded machine that stretches a flow's
// gaps (a collection, a descheduled publisher) does not cut it into small
// calls. A longer gap while the worker is busy is such a hiccup, not the
// flow's end. One goroutine (the intake) calls arrived; any may call
// arriving.
type flow struct {
	// last is when the last batch came (Unix nanoseconds); gap is the
	// flow's average gap, 0 outside a flow; peak its longest recent gap,
	// fading.
	last, gap, peak atomic.Int64
}

const (
	// quiet is how long no event must have come for the stream to be
	// quiet outside a flow; flowQuiet inside one.
	quiet     = 10 * time.Millisecond
	flowQuiet = 30 * time.Millisecond
	// flowGap is the longest gap between batches that makes a flow;
	// maxHiccup the longest one a flow waits out.
	flowGap   = 50 * time.Millisecond
	maxHiccup = 100 * time.Millisecond
)

// arrived notes a batch that came at now; idle says the worker had
// nothing else in hand.
func (f *flow) arrived(now time.Time, idle bool) {
	g := now.UnixNano() - f.last.Swap(now.UnixNano())
	avg := f.gap.Load()
	switch {
	case idle:
		f.gap.Store(0)
		f.peak.Store(0)
		return
	case g >= int64(flowGap):
		// A hiccup in a flow, or no flow yet.
	case avg == 0:
		f.gap.Store(g)
	default:
		f.gap.Store((3*avg + g) / 4)
	}
	if f.gap.Load() > 0 && g < int64(maxHiccup) {
		f.peak.Store(max(g, f.peak.Load()*7/8))
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
	wait := quiet
	if avg := time.Duration(f.gap.Load()); avg > 0 {
		wait = max(flowQuiet, 4*avg, time.Duration(f.peak.Load())*3/2)
	}
	return time.Unix(0, f.last.Load()).Add(wait)
}
