package main

import (
	"context"
	"fmt"
	"time"
)

// scaleFigures are row 9's: a first backlog of hires on an empty worker,
// then a larger one on the same worker, each with its rate and the
// child's peak RSS once it drained.
type scaleFigures struct {
	first, second         float64
	firstRSS, secondRSS   uint64
	firstN, secondN, orgs int
	// bytes per employee in the bucket's stream, per event in HR_EVENTS
	// and per result in HR_RESULTS, after both backlogs.
	kvPer, eventPer, resultPer float64
}

// benchScale: one worker drains first hires over 4 organizations, then
// second more on top (organizations of (first+second)/4 operators, that
// many employees on record). Memory must not grow with the records, nor
// the cost per event.
func benchScale(ctx context.Context, first, second int) (scaleFigures, error) {
	f := scaleFigures{firstN: first, secondN: second, orgs: 4}
	w, c, col, done, err := startWorld(ctx)
	if err != nil {
		return f, err
	}
	defer done()
	drain := func(n, from int, prefix string) (float64, error) {
		events, ids := hires(n, prefix, from)
		// The publisher outpaces the worker several times over, so the
		// worker is the bottleneck from the first publish on.
		start := time.Now()
		if err := w.publishAll(ctx, events, ids, nil); err != nil {
			return 0, err
		}
		if err := col.wait(ctx, from+n, 10*time.Minute); err != nil {
			return 0, err
		}
		return float64(n) / col.last().Sub(start).Seconds(), nil
	}
	if f.first, err = drain(first, 0, "a"); err != nil {
		return f, err
	}
	f.firstRSS = c.peakRSS()
	if f.second, err = drain(second, first, "b"); err != nil {
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
	sc, err := benchScale(ctx, s.scaleFirst, s.scaleSecond)
	if err != nil {
		return err
	}
	add(row{"9a scale: hires on an empty worker", rate(sc.first), fmt.Sprintf("%d hires; peak RSS %.1f MiB",
		sc.firstN, float64(sc.firstRSS)/(1<<20))})
	add(row{"9b scale: then more on the same worker", rate(sc.second), fmt.Sprintf(
		"%d hires, %d on record, organizations of %d operators; %.2fx 9a's rate (target 0.8); peak RSS %.1f MiB (target 64); "+
			"disk: %.0f B per employee in the bucket, %.0f B per event, %.0f B per result",
		sc.secondN, sc.firstN+sc.secondN, (sc.firstN+sc.secondN)/sc.orgs, sc.second/sc.first, float64(sc.secondRSS)/(1<<20),
		sc.kvPer, sc.eventPer, sc.resultPer)})
	return nil
}
