package main

import (
	"context"
	"fmt"
	"time"
)

// scaleFigures are row 9's: a first backlog of hires on an empty worker,
// then a larger one on the same worker, each with its rate, the child's
// peak RSS once it drained, and ChatHub's list calls per synchronize
// call.
type scaleFigures struct {
	first, second         float64
	firstRSS, secondRSS   uint64
	firstN, secondN, orgs int
	// listsFirst and listsSecond are list calls per synchronize call.
	listsFirst, listsSecond float64
	// bytes per employee in the bucket's stream, per event in HR_EVENTS
	// and per result in HR_RESULTS, after both backlogs.
	kvPer, eventPer, resultPer float64
}

// benchScale: one worker drains first hires over orgs organizations, then
// second more on top (organizations of (first+second)/orgs operators,
// that many employees on record). Memory must not grow with the records
// or the organizations' size, nor the cost per event.
func benchScale(ctx context.Context, first, second, orgs int) (scaleFigures, error) {
	f := scaleFigures{firstN: first, secondN: second, orgs: orgs}
	w, c, col, done, err := startWorld(ctx)
	if err != nil {
		return f, err
	}
	defer done()
	drain := func(n, from int, prefix string) (float64, float64, error) {
		events, ids := hires(n, prefix, from)
		for i := range events {
			events[i].org = 1 + (from+i)%orgs
		}
		before := w.sim.Counters().Calls
		// The publisher outpaces the worker several times over, so the
		// worker is the bottleneck from the first publish on.
		start := time.Now()
		if err := w.publishAll(ctx, events, ids, nil); err != nil {
			return 0, 0, err
		}
		if err := col.wait(ctx, from+n, 30*time.Minute); err != nil {
			return 0, 0, err
		}
		after := w.sim.Counters().Calls
		lists := float64(after["list"]-before["list"]) / float64(max(after["synchronize"]-before["synchronize"], 1))
		return float64(n) / col.last().Sub(start).Seconds(), lists, nil
	}
	if f.first, f.listsFirst, err = drain(first, 0, "a"); err != nil {
		return f, err
	}
	f.firstRSS = c.peakRSS()
	if f.second, f.listsSecond, err = drain(second, first, "b"); err != nil {
		return f, err
	}
	f.secondRSS = c.peakRSS()
	n := float64(first + second)
	for stream, per := range map[string]*float64{"KV_chathub-operator-worker": &f.kvPer, "HR_EVENTS": &f.eventPer, "HR_RESULTS": &f.resultPer} {
		s, err := w.js.Stream(ctx, stream)
		if err != nil {
			return f, err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return f, err
		}
		*per = float64(info.State.Bytes) / n
	}
	return f, nil
}

func scaleRow(ctx context.Context, s sizes, add func(row)) error {
	for _, run := range []struct{ second, orgs int }{{s.scaleSecond, 4}, {s.scaleOne, 1}} {
		if run.second <= 0 {
			continue
		}
		sc, err := benchScale(ctx, s.scaleFirst, run.second, run.orgs)
		if err != nil {
			return err
		}
		first, second := "9a scale: hires on an empty worker", "9b scale: then more on the same worker"
		if run.orgs == 1 {
			first, second = "9c scale: one organization, first hires", "9c scale: then more into it"
		}
		add(row{first, rate(sc.first), fmt.Sprintf("%d hires over %d organization(s); peak RSS %.1f MiB; %.2f list calls per synchronize call",
			sc.firstN, sc.orgs, float64(sc.firstRSS)/(1<<20), sc.listsFirst)})
		add(row{second, rate(sc.second), fmt.Sprintf(
			"%d hires, %d on record, organizations of %d operators; %.2fx the first's rate (target 0.8); peak RSS %.1f MiB (target 64); "+
				"%.3f list calls per synchronize call; disk: %.0f B per employee in the bucket, %.0f B per event, %.0f B per result",
			sc.secondN, sc.firstN+sc.secondN, (sc.firstN+sc.secondN)/sc.orgs, sc.second/sc.first, float64(sc.secondRSS)/(1<<20),
			sc.listsSecond, sc.kvPer, sc.eventPer, sc.resultPer)})
	}
	return nil
}
