package main

import (
	"context"
	"fmt"
	"time"
)

// Rows 4 to 8, each run and added to the table.

func waitingRow(ctx context.Context, s sizes, add func(row)) error {
	without, with, err := benchWaiting(ctx, s.waiting, s.paced)
	if err != nil {
		return fmt.Errorf("waiting changes: %w", err)
	}
	add(row{"7  due now beside waiting changes", fmt.Sprintf("p50 %.2fx", ratio(with.p50, without.p50)), fmt.Sprintf(
		"%d hires at 500/s with %d changes dated a week ahead waiting: p50 %s p99 %s; without them: p50 %s p99 %s (p99 %.2fx)",
		s.paced, s.waiting, with.p50.Round(100*time.Microsecond), with.p99.Round(100*time.Microsecond),
		without.p50.Round(100*time.Microsecond), without.p99.Round(100*time.Microsecond), ratio(with.p99, without.p99))})
	return nil
}

func lagRow(ctx context.Context, s sizes, add func(row)) error {
	lag, early, err := benchScheduledLag(ctx, s.scheduled)
	if err != nil {
		return fmt.Errorf("scheduled lag: %w", err)
	}
	add(row{"8  scheduled changes: lag", fmt.Sprintf("p99 %s", lag.p99.Round(time.Millisecond)), fmt.Sprintf(
		"%d hires dated 2-4 s ahead: ChatHub created them p50 %s, p99 %s after their time; earliest %s before it",
		s.scheduled, lag.p50.Round(time.Millisecond), lag.p99.Round(time.Millisecond), early.Round(time.Millisecond))})
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }

func mixedRow(ctx context.Context, s sizes, add func(row)) error {
	m, err := benchMixed(ctx, s.mixed)
	if err != nil {
		return fmt.Errorf("mixed: %w", err)
	}
	add(row{"4  worker: mixed, shuffled, 5% dup", rate(m.rate), fmt.Sprintf("%d events; ChatHub calls %d (lower bound %d, %.2fx); peak RSS %.1f MiB",
		m.events, m.calls, m.minCalls, float64(m.calls)/float64(max(m.minCalls, 1)), float64(m.peakRSS)/(1<<20))})

	return nil
}

func drainRow(ctx context.Context, s sizes, add func(row)) error {
	for _, replicas := range []int{1, 3} {
		d, err := benchDrain(ctx, drain{hires: s.drainHire, changes: s.drainStat, replicas: replicas})
		if err != nil {
			return fmt.Errorf("rate-limited drain: %w", err)
		}
		add(row{fmt.Sprintf("5  rate-limited drain, %d worker(s)", replicas), d.took.Round(10 * time.Millisecond).String(), fmt.Sprintf(
			"ChatHub 20/s; %d hires + %d status changes: %d calls, minimum %s (%.2fx); 429s received %d; most calls in one second %d",
			s.drainHire, s.drainStat, d.calls, d.min.Round(10*time.Millisecond), d.took.Seconds()/d.min.Seconds(), d.throttled, d.maxPerSecond)})
	}

	return nil
}

func idleRow(ctx context.Context, s sizes, add func(row)) error {
	idle, err := benchIdle(ctx, s.idle)
	if err != nil {
		return fmt.Errorf("idle latency: %w", err)
	}
	add(row{"6  idle latency", fmt.Sprintf("p50 %s", idle.p50.Round(100*time.Microsecond)), fmt.Sprintf(
		"p99 %s over %d single events, BATCH_MAX_WAIT 200ms", idle.p99.Round(100*time.Microsecond), s.idle)})
	return nil
}

func rate(perSecond float64) string { return fmt.Sprintf("%.0f events/s", perSecond) }
