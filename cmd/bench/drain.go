package main

import (
	"context"
	"fmt"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

type drainFigures struct {
	took, min time.Duration
	// first is when the first call came, from the workers' start.
	first            time.Duration
	calls, throttled int
	maxPerSecond     int
}

// drain is one rate-limited drain: the backlog, the replicas, and how
// long ChatHub takes to answer (evenly between latency and latencyMax).
type drain struct {
	hires, changes, replicas int
	latency, latencyMax      time.Duration
}

// benchDrain: ChatHub takes 20 calls a second and answers 429 beyond; a
// backlog of hires (one organization) and leave starts (for employees
// hired before) is drained.
func benchDrain(ctx context.Context, d drain) (drainFigures, error) {
	hires, changes, replicas := d.hires, d.changes, d.replicas
	var f drainFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	// Employees to change, hired before the backlog.
	var before []event
	var ids []string
	for i := range changes {
		e := event{id: fmt.Sprint("b", i), kind: "hired", employee: fmt.Sprint("E", i), name: fmt.Sprint("Person ", i), org: 1, at: t0}
		before, ids = append(before, e), append(ids, e.id)
	}
	setup, err := startWorker(w)
	if err != nil {
		return f, err
	}
	col, err := w.collect(ctx)
	if err != nil {
		return f, err
	}
	defer col.stop()
	if err := w.publishAll(ctx, before, ids, nil); err != nil {
		return f, err
	}
	if err := col.wait(ctx, changes, time.Minute); err != nil {
		return f, err
	}
	if err := setup.stop(); err != nil {
		return f, err
	}
	var backlog []event
	ids = nil
	for i := range hires {
		e := event{id: fmt.Sprint("n", i), kind: "hired", employee: fmt.Sprint("N", i), name: fmt.Sprint("Newcomer ", i), org: 2, at: t0}
		backlog, ids = append(backlog, e), append(ids, e.id)
	}
	for i := range changes {
		e := event{id: fmt.Sprint("l", i), kind: "leave_started", employee: fmt.Sprint("E", i), org: 1, at: t0.Add(time.Hour)}
		backlog, ids = append(backlog, e), append(ids, e.id)
	}
	if err := w.publishAll(ctx, backlog, ids, nil); err != nil {
		return f, err
	}
	// The setup's own calls must be out of the simulator's one-second
	// window before it starts to enforce the limit.
	if arr := w.sim.Arrivals(); len(arr) > 0 {
		time.Sleep(time.Until(arr[len(arr)-1].Add(time.Second)))
	}
	callsBefore := w.sim.Counters()
	arrivalsBefore := len(w.sim.Arrivals())
	w.sim.SetFaults(chathubsim.Faults{RateLimit: 20, RateLimitSlack: 20 * time.Millisecond, Latency: d.latency, LatencyMax: d.latencyMax})
	start := time.Now()
	for range replicas {
		c, err := startWorker(w, "CHATHUB_RATE_LIMIT=20")
		if err != nil {
			return f, err
		}
		defer c.stop()
	}
	if err := col.wait(ctx, changes+len(backlog), 5*time.Minute); err != nil {
		return f, err
	}
	f.took = col.last().Sub(start)
	after := w.sim.Counters()
	for k, v := range after.Calls {
		f.calls += v - callsBefore.Calls[k]
	}
	f.throttled = after.Throttled - callsBefore.Throttled
	arrivals := w.sim.Arrivals()[arrivalsBefore:]
	f.maxPerSecond = chathubsim.MaxInWindow(arrivals, time.Second)
	if len(arrivals) > 0 {
		f.first = arrivals[0].Sub(start)
	}
	// The fewest calls: one list and one synchronize per 100 hires, one
	// status call per change.
	minCalls := changes
	if hires > 0 {
		minCalls += 1 + (hires+99)/100
	}
	f.min = time.Duration(minCalls) * time.Second / 20
	return f, nil
}
