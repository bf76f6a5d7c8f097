package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

type workerFigures struct {
	// rate is results per second; intake is events the intake took in
	// (recorded and acknowledged) per second, from the same start.
	rate, intake, pace float64
	// writes and deliveries are the broker's, per hire of the backlog.
	writes, deliveries float64
	syncCalls, minSync int
	peakRSS            uint64
	p50, p99           time.Duration
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)]
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// benchWorkerHires: a backlog of n hires over 4 organizations, drained
// from the worker's start (as the ceilings drain theirs); then latency
// under a steady load of a quarter of that throughput for two seconds.
func benchWorkerHires(ctx context.Context, n int) (workerFigures, error) {
	var f workerFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	events, ids := hires(n, "h", 0)
	f.minSync = minSync(events)
	if err := w.publishAll(ctx, events, ids, nil); err != nil {
		return f, err
	}
	start := time.Now()
	c, col, err := startWithResults(ctx, w)
	if err != nil {
		return f, err
	}
	defer c.stop()
	defer col.stop()
	took, err := w.intakeDone(ctx, uint64(n))
	if err != nil {
		return f, err
	}
	f.intake = float64(n) / took.Sub(start).Seconds()
	if err := col.wait(ctx, n, 5*time.Minute); err != nil {
		return f, err
	}
	f.rate = float64(n) / col.last().Sub(start).Seconds()
	writes, deliveries, err := w.brokerOps(ctx)
	if err != nil {
		return f, err
	}
	// The collector's own consumer is the bench's, not the worker's.
	f.writes, f.deliveries = float64(writes)/float64(n), float64(deliveries-uint64(n))/float64(n)
	f.syncCalls = w.sim.Counters().Calls["synchronize"]
	f.peakRSS = c.peakRSS()

	// Steady load: events published at a fixed pace, each timed.
	pace := max(f.rate/4, 100)
	load := int(2 * pace)
	more, moreIDs := hires(load, "p", n)
	var sent sync.Map
	tick := time.NewTicker(time.Duration(float64(time.Second) / pace))
	defer tick.Stop()
	for i := range more {
		<-tick.C
		if err := w.publishAll(ctx, more[i:i+1], moreIDs[i:i+1], &sent); err != nil {
			return f, err
		}
	}
	if err := col.wait(ctx, n+load, time.Minute); err != nil {
		return f, err
	}
	f.pace = pace
	f.p50, f.p99 = percentiles(col.latencies(&sent))
	return f, nil
}

// minSync is the fewest synchronize calls the hires need: one per 100 of
// an organization.
func minSync(events []event) int {
	perOrg := map[int]int{}
	for _, e := range events {
		perOrg[e.org]++
	}
	n := 0
	for _, k := range perOrg {
		n += (k + 99) / 100
	}
	return n
}

// hires makes n hire events over 4 organizations, ids prefixed, employees
// numbered from first.
func hires(n int, prefix string, first int) ([]event, []string) {
	events := make([]event, n)
	ids := make([]string, n)
	for i := range events {
		k := first + i
		events[i] = event{id: fmt.Sprint(prefix, k), kind: "hired", employee: fmt.Sprint("E", k), name: fmt.Sprint("Person ", k), org: 1 + k%4, at: t0}
		ids[i] = events[i].id
	}
	return events, ids
}
