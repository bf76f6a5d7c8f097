package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

// Rows 10 to 12: ChatHub's rate is the limit, as in production.

func slowRow(ctx context.Context, s sizes, add func(row)) error {
	d, err := benchDrain(ctx, drain{changes: s.slow, replicas: 1, latency: 400 * time.Millisecond, latencyMax: 900 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("slow ChatHub: %w", err)
	}
	add(row{"10 slow ChatHub: status drain", fmt.Sprintf("%.2fx", d.took.Seconds()/d.min.Seconds()), fmt.Sprintf(
		"ChatHub answers in 400-900 ms, 20 calls/s; %d status changes: %s, minimum %s; first call %s after the worker's start; %d calls; "+
			"429s received %d; most calls in one second %d",
		s.slow, d.took.Round(10*time.Millisecond), d.min.Round(10*time.Millisecond), d.first.Round(10*time.Millisecond), d.calls,
		d.throttled, d.maxPerSecond)})
	return nil
}

func priorityRow(ctx context.Context, s sizes, add func(row)) error {
	f, err := benchPriority(ctx, s.waitingHires, s.terminations)
	if err != nil {
		return fmt.Errorf("priority: %w", err)
	}
	add(row{"11 terminations behind hires", fmt.Sprintf("max %s", f.max.Round(10*time.Millisecond)), fmt.Sprintf(
		"CHATHUB_RATE_LIMIT=5; %d hires waiting, then %d terminations: their results p50 %s, p99 %s, max %s after their publish (target 30s)",
		s.waitingHires, s.terminations, f.p50.Round(10*time.Millisecond), f.p99.Round(10*time.Millisecond), f.max.Round(10*time.Millisecond))})
	return nil
}

func burstRow(ctx context.Context, s sizes, add func(row)) error {
	calls, minCalls, took, err := benchBurst(ctx, s.burst)
	if err != nil {
		return fmt.Errorf("burst at rate 5: %w", err)
	}
	add(row{"12 hire burst at rate 5", fmt.Sprintf("%.3fx", float64(calls)/float64(minCalls)), fmt.Sprintf(
		"CHATHUB_RATE_LIMIT=5; %d hires over 4 organizations: %d synchronize calls (min %d) in %s",
		s.burst, calls, minCalls, took.Round(100*time.Millisecond))})
	return nil
}

type tailFigures struct{ p50, p99, max time.Duration }

// benchPriority: employees hired before; then, with ChatHub at 5 calls a
// second, a wave of hires is published and their terminations after it.
// It measures how long after its publish each termination's result came.
func benchPriority(ctx context.Context, wave, terms int) (tailFigures, error) {
	var f tailFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	setup, col, err := startWithResults(ctx, w)
	if err != nil {
		return f, err
	}
	defer col.stop()
	staff, ids := hires(terms, "s", 0)
	if err := w.publishAll(ctx, staff, ids, nil); err != nil {
		return f, err
	}
	if err := col.wait(ctx, terms, time.Minute); err != nil {
		return f, err
	}
	if err := setup.stop(); err != nil {
		return f, err
	}
	w.sim.SetFaults(chathubsim.Faults{RateLimit: 5, RateLimitSlack: 20 * time.Millisecond})
	c, err := startWorker(w, "CHATHUB_RATE_LIMIT=5")
	if err != nil {
		return f, err
	}
	defer c.stop()
	waves, waveIDs := hires(wave, "w", terms)
	if err := w.publishAll(ctx, waves, waveIDs, nil); err != nil {
		return f, err
	}
	var leave []event
	var leaveIDs []string
	for i := range terms {
		e := event{id: fmt.Sprint("t", i), kind: "terminated", employee: fmt.Sprint("E", i), org: 1 + i%4, at: t0.Add(time.Hour)}
		leave, leaveIDs = append(leave, e), append(leaveIDs, e.id)
	}
	var sent sync.Map
	if err := w.publishAll(ctx, leave, leaveIDs, &sent); err != nil {
		return f, err
	}
	// Wait for the terminations' results, not for the wave.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		lat := col.latencies(&sent)
		if len(lat) == terms {
			f.p50, f.p99 = percentiles(lat)
			f.max = lat[len(lat)-1]
			return f, nil
		}
		if time.Now().After(deadline) {
			return f, fmt.Errorf("%d of %d terminations had results after 3 minutes", len(lat), terms)
		}
		select {
		case <-ctx.Done():
			return f, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// benchBurst: a backlog of n hires drained at ChatHub's default rate.
func benchBurst(ctx context.Context, n int) (calls, minCalls int, took time.Duration, err error) {
	w, err := newWorld(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer w.close()
	events, ids := hires(n, "h", 0)
	minCalls = minSync(events)
	if err := w.publishAll(ctx, events, ids, nil); err != nil {
		return 0, 0, 0, err
	}
	w.sim.SetFaults(chathubsim.Faults{RateLimit: 5, RateLimitSlack: 20 * time.Millisecond})
	start := time.Now()
	c, err := startWorker(w, "CHATHUB_RATE_LIMIT=5")
	if err != nil {
		return 0, 0, 0, err
	}
	defer c.stop()
	col, err := w.collect(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer col.stop()
	if err := col.wait(ctx, n, 10*time.Minute); err != nil {
		return 0, 0, 0, err
	}
	return w.sim.Counters().Calls["synchronize"], minCalls, col.last().Sub(start), nil
}
