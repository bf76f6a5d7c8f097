package app_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestQuietStreamWaitsForNothing: on a quiet stream an event's result
// comes without waiting for a batch to fill (BATCH_MAX_WAIT) or for
// changes that are not there, here set far beyond the test's deadlines.
func TestQuietStreamWaitsForNothing(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config(func(c *config.Config) { c.BatchMaxWait = 10 * time.Minute }))
	for i := range 20 {
		// One at a time, each once the previous result is in.
		h.PublishEvent(hire(i, 24+i%2))
		h.WaitResults(i+1, time.Minute)
	}
	assertNoneFailed(t, h.Results())
}

// TestSteadyFlowGetsResultsAsItFlows: under a steady flow of events (the
// intake always has a batch in hand) results come while the flow goes on,
// not once it stops; a few hires in it, too few to fill a synchronize
// call, wait at most BATCH_MAX_WAIT for more, not for the flow to end; and
// ChatHub ends where the last events say.
func TestSteadyFlowGetsResultsAsItFlows(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	stories := make([]story, 20)
	var hires []testenv.Event
	for i := range stories {
		e := hire(i, 24)
		stories[i] = story{employee: e.Employee, name: e.Name, org: e.Org, events: []testenv.Event{e}}
		hires = append(hires, e)
	}
	h.PublishAsync(hires)
	h.Start(h.Config())
	h.WaitResults(len(hires), time.Minute)

	// Leaves start and end, for the same twenty employees, about 500 a
	// second, until the first of their results is in or for 20 s (the
	// longest a hold could last is 30 s).
	stop, done := make(chan struct{}), make(chan struct{})
	var published atomic.Int64
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		limit := time.After(20 * time.Second)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-limit:
				return
			case <-tick.C:
			}
			s := &stories[i%len(stories)]
			kind := []string{"leave_started", "leave_ended"}[i/len(stories)%2]
			e := testenv.Event{ID: fmt.Sprintf("flow-%d", i), Kind: kind, Employee: s.employee, Org: s.org,
				At: t0.Add(time.Duration(i+1) * time.Minute)}
			s.events = append(s.events, e)
			h.PublishEvent(e)
			published.Add(1)
		}
	}()
	stopFlow := sync.OnceFunc(func() {
		close(stop)
		<-done
	})
	defer stopFlow()
	var late []testenv.Event
	for i := range 5 {
		e := hire(100+i, 25)
		late = append(late, e)
		h.PublishEvent(e)
	}
	for {
		results := testenv.ByEventID(t, h.Results())
		hired := 0
		for _, e := range late {
			if _, ok := results[e.ID]; ok {
				hired++
			}
		}
		if len(results) > len(hires)+len(late) && hired == len(late) {
			break
		}
		select {
		case <-done:
			t.Fatalf("%d results while %d events flowed for 20 s, %d of the %d hires' among them: rounds or hires waited for the flow to stop",
				len(results), published.Load(), hired, len(late))
		case <-time.After(5 * time.Millisecond):
		}
	}
	stopFlow()
	for _, e := range late {
		stories = append(stories, story{employee: e.Employee, name: e.Name, org: e.Org, events: []testenv.Event{e}})
	}
	results := h.WaitResults(len(hires)+len(late)+int(published.Load()), time.Minute)
	assertNoneFailed(t, results)
	assertChatHub(t, h.Sim, stories)
}

// TestHireFlowFillsCalls: hires that flow in at a steady pace, about 200
// a second, wait up to BATCH_MAX_WAIT (here 1 s, five times what a call
// takes to fill) and fill their synchronize calls over several rounds,
// instead of each round sending the few it has.
func TestHireFlowFillsCalls(t *testing.T) {
	// Not parallel: it counts calls against the timing of a flow, which
	// the package's other tests would stretch.
	if testing.Short() {
		t.Skip("600 hires over 3 s")
	}
	h := testenv.New(t)
	h.Start(h.Config(func(c *config.Config) { c.BatchMaxWait = time.Second }))
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	const n = 600
	for i := range n {
		<-tick.C
		h.PublishEvent(hire(i, 24))
	}
	assertNoneFailed(t, h.WaitResults(n, time.Minute))
	c := h.Sim.Counters()
	t.Logf("%d hires at about 200/s: %d synchronize calls (minimum 6), batch sizes %v", n, c.Calls["synchronize"], c.BatchSizes)
	// 6 or 7 calls, 8 on a loaded machine; 59 before the hires waited
	// for their calls to fill.
	if c.Calls["synchronize"] > 9 {
		t.Errorf("%d synchronize calls, want at most 9", c.Calls["synchronize"])
	}
}
