package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

type mixedFigures struct {
	rate            float64
	events          int
	calls, minCalls int
	peakRSS         uint64
}

// benchMixed: life stories of n/4 employees, shuffled, 5% published twice.
func benchMixed(ctx context.Context, n int) (mixedFigures, error) {
	var f mixedFigures
	w, err := newWorld(ctx)
	if err != nil {
		return f, err
	}
	defer w.close()
	rng := rand.New(rand.NewPCG(5, 5))
	kinds := []string{"hired", "leave_started", "leave_ended", "terminated"}
	var events []event
	final := map[string]string{}
	org := map[string]int{}
	for i := 0; len(events) < n; i++ {
		emp := fmt.Sprint("E", i)
		org[emp] = 1 + i%4
		state, at := "none", t0
		for j := range 1 + rng.IntN(6) {
			kind := kinds[rng.IntN(4)]
			if j == 0 {
				kind = "hired"
			}
			at = at.Add(time.Duration(1+rng.IntN(3)) * time.Hour)
			events = append(events, event{id: fmt.Sprintf("m%d-%d", i, j), kind: kind, employee: emp, name: "Person " + emp, org: org[emp], at: at})
			switch {
			case kind == "hired":
				state = "active"
			case state == "none" || state == "terminated":
			case kind == "leave_started":
				state = "leave"
			case kind == "leave_ended":
				state = "active"
			default:
				state = "terminated"
			}
		}
		final[emp] = state
	}
	// The lower bound: one list and one synchronize per 100 employees who
	// end with an operator, per organization, and one status call per
	// employee on leave.
	needOp := map[int]int{}
	for emp, s := range final {
		if s == "active" || s == "leave" {
			needOp[org[emp]]++
		}
		if s == "leave" {
			f.minCalls++
		}
	}
	for _, k := range needOp {
		f.minCalls += 1 + (k+99)/100
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	var pub []event
	var ids []string
	for i, e := range events {
		pub, ids = append(pub, e), append(ids, e.id)
		if i%20 == 0 {
			pub, ids = append(pub, e), append(ids, e.id+"#dup")
		}
	}
	f.events = len(pub)
	c, col, err := startWithResults(ctx, w)
	if err != nil {
		return f, err
	}
	defer c.stop()
	defer col.stop()
	start := time.Now()
	if err := w.publishAll(ctx, pub, ids, nil); err != nil {
		return f, err
	}
	if err := col.wait(ctx, len(events), 5*time.Minute); err != nil {
		return f, err
	}
	f.rate = float64(len(pub)) / col.last().Sub(start).Seconds()
	for _, k := range w.sim.Counters().Calls {
		f.calls += k
	}
	f.peakRSS = c.peakRSS()
	return f, nil
}
