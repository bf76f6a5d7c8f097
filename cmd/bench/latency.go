package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

type idleFigures struct{ p50, p99 time.Duration }

// benchIdle: single events, each published once the previous result came.
func benchIdle(ctx context.Context, n int) (idleFigures, error) {
	var f idleFigures
	w, _, col, done, err := startWorld(ctx)
	if err != nil {
		return f, err
	}
	defer done()
	var sent sync.Map
	for i := range n {
		e := event{id: fmt.Sprint("i", i), kind: "hired", employee: fmt.Sprint("E", i), name: fmt.Sprint("Person ", i), org: 1 + i%4, at: t0}
		if err := w.publishAll(ctx, []event{e}, []string{e.id}, &sent); err != nil {
			return f, err
		}
		if err := col.wait(ctx, i+1, 30*time.Second); err != nil {
			return f, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.p50, f.p99 = percentiles(col.latencies(&sent))
	return f, nil
}

// benchWaiting: hires due now, published at a steady pace, in a world
// where waiting changes dated a week ahead sit in the records (and their
// wake-ups in the schedules), and in one without.
func benchWaiting(ctx context.Context, waiting, n int) (without, with idleFigures, err error) {
	for _, k := range []int{0, waiting} {
		f, err := paced(ctx, k, n)
		if err != nil {
			return without, with, err
		}
		if k == 0 {
			without = f
		} else {
			with = f
		}
	}
	return without, with, nil
}

// paced runs one world of benchWaiting.
func paced(ctx context.Context, waiting, n int) (idleFigures, error) {
	var f idleFigures
	w, _, col, done, err := startWorld(ctx)
	if err != nil {
		return f, err
	}
	defer done()
	if waiting > 0 {
		week := time.Now().Add(7 * 24 * time.Hour)
		later, ids := make([]event, waiting), make([]string, waiting)
		for i := range later {
			later[i] = event{id: fmt.Sprint("w", i), kind: "hired", employee: fmt.Sprint("W", i), name: fmt.Sprint("Starter ", i), org: 1 + i%4, at: week}
			ids[i] = later[i].id
		}
		if err := w.publishAll(ctx, later, ids, nil); err != nil {
			return f, err
		}
		if err := w.waitStream(ctx, "CHATHUB_SCHEDULES", uint64(waiting)); err != nil {
			return f, err
		}
	}
	var sent sync.Map
	tick := time.NewTicker(2 * time.Millisecond) // 500 a second
	defer tick.Stop()
	for i := range n {
		<-tick.C
		e := event{id: fmt.Sprint("n", i), kind: "hired", employee: fmt.Sprint("N", i), name: fmt.Sprint("Newcomer ", i), org: 1 + i%4, at: t0}
		if err := w.publishAll(ctx, []event{e}, []string{e.id}, &sent); err != nil {
			return f, err
		}
	}
	if err := col.wait(ctx, n, time.Minute); err != nil {
		return f, err
	}
	f.p50, f.p99 = percentiles(col.latencies(&sent))
	return f, nil
}

// benchScheduledLag: n hires dated two to four seconds ahead, spread
// evenly; the lag of each is when ChatHub created its operator less the
// time the event is dated.
func benchScheduledLag(ctx context.Context, n int) (idleFigures, time.Duration, error) {
	var f idleFigures
	w, _, col, done, err := startWorld(ctx)
	if err != nil {
		return f, 0, err
	}
	defer done()
	start := time.Now().Add(2 * time.Second)
	due := map[string]time.Time{}
	events, ids := make([]event, n), make([]string, n)
	for i := range events {
		at := start.Add(time.Duration(i) * 2 * time.Second / time.Duration(n))
		events[i] = event{id: fmt.Sprint("s", i), kind: "hired", employee: fmt.Sprint("S", i), name: fmt.Sprint("Starter ", i), org: 1 + i%4, at: at}
		ids[i], due[events[i].name] = events[i].id, at
	}
	if err := w.publishAll(ctx, events, ids, nil); err != nil {
		return f, 0, err
	}
	if err := col.wait(ctx, n, time.Minute); err != nil {
		return f, 0, err
	}
	var lags []time.Duration
	early := time.Duration(0)
	for _, ch := range w.sim.Changes() {
		if at, ok := due[ch.Name]; ok && ch.Created {
			lags = append(lags, ch.At.Sub(at))
			early = min(early, ch.At.Sub(at))
		}
	}
	if len(lags) != n {
		return f, 0, fmt.Errorf("%d of %d scheduled hires reached ChatHub", len(lags), n)
	}
	f.p50, f.p99 = percentiles(lags)
	return f, -early, nil
}
